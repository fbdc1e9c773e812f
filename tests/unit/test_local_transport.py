"""LocalTransport: argv stays data, timeouts end the process group, streams end cleanly."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import pytest

from gridtui.config import NodeConfig
from gridtui.transport.base import TransportError, command_line, write_private_file
from gridtui.transport.local import LocalTransport

NODE = NodeConfig(name="me", host="127.0.0.1", transport="local")


def test_command_line_quotes_every_word() -> None:
    assert command_line(["echo", "a b", "$(x)", "; rm"]) == "echo 'a b' '$(x)' '; rm'"
    with pytest.raises(ValueError):
        command_line([])


async def test_metacharacters_stay_data(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    t = LocalTransport(NODE)
    for evil in (
        f"; touch {marker}",
        f"$(touch {marker})",
        f"`touch {marker}`",
        f"\ntouch {marker}",
    ):
        result = await t.run(["echo", evil])
        assert result.ok and result.stdout == evil + "\n"
    assert not marker.exists()


async def test_timeout_kills_and_reports() -> None:
    t = LocalTransport(NODE, command_timeout=0.3)
    with pytest.raises(TransportError) as info:
        await t.run(["sleep", "30"])
    assert info.value.reason == "timeout"


async def test_missing_program_answers_like_a_shell() -> None:
    """The node was reached; only the program is missing: exit 127, as sh over SSH says."""
    result = await LocalTransport(NODE).run(["/no/such/program"])
    assert result.exit_status == 127
    assert result.stderr.startswith("/no/such/program: ")
    with pytest.raises(TransportError, match="cannot run /no/such"):
        await LocalTransport(NODE).open_stream(["/no/such/program"])


async def test_stream_yields_lines_and_close_ends_it() -> None:
    t = LocalTransport(NODE)
    stream = await t.open_stream(
        ["sh", "-c", "cat; while true; do echo tick; sleep 0.05; done"], input="hello\n"
    )
    lines = []
    async for line in stream:
        lines.append(line)
        if len(lines) == 3:
            break
    await stream.close()
    assert lines == ["hello", "tick", "tick"]
    await asyncio.sleep(0)


async def test_a_private_file_is_written_from_stdin_at_mode_600(tmp_path: Path) -> None:
    path = tmp_path / "new" / "dir" / "n1.ray-token"
    t = LocalTransport(NODE)
    await write_private_file(t, str(path), "s3cret\n")
    assert path.read_text() == "s3cret\n" and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700  # made private too
    # An old file of a looser mode is replaced, never written into.
    path.chmod(0o644)
    await write_private_file(t, str(path), "other")
    assert path.read_text() == "other" and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["n1.ray-token"]
    (tmp_path / "file").write_text("")
    with pytest.raises(TransportError) as info:
        await write_private_file(t, str(tmp_path / "file" / "x"), "s3cret")
    assert info.value.message.startswith(f"me: cannot write {tmp_path / 'file' / 'x'}: ")
    assert "s3cret" not in info.value.message


async def test_a_forward_to_a_local_node_is_its_own_address() -> None:
    forward = await LocalTransport(NODE).forward(8265)
    assert (forward.host, forward.port) == ("127.0.0.1", 8265)
    await forward.close()
