"""Bundled data (tier tables, the demo book, icons); installed as the package marginwatch_resources."""
