"""Auto-offload, driver side: the console's feed, threshold text, the cluster file."""
