"""engine/bus."""
