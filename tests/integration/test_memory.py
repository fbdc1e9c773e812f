"""The memory store on a real three-raylet cluster: placement, replicas, failures, refusals."""

from __future__ import annotations

import asyncio
import filecmp
import hashlib
import json
import os
import random
import re
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from api_live import LiveApi
from faults import LATE, frozen_at, hit, writing
from memory_cluster import LocalCluster

from gridtui.actors.memory_shard import SHARD_PREFIX, shard_name
from gridtui.model.actor_names import INDEX_NAME
from gridtui.model.wire import encode
from gridtui.model.wire.memory import ListTransactions, Lookup
from gridtui.services.control.client import CONTROLLER_NAME, NAMESPACE
from gridtui.services.memory.client import (
    ChecksumMismatch,
    MemoryRefused,
    MemoryService,
    ObjectLost,
)
from gridtui.services.memory.transfer import run

pytestmark = pytest.mark.ray
MiB = 1024**2
STORE = 512 * MiB  # per node; capacity 0.5 of it: 256 MiB, room for the 200 MB file


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    import ray

    directory = Path(tempfile.mkdtemp(prefix="gridtui-memory-"))
    local = LocalCluster(directory, STORE)
    asyncio.run(local.start())
    try:
        os.environ.setdefault("RAY_gcs_rpc_server_reconnect_timeout_s", "3600")
        local.use_here()
        ray.init(
            address=local.address, _node_ip_address="127.0.0.2", namespace="gridtui",
            log_to_driver=False, configure_logging=False,
        )  # fmt: skip
        yield local
    finally:
        ray.shutdown()
        asyncio.run(local.stop())


@pytest.fixture(scope="module")
def svc(cluster: LocalCluster) -> MemoryService:
    return MemoryService(cluster.config)


def cli(cluster: LocalCluster, *args: str, **kw: Any) -> subprocess.CompletedProcess[bytes]:
    argv = [sys.executable, "-m", "gridtui", "memory", "-c", str(cluster.path), *args]
    return subprocess.run(argv, capture_output=True, timeout=180, **kw)


def spawn(cluster: LocalCluster, *args: str) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "gridtui", "memory", "-c", str(cluster.path), *args]
    return subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def err_line(result: subprocess.CompletedProcess[bytes]) -> str:
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def shards() -> dict[str, dict[str, Any]]:
    """node name -> what its shard holds, asked of every shard directly."""
    import ray

    out = {}
    for entry in ray.util.list_named_actors(all_namespaces=True):
        if entry["name"].startswith(SHARD_PREFIX):
            handle = ray.get_actor(entry["name"], namespace="gridtui")
            with_timeout = ray.get(handle.describe.remote(), timeout=30)
            out[with_timeout["node_name"]] = with_timeout
    return out


def host() -> Any:
    import ray

    return ray.get_actor(INDEX_NAME, namespace="gridtui")


def transactions() -> list[dict[str, Any]]:
    import ray

    return list(ray.get(host().call.remote(encode(ListTransactions())), timeout=30)["txns"])


def held_keys() -> dict[str, set[tuple[str, bool]]]:
    return {n: {(o["key"], o["sealed"]) for o in d["objects"]} for n, d in shards().items()}


def eventually(check: Callable[[], bool], seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.25)


def nothing_left_of(svc: MemoryService, key: str, *, except_sealed: bool = False) -> bool:
    """No transaction, no index entry (unless kept) and no chunk of `key` on any shard."""
    if any(t["key"] == key for t in transactions()):
        return False
    if not except_sealed and key in {o.key for o in svc.objects()}:
        return False
    return all(
        sealed and except_sealed for held in held_keys().values() for k, sealed in held if k == key
    )


def contents(svc: MemoryService) -> list[tuple[Any, ...]]:
    return [(o.key, o.size, o.sha256, o.nodes, o.created, o.state) for o in svc.objects()]


def random_file(path: Path, size: int) -> Path:
    with path.open("wb") as f:
        left = size
        while left:
            n = min(left, 8 * MiB)
            f.write(os.urandom(n))
            left -= n
    return path


