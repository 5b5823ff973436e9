"""Use cases, one transaction each: chats, delivery and what comes with it, health."""
