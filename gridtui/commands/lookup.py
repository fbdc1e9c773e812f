"""The commands' cluster lookup: the one in services/lookup.py, which the memory API shares."""

from gridtui.services.lookup import NO_CLUSTER, Cluster, NoCluster, demo_running, find_cluster

__all__ = ["NO_CLUSTER", "Cluster", "NoCluster", "demo_running", "find_cluster"]
