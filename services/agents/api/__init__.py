"""REST API under /v1/ for agent desktops, supervisors and admins."""
