"""ipcc agent_ui package."""