def node_ids() -> dict[str, str]:
    import ray

    return {n["Labels"]["gridtui.node"]: n["NodeID"] for n in ray.nodes() if n["Alive"]}


INDEPENDENT = """
import json, sys, ray
ray.init(address=sys.argv[1], _node_ip_address="127.0.0.2", namespace="gridtui",
         log_to_driver=False)
index = ray.get_actor("gridtui-memory-index", namespace="gridtui")
version = ray.get(index.call.remote({"__type__": "Lookup", "key": sys.argv[2]}))["record"]
out = {"nodes": {n["Labels"]["gridtui.node"]: n["NodeID"] for n in ray.nodes() if n["Alive"]}}
for node_id in version["nodes"]:
    shard = ray.get_actor("gridtui-memory-shard-" + node_id, namespace="gridtui")
    refs = ray.get(shard.refs.remote(version["txid"]))
    where = ray.experimental.get_object_locations(refs)
    out[node_id] = {
        "shard_on": ray.get(shard.ping.remote())["actual_node_id"],
        "chunks_on": sorted({i for loc in where.values() for i in loc["node_ids"]}),
    }
print(json.dumps(out))
"""


def test_200mb_on_a_named_worker_from_fresh_processes(
    cluster: LocalCluster, svc: MemoryService, tmp_path: Path
) -> None:
    source = random_file(tmp_path / "big.bin", 200_000_000)
    stored = cli(cluster, "store", "big", str(source), "--node", "worker-1", "--json")
    assert stored.returncode == 0, stored.stderr
    assert json.loads(stored.stdout)["nodes"] == ["worker-1"]

    # An independent driver finds the shard and every chunk on worker-1's node.
    seen = subprocess.run(
        [sys.executable, "-c", INDEPENDENT, cluster.address, "big"],
        capture_output=True, timeout=120, check=True, env=cluster.driver_env(),
    )  # fmt: skip
    where = json.loads(seen.stdout.decode().strip().splitlines()[-1])
    worker = where["nodes"]["worker-1"]
    assert where[worker] == {"shard_on": worker, "chunks_on": [worker]}

    # The storing process is gone; a fresh one reads it back byte for byte.
    out = tmp_path / "back.bin"
    got = cli(cluster, "retrieve", "big", "-o", str(out))
    assert got.returncode == 0, got.stderr
    assert filecmp.cmp(source, out, shallow=False)
    listed = json.loads(cli(cluster, "list-objects", "--json").stdout)
    row = next(o for o in listed["objects"] if o["key"] == "big")
    assert (row["size"], row["nodes"], row["state"]) == (200_000_000, ["worker-1"], "complete")
    svc.delete("big")
    assert "big" not in held_keys()["worker-1"]


class PrivateMemory:
    """The peak of a process's private resident memory (RssAnon), read from /proc 20 times a
    second on a thread. VmHWM would also count the object-store pages a Ray driver maps
    (shared, the node's store's): up to the whole object here, so it cannot tell a leak."""

    def __init__(self, pid: int) -> None:
        self.path = Path(f"/proc/{pid}/status")
        self.idle = self.read()
        self.peak = self.idle
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def read(self) -> int:
        for line in self.path.read_text().splitlines():
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
        raise AssertionError(f"no RssAnon in {self.path}")

    def _watch(self) -> None:
        while not self.done.wait(0.05):
            self.peak = max(self.peak, self.read())

    def __enter__(self) -> PrivateMemory:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join(5)


