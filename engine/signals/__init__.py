"""engine/signals."""
