"""The book on disk: one SQLite database per user (stdlib sqlite3, no Qt)."""
