"""Market data: the price store and the feeds that write into it."""
