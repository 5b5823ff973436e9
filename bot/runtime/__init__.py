"""Running the bot: start-up, polling or webhook, leadership, drain and stop; the console."""
