"""gridtui's temporaries beside an output: their names, and the sweep of those left behind."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
import zlib

# A named temporary's suffix: `.NAME.HOST-PID-RANDOM.gridtui-part`. The host and PID say
# whose it is, so a sweep removes only parts whose writer on this host is gone.
PART_SUFFIX = ".gridtui-part"
PART = re.compile(r"^\..*\.([0-9a-f]{4})-(\d+)-[0-9a-f]{8}\.gridtui-part$", re.S)
NAME_MAX = 255


def host_tag() -> str:
    return f"{zlib.crc32(os.uname().nodename.encode()) & 0xFFFF:04x}"


def part_name(name: str) -> str:
    """A hidden name beside `name` for a temporary, short enough for any file system."""
    suffix = f".{host_tag()}-{os.getpid()}-{secrets.token_hex(4)}{PART_SUFFIX}"
    room = NAME_MAX - len(suffix.encode()) - 1
    stem = os.fsencode(name)[:room].decode(errors="ignore")
    return f".{stem}{suffix}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's process: alive
    return True


def sweep(directory: str | os.PathLike[str]) -> list[str]:
    """Remove gridtui's temporaries in `directory` whose writer (same host, same user) is
    gone, as a SIGKILL leaves them where O_TMPFILE is not available. Returns their names."""
    gone: list[str] = []
    tag, uid = host_tag(), os.geteuid()
    try:
        names = os.listdir(directory)
    except OSError:
        return gone
    for name in names:
        found = PART.match(name)
        if found is None or found.group(1) != tag or _alive(int(found.group(2))):
            continue
        path = os.path.join(directory, name)
        with contextlib.suppress(OSError):
            st = os.lstat(path)
            if stat.S_ISREG(st.st_mode) and st.st_uid == uid:
                os.unlink(path)
                gone.append(name)
    return gone
