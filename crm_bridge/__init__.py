"""ipcc crm_bridge package."""
