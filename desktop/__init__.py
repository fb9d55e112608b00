"""Margin Watch's desktop layer: everything Qt (windows, models, widgets, the feed bridge)."""
