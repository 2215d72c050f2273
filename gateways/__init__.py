"""ipcc gateways package."""
