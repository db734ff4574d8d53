"""The eight pre-live gates, their registry, runner, drills and governance."""