def test_200mb_over_the_rest_api_streamed_both_ways(
    cluster: LocalCluster, svc: MemoryService, tmp_path: Path
) -> None:
    """`gridtui serve` on this cluster: 200 MB PUT from a generator and GET back, byte-exact,
    while the server's private memory stays far under the object's size."""
    import ray

    # The API's tokens go to the cluster's own state dir, beside its Ray token.
    size, sent = 200_000_000, hashlib.sha256()

    def body() -> Iterator[bytes]:  # never whole in this process either
        rng, left = random.Random(11), size
        while left:
            chunk = rng.randbytes(min(left, MiB))
            sent.update(chunk)
            left -= len(chunk)
            yield chunk

    had_controller = CONTROLLER_NAME in {a["name"] for a in ray.util.list_named_actors(True)}
    api = LiveApi(tmp_path, "-c", str(cluster.path))
    try:
        headers = {"Content-Length": str(size), "Content-Type": "application/octet-stream"}
        with PrivateMemory(api.proc.pid) as server:
            put = api.operator.put("/memory/api-big", content=body(), headers=headers)
            assert put.status_code == 201, put.text
            assert (put.json()["size"], put.json()["sha256"]) == (size, sent.hexdigest())
            got, seen = hashlib.sha256(), 0
            with api.operator.stream("GET", "/memory/api-big") as r:
                assert r.status_code == 200, r.read()
                assert r.headers["x-gridtui-sha256"] == sent.hexdigest()
                for chunk in r.iter_bytes():
                    got.update(chunk)
                    seen += len(chunk)
        assert (seen, got.hexdigest()) == (size, sent.hexdigest())
        grown = server.peak - server.idle
        print(f"server private memory: idle {server.idle / MiB:.0f} MiB, +{grown / MiB:.0f} MiB")
        assert grown < 64 * MiB, f"the server's private memory grew {grown / MiB:.0f} MiB"

        assert api.operator.delete("/memory/api-big").json()["deleted"] is True
        assert nothing_left_of(svc, "api-big")
    finally:
        api.close()
        if not had_controller:  # `serve` made one: the cluster is left as it was found
            ray.kill(ray.get_actor(CONTROLLER_NAME, namespace=NAMESPACE))


def test_replicas_on_distinct_nodes_and_an_index_restart(
    cluster: LocalCluster, svc: MemoryService
) -> None:
    import ray

    data = os.urandom(20 * MiB + 3)
    two = svc.store("two", data, replicas=2, node="worker-1")
    assert len(set(two.nodes)) == 2 and "worker-1" in two.nodes
    svc.store("one", b"only on worker-1" * 1000, node="worker-1")
    before = {o.key: o for o in svc.objects()}

    ray.kill(host())
    fresh = MemoryService(cluster.config)  # a new client: no cached handles
    after = {o.key: o for o in fresh.objects()}
    assert after == before  # rebuilt from the shards: nothing lost, created/read times kept
    assert svc.read("two") == data  # the old client finds the new index by itself


def test_refusals_leave_the_store_unchanged(
    cluster: LocalCluster, svc: MemoryService, tmp_path: Path
) -> None:
    snapshot = (contents(svc), held_keys())
    small = tmp_path / "small.bin"
    small.write_bytes(b"x" * 1000)
    refusals: list[tuple[Callable[[], Any], str]] = [
        (lambda: svc.store("k", small, node="nope"),
         "unknown node 'nope' (alive: head, worker-1, worker-2)"),
        (lambda: svc.store("k", small, replicas=4),
         "--replicas 4: only 3 nodes are alive (head, worker-1, worker-2); replicas go to distinct nodes"),
        (lambda: svc.store("k", b"\0" * 300 * MiB),
         r"not enough room for 300\.0 MiB \(1 replica\); "
         r"free: head \d+\.\d MiB, worker-1 2\d\d\.\d MiB, worker-2 \d+\.\d MiB"),
        (lambda: svc.store("one", small), "key 'one' exists (15.6 KiB, complete); --force replaces it"),
        (lambda: svc.retrieve("ghost", tmp_path / "out"), "no object with key 'ghost'"),
        (lambda: svc.info("ghost"), "no object with key 'ghost'"),
        (lambda: svc.delete("ghost"), "no object with key 'ghost'"),
    ]  # fmt: skip
    for attempt, message in refusals:
        with pytest.raises(MemoryRefused) as refused:
            attempt()
        assert re.fullmatch(
            message if message.startswith("not") else re.escape(message), str(refused.value)
        )
    assert not (tmp_path / "out").exists()
    # The CLI says the same in one line with exit 1, and the existing object is untouched.
    result = cli(cluster, "store", "one", str(small))
    assert result.returncode == 1
    assert err_line(result) == "gridtui: key 'one' exists (15.6 KiB, complete); --force replaces it"
    assert svc.read("one") == b"only on worker-1" * 1000
    assert (contents(svc), held_keys()) == snapshot and transactions() == []


