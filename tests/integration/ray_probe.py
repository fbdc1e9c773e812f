"""An independent Ray driver: prints Ray's live placement groups, per-node resources and actors.

Run as `python ray_probe.py HOST:PORT`; its own ray.init, nothing shared with the caller."""

from __future__ import annotations

import json
import logging
import sys

import ray
from ray.util.placement_group import placement_group_table

from gridtui.actors.ray_private import alive_actors, available_per_node, draining_nodes


def main(address: str) -> None:
    ray.init(
        address=address,
        _node_ip_address=address.rpartition(":")[0],
        namespace="probe",
        log_to_driver=False,
        logging_level=logging.ERROR,
        configure_logging=False,
    )
    groups = [
        {
            "name": g["name"],
            "state": g["state"],
            "strategy": g["strategy"],
            "bundles": {str(k): v for k, v in g["bundles"].items()},
            "nodes": {str(k): v for k, v in g["bundles_to_node_id"].items()},
        }
        for g in placement_group_table().values()
        if g["state"] != "REMOVED"
    ]
    available = available_per_node()
    draining = draining_nodes()
    nodes = {
        (n.get("Labels") or {}).get("gridtui.node", n["NodeManagerAddress"]): {
            "node_id": n["NodeID"],
            "alive": n["Alive"],
            "available": available.get(n["NodeID"], {}),
            "total": {str(k): float(v) for k, v in n["Resources"].items()},
            "draining": n["NodeID"] in draining,
        }
        for n in ray.nodes()
        if n["Alive"]
    }
    actors = [{k: a[k] for k in ("class", "name", "namespace", "node_id", "resources")}
              for a in alive_actors()]  # fmt: skip
    print(json.dumps({"groups": groups, "nodes": nodes, "actors": actors}))
    ray.shutdown()


if __name__ == "__main__":
    main(sys.argv[1])
