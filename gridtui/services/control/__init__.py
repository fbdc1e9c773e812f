"""Reservations (boosts, shared allocations): the controller's client, checks, feed."""
