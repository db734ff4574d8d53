"""artifacts/models."""
