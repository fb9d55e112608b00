"""The book on disk: one SQLite database per user (stdlib sqlite3, no Qt).

Where things are: `database.BookDatabase` is the repository a window or a command opens once (opening,
checks, repair, and the book itself); `connection` its one connection (`transaction()`, reads, the
checksum kept current); `manual_prices`, `settings`, `alerts`, `history` the rest of what is stored;
`writer` the history writer thread; `errors` (faults by SQLite error code), `checks`, `checksum`,
`quarantine`, `migrations` and `paths` (platformdirs) the safety and the files.
"""
