"""A Telegram bot that serializes one Chinese news article."""
