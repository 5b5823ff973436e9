"""Flood control: Telegram's limits kept for every message, in one process or shared in Redis."""
