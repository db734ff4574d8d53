"""engine/portfolio."""
