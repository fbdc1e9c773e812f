"""An SSH test server in its own process, for a node inside a network namespace.

Run as `python sshd_child.py HOST WORKDIR`: prints one JSON line (host, port, identity,
known_hosts) once serving, and serves until its stdin closes.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from sshd import SshCluster


async def main(host: str, workdir: Path) -> None:
    cluster = SshCluster(workdir, [host])
    await cluster.start()
    server = cluster.servers[0]
    print(
        json.dumps(
            {
                "host": server.host,
                "port": server.port,
                "identity": str(cluster.identity),
                "known_hosts": cluster.known_hosts.read_text(),
            }
        ),
        flush=True,
    )
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await cluster.stop()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], Path(sys.argv[2])))
