"""The project's own contracts and helpers, shared by the three services."""
