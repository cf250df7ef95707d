"""Agents: REST API for agent desktops and ops, the read model, statistics, the chatbot."""
