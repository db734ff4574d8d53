"""Small shared helpers of the engine (no heavy dependencies)."""
