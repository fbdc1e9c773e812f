"""Ray lifecycle over transports, the RayGateway, and the embedded local demo cluster."""
