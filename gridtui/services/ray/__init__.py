"""Ray from gridtui's side: the gateway, the driver process, the cluster's token, Ray's view."""
