"""`gridtui serve`: the REST API (gridtui/api) on the cluster the other commands act on."""

from __future__ import annotations

import argparse

from gridtui.commands import options
from gridtui.config import Range

PORT = Range(0, 65535, integer=True)
MAX_UPLOAD = 1024**4


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "serve",
        help="the REST API: nodes, reservations, memory, offload (docs/api.md)",
        description="Every request needs a token (`gridtui token create`); OpenAPI at /docs.",
    )
    options.add_config(p)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument(
        "--port", type=options.number(PORT), default=8765, help="port (default 8765; 0: any)"
    )
    p.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a non-loopback --host (TLS required: --tls-cert and --tls-key)",
    )
    p.add_argument("--tls-cert", type=options.path, help="PEM certificate (chain) for HTTPS")
    p.add_argument("--tls-key", type=options.path, help="PEM private key for HTTPS")
    p.add_argument(
        "--max-upload",
        type=options.size(1, MAX_UPLOAD),
        default=8 * 1024**3,
        help="largest memory object a PUT may send (default 8GiB)",
    )
    p.set_defaults(func=serve_command)


def serve_command(args: argparse.Namespace) -> int:
    from gridtui.api.server import ServeOptions, check_bind
    from gridtui.backend.headless import Headless

    opts = ServeOptions(
        host=args.host,
        port=args.port,
        allow_remote=args.allow_remote,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        max_upload=args.max_upload,
    )
    check_bind(opts)  # refused before any cluster is looked for
    cluster = Headless(getattr(args, "config", None)).cluster
    from gridtui.api.server import serve

    return serve(cluster.config, cluster.path, opts)
