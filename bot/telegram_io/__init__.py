"""Talking to the Bot API: the HTTP transport, sending rendered messages, update lanes."""
