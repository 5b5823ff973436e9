"""Pure rules: chats, schedule, zones, streaks, quiz, on-this-day, reading, arguments."""
