"""Where Ray's job server and state API answer from here, and the token they are sent: one place."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from gridtui.config import ClusterConfig
from gridtui.services.cluster.node_commands import DASHBOARD_HOST
from gridtui.services.ray import auth as ray_auth
from gridtui.services.ray.driver_link import RayUnavailable
from gridtui.transport.base import Forward, NodeTransport


class NoDashboard(RayUnavailable):
    """Ray's dashboard (the job server, the state API) is off or does not answer."""


@dataclass(frozen=True)
class JobEndpoint:
    """The dashboard's address for JobSubmissionClient and the state API (a local one),
    and the HTTP headers every call of theirs sends (the cluster's Ray token)."""

    address: str
    headers: Mapping[str, str] = field(default_factory=dict)


def require_dashboard(config: ClusterConfig) -> None:
    """NoDashboard when the cluster file turns Ray's dashboard off (nothing to reach)."""
    if not config.ray.include_dashboard:
        raise NoDashboard(
            "this cluster runs without Ray's dashboard (ray.include_dashboard: false): Ray "
            "Jobs and the state API need it; set it to true and restart the cluster"
        )


async def job_endpoint(config: ClusterConfig, head: NodeTransport) -> tuple[JobEndpoint, Forward]:
    """The one function the job client and the state reads take their address and auth
    from. The dashboard listens on the head's loopback only (`--dashboard-host`), so it
    is reached through `head`, the head's transport: a local port forward over its SSH
    connection, or the loopback itself for a head on this machine; never over the
    network. The caller closes the forward (with the transport, when done)."""
    require_dashboard(config)
    # The token first: a missing or open token file is one line before any connection.
    headers = ray_auth.http_headers(config)
    forward = await head.forward(config.ray.dashboard_port, DASHBOARD_HOST)
    return JobEndpoint(f"http://{forward.host}:{forward.port}", headers), forward
