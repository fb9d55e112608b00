"""The book: the portfolio file, CSV import/export, the book rules every door asks, and what-if trades."""
