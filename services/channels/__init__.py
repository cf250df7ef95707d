"""Channels: provider webhooks in, normalised MessageReceived events out; outbound delivery."""
