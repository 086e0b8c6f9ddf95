"""lstmtune.evaluation."""
