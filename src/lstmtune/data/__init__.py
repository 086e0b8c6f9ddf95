"""lstmtune.data."""