def staged(key: str) -> int:
    return sum(
        o["staged"]
        for d in shards().values()
        for o in d["objects"]
        if o["key"] == key and not o["sealed"]
    )


def test_ctrl_c_mid_transfer_leaves_nothing(cluster: LocalCluster, svc: MemoryService) -> None:
    proc = spawn(cluster, "store", "cut", "-", "--replicas", "2")
    assert proc.stdin is not None and proc.stderr is not None
    try:
        proc.stdin.write(os.urandom(20 * MiB))
        proc.stdin.flush()
        eventually(lambda: staged("cut") >= 2 * 16 * MiB)  # mid-way on both replicas
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 130  # standard input still open: it did not just end
        err = proc.stderr.read().decode().strip().splitlines()
        assert err == ["gridtui: store of 'cut' interrupted; nothing was stored"]
    finally:  # never left storing (and holding room) into the next tests
        proc.stdin.close()
        proc.kill()
        proc.wait()
    assert nothing_left_of(svc, "cut")  # aborted on the spot, not at the lease's end


def test_sigkill_mid_overwrite_keeps_the_old_object(
    cluster: LocalCluster, svc: MemoryService
) -> None:
    old = os.urandom(6 * MiB)
    svc.store("keep", old)
    proc = spawn(cluster, "store", "keep", "-", "--force")
    assert proc.stdin is not None
    proc.stdin.write(os.urandom(20 * MiB))
    proc.stdin.flush()
    eventually(lambda: staged("keep") >= 16 * MiB)
    proc.kill()
    proc.wait()
    proc.stdin.close()
    assert svc.read("keep") == old  # served while the dead store's chunks wait for the sweep
    eventually(lambda: nothing_left_of(svc, "keep", except_sealed=True), 30)
    assert svc.read("keep") == old and svc.info("keep").size == 6 * MiB
    # An overwrite that completes replaces it, and the old version's chunks go.
    new = os.urandom(5 * MiB)
    svc.store("keep", new, force=True)
    assert svc.read("keep") == new
    versions = [o for d in shards().values() for o in d["objects"] if o["key"] == "keep"]
    assert [(v["size"], v["sealed"]) for v in versions] == [(5 * MiB, True)]


def test_python_api(tmp_path: Path) -> None:
    from gridtui import memory_api as memory

    data = os.urandom(5 * MiB + 1)
    put = memory.put("api/blob", data, replicas=2)
    assert put.size == len(data) and len(put.nodes) == 2
    assert memory.get("api/blob") == data
    (tmp_path / "in.bin").write_bytes(data[:1000])
    memory.put("api/file", str(tmp_path / "in.bin"))
    memory.get_to("api/file", tmp_path / "out.bin")
    assert (tmp_path / "out.bin").read_bytes() == data[:1000]
    assert {"api/blob", "api/file"} <= {o.key for o in memory.list()}
    assert memory.info("api/blob").sha256 == put.sha256
    assert sum(u.used for u in memory.usage()) >= 2 * len(data)
    memory.delete("api/blob")
    memory.delete("api/file")
    assert not {"api/blob", "api/file"} & {o.key for o in memory.list()}


def test_over_capacity_stream_fails_half_way_and_leaves_nothing(cluster: LocalCluster) -> None:
    tight = MemoryService(fraction=0.05)  # 25.6 MiB per node
    r, w = os.pipe()

    def feed() -> None:
        try:
            for _ in range(20):
                os.write(w, os.urandom(4 * MiB))
        except OSError:
            pass  # the reader gave up
        finally:
            os.close(w)

    writer = threading.Thread(target=feed)
    writer.start()
    with os.fdopen(r, "rb", buffering=0) as stream:
        job = tight.store_job("flood", stream, node="worker-2")
        with pytest.raises(MemoryRefused) as refused:
            run(job)
    writer.join()
    assert job.sent >= 8 * MiB  # it failed half way, not up front
    assert re.match(
        r"not enough room for \d+\.\d MiB \(1 replica\); free: head ", str(refused.value)
    )
    assert nothing_left_of(tight, "flood")


