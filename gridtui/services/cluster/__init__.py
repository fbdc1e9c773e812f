"""Ray's lifecycle on the nodes: install, start, stop, status, the token, the demo."""
