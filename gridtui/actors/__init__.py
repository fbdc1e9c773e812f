"""Cluster-side code shipped through Ray: stdlib, Ray and the pure modules only."""
