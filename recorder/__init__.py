"""ipcc recorder package."""
