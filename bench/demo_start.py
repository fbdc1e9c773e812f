"""Bench: time from no config to three alive demo nodes, and the demo cluster's memory."""

from __future__ import annotations

import asyncio
import os
import tempfile
import time

from gridtui.cluster import demo, nodescript


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["XDG_STATE_HOME"] = tmp
        config = demo.demo_config()
        markers = [f"{config.ray.temp_dir}/{n.name}" for n in config.nodes]
        t0 = time.perf_counter()
        await demo.ensure_demo_running()
        up = time.perf_counter() - t0
        try:
            t1 = time.perf_counter()
            status = await demo.demo_status()
            attach = time.perf_counter() - t1
            assert status.healthy, status.table()
            await asyncio.sleep(3)  # let prestarted workers settle
            pids, table = nodescript.find_pids(markers)
            rss = sum(table[p][2] for p in pids)
            per_node = {
                n: sum(table[p][2] for p in nodescript.find_pids([m])[0])
                for n, m in zip([n.name for n in config.nodes], markers, strict=True)
            }
            print(f"no config -> 3 alive demo nodes: {up:.2f}s (status check {attach:.2f}s)")
            print(
                f"demo cluster: {len(pids)} processes, RSS {rss / 2**30:.2f} GiB "
                f"(goal < 1.2 GiB: ratio {rss / (1.2 * 2**30):.2f})"
            )
            for name, value in per_node.items():
                print(f"  {name:<9} {value / 2**20:7.0f} MiB")
        finally:
            await demo.stop_demo()


if __name__ == "__main__":
    asyncio.run(main())
