"""Forms and dialogs: positions, accounts, what-if, margin, thresholds, and the typed-number fields they share."""
