"""One module per provider (Meta, Telegram, X, email providers, web chat)."""
