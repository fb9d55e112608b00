"""pyqtgraph charts: the position chart, the account history and the risk ladder."""