def test_cancelling_an_async_store_leaves_nothing(svc: MemoryService) -> None:
    """The console's path: every step through a `call` like RayGateway.call; cancelling
    the task aborts the store."""
    r, w = os.pipe()

    async def call(fn: Callable[[], Any], timeout: float) -> Any:
        return await asyncio.wait_for(asyncio.to_thread(fn), timeout)

    async def go() -> None:
        with os.fdopen(r, "rb", buffering=0) as stream:
            task = asyncio.create_task(svc.store_async(call, "async", stream))
            # Written from a thread: the pipe holds 64 KiB and the loop must keep running.
            await asyncio.to_thread(os.write, w, os.urandom(12 * MiB))
            await asyncio.to_thread(eventually, lambda: staged("async") >= 8 * MiB)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    asyncio.run(go())
    os.close(w)
    assert nothing_left_of(svc, "async")


ALTER = """
def alter(refs):
    import ctypes, ray
    data = ray.get(refs[0])
    class Py_buffer(ctypes.Structure):
        _fields_ = [("buf", ctypes.c_void_p), ("obj", ctypes.c_void_p),
                    ("len", ctypes.c_ssize_t), ("itemsize", ctypes.c_ssize_t),
                    ("readonly", ctypes.c_int), ("ndim", ctypes.c_int),
                    ("format", ctypes.c_char_p), ("shape", ctypes.c_void_p),
                    ("strides", ctypes.c_void_p), ("suboffsets", ctypes.c_void_p),
                    ("internal", ctypes.c_void_p)]
    view = Py_buffer()
    get = ctypes.pythonapi.PyObject_GetBuffer
    get.argtypes = [ctypes.py_object, ctypes.POINTER(Py_buffer), ctypes.c_int]
    get(data, ctypes.byref(view), 0)
    # One byte flipped in place in the node's object store: what a bad DIMM would do.
    ctypes.memset(view.buf + 1000, (memoryview(data)[1000] ^ 0xFF), 1)
    ctypes.pythonapi.PyBuffer_Release.argtypes = [ctypes.POINTER(Py_buffer)]
    ctypes.pythonapi.PyBuffer_Release(ctypes.byref(view))
    return True
"""


def test_a_corrupted_chunk_is_caught_on_retrieve(svc: MemoryService, tmp_path: Path) -> None:
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    svc.store("bad", os.urandom(12 * MiB), node="worker-2")
    version = ray.get(host().call.remote(encode(Lookup("bad"))))["record"]
    node_id = node_ids()["worker-2"]
    refs = ray.get(ray.get_actor(shard_name(node_id)).refs.remote(version["txid"]))
    scope: dict[str, Any] = {}
    exec(ALTER, scope)
    alter = ray.remote(num_cpus=0)(scope["alter"]).options(
        scheduling_strategy=NodeAffinitySchedulingStrategy(node_id, soft=False)
    )
    assert ray.get(alter.remote([refs[1]]))
    del refs
    with pytest.raises(ChecksumMismatch) as caught:
        svc.retrieve("bad", tmp_path / "bad.bin")
    assert str(caught.value) == (
        "cannot retrieve 'bad': chunk 2 of 3 (bytes 4194304-8388607) on worker-2 does not "
        "match its checksum (the stored copy is damaged)"
    )
    assert list(tmp_path.iterdir()) == []  # no file, not even a partial one


