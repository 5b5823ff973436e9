"""What an operator sees: logs, metrics, and errors reported in one line."""
