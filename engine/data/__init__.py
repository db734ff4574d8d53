"""engine/data."""
