"""Node figures: one agent stream per node, bounded history, node state, alerts."""
