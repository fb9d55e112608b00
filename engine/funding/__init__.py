"""Funding of perpetual contracts: rate records per (exchange, symbol), each venue's interval and sign
convention, the signed payment of a position at the next funding and per day, and how funding alone moves a
position toward liquidation. Qt-free; sits between the market data / book layers and the margin math."""
