"""ipcc acd package."""
