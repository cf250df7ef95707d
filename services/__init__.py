"""The three omniroute services: channels, router and agents."""
