"""Where Ray's job server and state API answer, and what a client of them needs: one place.

Ray's dashboard listens on the head's loopback (Ray's default host, `localhost`), on the
port the cluster file (or the demo) sets. A head on this machine is reached there
directly; a remote head needs a local port forward over its SSH connection, which the
security work (issue 15) brings: `job_endpoint` is the one function that changes then,
together with the auth environment (`driver_env`) and headers it hands out."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field

from gridtui.config import ClusterConfig
from gridtui.services.ray_host import RayUnavailable

DASHBOARD_HOST = "127.0.0.1"


class NoDashboard(RayUnavailable):
    """Ray's dashboard (the job server, the state API) is off or does not answer."""


@dataclass(frozen=True)
class JobEndpoint:
    """The dashboard's address for JobSubmissionClient and the state API, the HTTP headers
    they send, and the environment a driver of this cluster runs with."""

    address: str
    headers: Mapping[str, str] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)


def _is_local(host: str) -> bool:
    try:
        with socket.socket() as s:
            s.bind((host, 0))
        return True
    except OSError:
        return False


def driver_env(config: ClusterConfig) -> dict[str, str]:
    """The environment a Ray driver (or Ray's HTTP clients) of this cluster needs. Today
    the process's own; token auth (issue 15) adds its two variables here."""
    return dict(os.environ)


def job_endpoint(config: ClusterConfig) -> JobEndpoint:
    """The one function the job client and the state reads take their address and auth
    from. NoDashboard when the cluster runs without it or its head is not on this
    machine (until the SSH forward exists)."""
    if not config.ray.include_dashboard:
        raise NoDashboard(
            "this cluster runs without Ray's dashboard (ray.include_dashboard: false): Ray "
            "Jobs and the state API need it; set it to true and restart the cluster"
        )
    head = config.head.host
    if not _is_local(head):
        raise NoDashboard(
            f"Ray's dashboard listens on {head}'s loopback only, and gridtui cannot forward "
            "a port to it yet: run gridtui on the head"
        )
    return JobEndpoint(
        address=f"http://{DASHBOARD_HOST}:{config.ray.dashboard_port}",
        headers={},
        env=driver_env(config),
    )
