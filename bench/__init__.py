"""Benchmarks: the bot side by side with a bare python-telegram-bot baseline."""
