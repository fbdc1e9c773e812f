"""Pure decisions: thresholds, scheduling strategies, offload. Standard library only."""
