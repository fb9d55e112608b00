"""The main window and what it is made of: docks, the book's actions, the saved book's state, the alert list."""
