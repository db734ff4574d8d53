"""Risk: kill switches (and the regime filter in its own module)."""
