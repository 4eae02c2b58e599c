"""Every state change of the investment loop (see leads, projects, work)."""
