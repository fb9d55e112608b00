"""Market-data sources that publish into the price store: ccxt feeds and the simulated feed."""
