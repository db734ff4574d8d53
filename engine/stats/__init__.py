"""engine/stats."""
