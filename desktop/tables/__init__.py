"""Table models over engine figures and the painters that draw their cells."""
