"""Margin Watch's engine: margin mathematics, the portfolio file and reports. Never imports Qt."""
