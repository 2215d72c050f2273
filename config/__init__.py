"""ipcc config package."""
