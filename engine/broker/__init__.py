"""engine/broker."""
