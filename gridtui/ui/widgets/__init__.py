"""Panes and small widgets; each renders from the immutable ClusterSnapshot."""
