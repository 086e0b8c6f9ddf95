"""lstmtune.engine."""
