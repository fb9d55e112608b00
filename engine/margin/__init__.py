"""The margin engine: domain types, exchange rule profiles, tiers, the liquidation equation, the whole-book
risk (scalar reference and vectorised) and stress moves."""
