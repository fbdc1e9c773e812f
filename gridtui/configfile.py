"""Reading a cluster file safely: a small regular UTF-8 file, YAML without duplicate keys."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from gridtui.errors import GridError

# A 1000-node file with comments is ~150 KiB; anything far beyond is not a cluster file, and
# reading it must stay bounded in time and memory (PyYAML builds a Python object per token).
MAX_BYTES = 1024 * 1024
MAX_NODES = 1000
# YAML values after alias expansion (an alias bomb is a few lines that expand to millions),
# and how deep mappings and lists may nest (the deepest real field is 4 levels down).
MAX_VALUES = 100_000
MAX_DEPTH = 16
# Problems printed for one file; the rest are counted.
MAX_PROBLEMS = 50

_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MERGE_TAG = "tag:yaml.org,2002:merge"


class ConfigError(GridError):
    """Every problem found in a cluster file, one line each, ready to print."""

    exit_code = 2
    prefix = ""  # each problem starts with file:line

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__(problems[0] if problems else "bad cluster file")
        self.problems = list(problems)

    def report(self) -> str:
        shown = self.problems[:MAX_PROBLEMS]
        more = len(self.problems) - len(shown)
        return "\n".join(shown + ([f"(and {more} more problems)"] if more > 0 else []))


_ERRNO_TEXT = {
    errno.ENOENT: "no such file",
    errno.ENOTDIR: "a part of the path is a file, not a directory",
    errno.ELOOP: "too many symbolic links (a symlink loop?)",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENAMETOOLONG: "the path is too long",
    errno.EISDIR: "is a directory, not a file",
}


def _os_problem(exc: OSError) -> str:
    return _ERRNO_TEXT.get(exc.errno or 0, f"cannot read: {exc.strerror or exc}")


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def read_bytes(path: Path, where: str) -> bytes:
    """The file's bytes, refusing at once anything that is not a small regular file.

    stat() comes first so a FIFO or a device is never opened (opening one can block or
    act); O_NONBLOCK and a second fstat() cover a file swapped in between."""
    try:
        mode = os.stat(path).st_mode
        if not stat.S_ISREG(mode):
            raise ConfigError([f"{where}: is {_kind(mode)}, not a cluster file"])
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise ConfigError([f"{where}: {_os_problem(exc)}"]) from None
    except ValueError:  # an embedded NUL byte
        raise ConfigError([f"{where!r}: the path contains a NUL byte"]) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError([f"{where}: is {_kind(info.st_mode)}, not a cluster file"])
        if info.st_size > MAX_BYTES:
            raise ConfigError([_too_large(where, info.st_size)])
        chunks, total = [], 0
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
            total += len(chunk)
            if total > MAX_BYTES:  # it grew while we read, or stat lied (/proc)
                raise ConfigError([_too_large(where, total)])
        return b"".join(chunks)
    except OSError as exc:
        raise ConfigError([f"{where}: {_os_problem(exc)}"]) from None
    finally:
        os.close(fd)


def _too_large(where: str, size: int) -> str:
    return f"{where}: too large for a cluster file ({size} bytes; at most {MAX_BYTES // 1024} KiB)"


def decode(data: bytes, source: str) -> str:
    """UTF-8 text, or one line saying where the first byte that is not UTF-8 is."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        start = exc.start
        line = data.count(b"\n", 0, start) + 1
        column = start - (data.rfind(b"\n", 0, start) + 1) + 1
        raise ConfigError(
            [
                f"{source}:{line}: not UTF-8 text: byte 0x{data[start]:02x} at offset {start} "
                f"(column {column}); save the file as UTF-8"
            ]
        ) from None


class _Loader(_LOADER):  # type: ignore[valid-type,misc]
    """A value Python refuses (a 5000-digit number, month 13) becomes a YAML error at its
    line instead of a ValueError from deep inside PyYAML."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read this value: {str(exc).split(';')[0]}", node.start_mark
            ) from None


def _scalar_key(loader: _Loader, node: yaml.Node) -> Any:
    """The key as YAML will build it (`yes` and `true` are one key), or its raw text."""
    try:
        key = loader.construct_object(node)
        hash(key)
        return key
    except (yaml.YAMLError, TypeError):
        return (node.tag, node.value)


def _check_tree(loader: _Loader, root: yaml.Node, source: str) -> list[str]:
    """Duplicate keys (naming both lines), nesting depth, size after aliases, alias loops.

    Iterative, and each node's expanded size is counted once, so an alias bomb costs the
    size of its text, not of its expansion."""
    problems: list[str] = []
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            sizes[key] = 1 + sum(sizes.get(id(c), 0) for c in _children(node))
            if sizes[key] > MAX_VALUES:
                raise ConfigError(
                    [
                        f"{source}:{node.start_mark.line + 1}: too many values "
                        f"(more than {MAX_VALUES} after YAML aliases are expanded)"
                    ]
                )
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise ConfigError(
                [f"{source}:{node.start_mark.line + 1}: a YAML alias refers to itself"]
            )
        if depth > MAX_DEPTH:
            raise ConfigError(
                [f"{source}:{node.start_mark.line + 1}: nested more than {MAX_DEPTH} levels deep"]
            )
        on_path.add(key)
        stack.append((node, depth, True))
        if isinstance(node, yaml.MappingNode):
            problems += _duplicates(loader, node, source)
        stack.extend((c, depth + 1, False) for c in _children(node))
    return problems


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _duplicates(loader: _Loader, node: yaml.MappingNode, source: str) -> list[str]:
    seen: dict[Any, int] = {}
    out = []
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE_TAG:
            continue
        key = _scalar_key(loader, key_node)
        line = key_node.start_mark.line + 1
        if key in seen:
            out.append(
                f"{source}:{line}: duplicate key {key_node.value!r} (also at line {seen[key]}); "
                "YAML would silently keep the last one: remove one"
            )
        else:
            seen[key] = line
    return out


def load_yaml(text: str, source: str) -> tuple[Any, yaml.Node | None]:
    """(data, composed tree) of one YAML document, or ConfigError naming source:line."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None, None
        problems = _check_tree(loader, root, source)
        if problems:
            raise ConfigError(problems)
        return loader.construct_document(root), root
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else "?"
        what = str(exc.problem or exc.context or "").strip() or "cannot parse"
        raise ConfigError([f"{source}:{line}: YAML syntax: {what}"]) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, max(0, exc.position)) + 1
        char = exc.character
        code = ord(char) if isinstance(char, str) else int(char)  # libyaml gives an int
        shown = f"U+{code:04X}"
        raise ConfigError(
            [f"{source}:{line}: a control character ({shown}) is not allowed in YAML text"]
        ) from None
    except yaml.YAMLError as exc:
        first = (str(exc).strip().splitlines() or ["cannot parse"])[0]
        raise ConfigError([f"{source}: YAML: {first}"]) from None
    except RecursionError:
        raise ConfigError([f"{source}: YAML nested too deeply to read"]) from None
    finally:
        loader.dispose()


def line_of(root: yaml.Node | None, loc: Sequence[int | str]) -> int | None:
    """Walk the composed YAML tree along a validation error's location to find its line."""
    node = root
    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if getattr(k, "value", None) == key), None)
            if pair is None:
                break
            line = pair[0].start_mark.line + 1
            node = pair[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
            if key >= len(node.value):
                break
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            break
    return line


def field_name(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"
