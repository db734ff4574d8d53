"""engine/planes."""
