"""The monitor: a Qt-free watch session that turns price snapshots into frames (risk, levels, alerts,
labels, chart history), shared by the window and `marginwatch watch`."""
