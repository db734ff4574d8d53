"""engine/risk."""
