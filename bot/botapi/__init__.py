"""The Bot API's own rules, no I/O: text limits, splitting and escaping, reading its errors."""
