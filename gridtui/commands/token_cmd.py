"""`gridtui token create|list|revoke`: the bearer tokens `gridtui serve` accepts."""

from __future__ import annotations

import argparse
import json
import time


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("token", help="bearer tokens for the REST API (gridtui serve)")
    inner = parser.add_subparsers(dest="token_command", required=True)
    p = inner.add_parser("create", help="a new token; printed once, as the last line")
    role = p.add_mutually_exclusive_group(required=True)
    role.add_argument("--read-only", action="store_true", help="may read everything")
    role.add_argument("--operator", action="store_true", help="may also change the cluster")
    p.add_argument("--name", help="what to call it (default: ROLE-N)")
    p.set_defaults(func=create_command)
    p = inner.add_parser("list", help="every token's name, role and age (never the token)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=list_command)
    p = inner.add_parser("revoke", help="a token stops working at once, even on a running server")
    p.add_argument("name")
    p.set_defaults(func=revoke_command)


def create_command(args: argparse.Namespace) -> int:
    from gridtui.backend.headless import Headless

    store = Headless.tokens()
    token, secret = store.create("operator" if args.operator else "read-only", args.name)
    print(f"created {token.role} token {token.name!r} in {store.path}")
    print("it is shown only this once: keep it now (send it as 'Authorization: Bearer TOKEN')")
    print(secret)
    return 0


def list_command(args: argparse.Namespace) -> int:
    from gridtui.backend.headless import Headless
    from gridtui.policy.amounts import format_duration

    tokens = Headless.tokens().list()
    if args.json:
        print(json.dumps([t.to_json() for t in tokens], indent=2))
        return 0
    if not tokens:
        print("no tokens: `gridtui token create --read-only` makes one")
        return 0
    rows = [("NAME", "ROLE", "AGE")]
    rows += [(t.name, t.role, format_duration(time.time() - t.created)) for t in tokens]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return 0


def revoke_command(args: argparse.Namespace) -> int:
    from gridtui.backend.headless import Headless

    token = Headless.tokens().revoke(args.name)
    print(f"revoked {token.role} token {token.name!r}")
    return 0
