"""Sync: the trader's real book read from the exchanges, read-only (issue 17).

keys (credentials from the keyring or the environment), reader (ccxt's read calls behind a guard that refuses
any other request), exchange_state (what the exchange said, in the book's terms), reconcile (the pure merge into
the book), errors (every failure in words), run (one
account's sync, one transaction).
"""