def corrupt(node_id: str, txid: str, chunk: int) -> None:
    """Flip one byte of a stored chunk in place, on its node (ALTER)."""
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    refs = ray.get(ray.get_actor(shard_name(node_id)).refs.remote(txid))
    scope: dict[str, Any] = {}
    exec(ALTER, scope)
    alter = ray.remote(num_cpus=0)(scope["alter"]).options(
        scheduling_strategy=NodeAffinitySchedulingStrategy(node_id, soft=False)
    )
    assert ray.get(alter.remote([refs[chunk]]))


def test_a_corrupted_chunk_falls_over_to_another_replica(svc: MemoryService) -> None:
    """The replica a reader tries first is damaged: the chunk's check catches it and the
    whole object comes, byte for byte, from the other one."""
    import ray

    data = os.urandom(9 * MiB)
    svc.store("bad2", data, replicas=2)
    version = ray.get(host().call.remote(encode(Lookup("bad2"))))["record"]
    local = ray.get_runtime_context().get_node_id()
    first = sorted(version["nodes"], key=lambda node_id: node_id != local)[0]
    corrupt(first, version["txid"], 2)
    assert svc.read("bad2") == data
    svc.delete("bad2")


# A SIGKILLed store's transaction is swept once its lease (6 s) runs out: checked within
# the lease, a sweep and some slack for a loaded machine.
SWEPT = 30.0


def nothing_reserved(svc: MemoryService) -> bool:
    return transactions() == [] and all(u.reserved == 0 for u in svc.usage())


@pytest.mark.parametrize(
    ("sig", "when"),
    [("SIGINT", "before"), ("SIGKILL", "before"), ("SIGINT", "after"), ("SIGKILL", "after")],
)
def test_a_store_stopped_before_or_after_its_work(
    cluster: LocalCluster, svc: MemoryService, tmp_path: Path, sig: str, when: str
) -> None:
    """Stopped once room is reserved but before a byte is sent, or once the key is
    committed but before the process is done; then interrupted or killed. Checked from this
    test's own driver: no index entry, chunk or reservation is left of the first; the
    second is stored whole and nothing else is held. (During the transfer:
    test_ctrl_c_mid_transfer_leaves_nothing, test_sigkill_mid_overwrite_keeps_the_old_object.)"""
    key = f"fault/{when}-{sig.lower()}"
    source = random_file(tmp_path / "src", 8 * MiB)
    for _ in range(3):  # a process that finished before it was caught is started again
        if when == "before":  # standard input open and empty: begun, waiting for bytes
            proc = spawn(cluster, "store", key, "-")
            caught = frozen_at(proc, lambda: any(t["key"] == key for t in transactions()))
        else:
            proc = spawn(cluster, "store", key, str(source), "--force")
            caught = frozen_at(proc, lambda: key in {o.key for o in svc.objects()})
        try:
            if caught:
                hit(proc, getattr(signal, sig))
            _, err = proc.communicate(timeout=60)
        finally:
            proc.kill()
            proc.wait()
        if caught:
            break
    assert caught, "the process always ended before it was caught"
    said = err.decode().strip().splitlines()
    if sig == "SIGKILL":
        assert proc.returncode == -signal.SIGKILL
    else:
        assert proc.returncode == 130 and len(said) == 1, said
    if when == "before":
        if sig == "SIGINT":
            assert said == [f"gridtui: store of {key!r} interrupted; nothing was stored"]
        eventually(lambda: nothing_left_of(svc, key) and nothing_reserved(svc), SWEPT)
        return
    if sig == "SIGINT":
        assert said[0] in (f"gridtui: store of {key!r} interrupted after it was complete: it is stored", LATE)  # fmt: skip
    assert svc.read(key) == source.read_bytes()
    assert nothing_left_of(svc, key, except_sealed=True) and nothing_reserved(svc)
    svc.delete(key)


@pytest.fixture(scope="module")
def stored(svc: MemoryService) -> Iterator[tuple[str, bytes]]:
    """One object of 96 MiB to retrieve (on the head: the node-death test kills worker-1)."""
    data = os.urandom(96 * MiB)
    svc.store("fault/big", data, node="head")
    yield "fault/big", data
    svc.delete("fault/big")


