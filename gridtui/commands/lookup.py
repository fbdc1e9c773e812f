"""The commands' cluster lookup: services/cluster/lookup.py, which the memory API shares."""

from gridtui.services.cluster.lookup import (
    NO_CLUSTER,
    Cluster,
    NoCluster,
    demo_running,
    find_cluster,
)

__all__ = ["NO_CLUSTER", "Cluster", "NoCluster", "demo_running", "find_cluster"]
