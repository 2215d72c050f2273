"""ipcc ivr package."""