@pytest.mark.parametrize(
    ("sig", "when"), [("SIGINT", "during"), ("SIGKILL", "during"), ("SIGINT", "after")]
)
def test_a_retrieve_leaves_the_whole_file_or_nothing(
    cluster: LocalCluster, stored: tuple[str, bytes], tmp_path: Path, sig: str, when: str
) -> None:
    """Caught half way through writing its (unnamed) temporary, or once the file is in
    place: interrupted or killed, the directory holds nothing, or the whole object. A
    SIGKILL included: no partial file survives it."""
    key, data = stored
    out = tmp_path / "out" / "f.bin"
    out.parent.mkdir()
    for _ in range(3):
        proc = spawn(cluster, "retrieve", key, "-o", str(out))
        if when == "during":
            caught = frozen_at(proc, writing(proc.pid, out.parent))
            caught = caught and not out.exists()  # not committed since: still under way
        else:
            caught = frozen_at(proc, out.exists)
        try:
            if caught:
                hit(proc, getattr(signal, sig))
            _, err = proc.communicate(timeout=60)
        finally:
            proc.kill()
            proc.wait()
        if caught:
            break
        out.unlink(missing_ok=True)
    assert caught, "the process always ended before it was caught"
    said = err.decode().strip().splitlines()
    assert proc.returncode == (-signal.SIGKILL if sig == "SIGKILL" else 130), said
    if when == "during":
        assert os.listdir(out.parent) == []
        if sig == "SIGINT":
            assert said == [f"gridtui: retrieve of {key!r} interrupted; nothing was written to {out}"]  # fmt: skip
        return
    assert os.listdir(out.parent) == ["f.bin"] and out.read_bytes() == data
    whole = f"gridtui: retrieve of {key!r} interrupted after it was complete: {out} has the whole object"  # fmt: skip
    assert said in ([whole], [LATE])


def test_retrieve_writes_devices_fifos_and_links_as_they_are(
    cluster: LocalCluster, svc: MemoryService, stored: tuple[str, bytes], tmp_path: Path
) -> None:
    """What `-o` met: /dev/null stays a device; /dev/full is one line, exit 1; a FIFO's
    reader gets the bytes; a symlink's target gets them and the link stays; a file keeps
    its mode."""
    key, data = stored
    null = cli(cluster, "retrieve", key, "-o", "/dev/null")
    assert null.returncode == 0, null.stderr
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    full = cli(cluster, "retrieve", key, "-o", "/dev/full")
    assert full.returncode == 1
    assert err_line(full) == "gridtui: cannot write /dev/full: No space left on device"
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    svc.retrieve(key, fifo)
    reader.join(60)
    assert got == [data] and stat.S_ISFIFO(fifo.stat().st_mode)
    (tmp_path / "real").write_bytes(b"old")
    (tmp_path / "real").chmod(0o640)
    (tmp_path / "link").symlink_to("real")
    svc.retrieve(key, tmp_path / "link")
    assert (tmp_path / "link").is_symlink() and (tmp_path / "real").read_bytes() == data
    assert stat.S_IMODE((tmp_path / "real").stat().st_mode) == 0o640
    assert sorted(os.listdir(tmp_path)) == ["fifo", "link", "real"]


def test_a_dead_node_takes_only_what_had_no_other_replica(
    cluster: LocalCluster, svc: MemoryService, tmp_path: Path
) -> None:
    two = svc.read("two")
    cluster.kill_raylet("worker-1")
    eventually(lambda: {o.key: o.state for o in svc.objects()}.get("one") == "lost")
    assert svc.read("two") == two  # from its other replica
    listed = {o.key: o for o in svc.objects()}
    assert listed["two"].state == "complete" and "worker-1" not in listed["two"].nodes
    with pytest.raises(ObjectLost, match="'one' is lost: its only replica was on worker-1"):
        svc.read("one")
    result = cli(cluster, "retrieve", "one", "-o", str(tmp_path / "one"))
    assert result.returncode == 1
    assert (
        err_line(result)
        == "gridtui: 'one' is lost: its only replica was on worker-1, which is gone"
    )
