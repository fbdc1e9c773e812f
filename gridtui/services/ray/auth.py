"""The cluster's Ray token: made here at mode 600, and the settings every Ray process gets."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import shlex
import stat
import sys
from collections.abc import Mapping, MutableMapping
from pathlib import Path

from gridtui import paths
from gridtui.config import ClusterConfig
from gridtui.errors import UserError

# Ray 2.60 checks one shared token on every GCS, raylet and driver connection when
# RAY_AUTH_MODE=token. gridtui keeps one per cluster in its state dir, copies it beside each
# node's Ray temp dir before `ray start`, and points its own drivers at its file. Both
# variables are always set, and RAY_AUTH_TOKEN removed (Ray reads it before the file): a
# token left in ~/.ray or the environment by some other run never decides anything.
MODE = "RAY_AUTH_MODE"
PATH = "RAY_AUTH_TOKEN_PATH"
VALUE = "RAY_AUTH_TOKEN"


class RayAuthError(UserError):
    """The cluster's token is missing, unreadable or readable by others."""


def enabled(config: ClusterConfig) -> bool:
    return config.ray.auth == "token"


def token_file(config: ClusterConfig) -> Path:
    """Where this machine keeps the cluster's token: one file per cluster name and GCS
    address, so two cluster files that share a name never share (or rotate) a token."""
    where = f"{config.head.host}:{config.ray.port}"
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", config.name)[:40] or "cluster"
    digest = hashlib.sha256(where.encode()).hexdigest()[:10]
    return paths.state_dir() / "ray-auth" / f"{slug}-{digest}.token"


def _check_private(path: Path) -> None:
    try:
        info = path.stat()
    except FileNotFoundError:
        raise RayAuthError(
            f"no Ray token for this cluster at {path}: `gridtui cluster start` makes one "
            "(or copy the file from the machine that started the cluster, mode 600)"
        ) from None
    except OSError as exc:
        raise RayAuthError(f"cannot read the Ray token {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise RayAuthError(f"the Ray token {path} is not a regular file")
    if info.st_mode & 0o077:
        raise RayAuthError(
            f"the Ray token {path} is readable by others (mode {info.st_mode & 0o777:o}): "
            f"`chmod 600 {path}`, then `gridtui cluster rotate-token` (it may have been read)"
        )


def require_token(config: ClusterConfig) -> Path:
    """The token file, checked: present, a regular file, mode 600 (no group or other bits)."""
    path = token_file(config)
    _check_private(path)
    return path


def read_token(config: ClusterConfig) -> str:
    """The token itself: for copying it to nodes, or for an HTTP client's header."""
    path = require_token(config)
    try:
        token = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeError) as exc:
        raise RayAuthError(f"cannot read the Ray token {path}: {exc}") from None
    if not token:
        raise RayAuthError(f"the Ray token {path} is empty: `gridtui cluster rotate-token`")
    return token


def _write_new(path: Path, *, replace: bool) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(secrets.token_hex(32))  # 256 bits, as `ray get-auth-token --generate`
        if replace:
            os.replace(tmp, path)
        else:
            # A link fails when the file exists: of two processes making the first token
            # at once, one wins and both then use the winner's.
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def ensure_token(config: ClusterConfig) -> Path:
    """The cluster's token file, made now if there is none (what `cluster start` calls)."""
    path = token_file(config)
    if not path.exists():
        _write_new(path, replace=False)
    _check_private(path)
    return path


def new_token(config: ClusterConfig) -> Path:
    """Replace the cluster's token (rotation): nodes started before keep the old one."""
    path = token_file(config)
    _write_new(path, replace=True)
    return path


def settings(config: ClusterConfig) -> dict[str, str | None]:
    """What every Ray process of this cluster gets on this machine; None means unset."""
    if not enabled(config):
        return {MODE: "disabled", PATH: None, VALUE: None}
    return {MODE: "token", PATH: str(token_file(config)), VALUE: None}


def apply(config: ClusterConfig, env: MutableMapping[str, str]) -> MutableMapping[str, str]:
    for key, value in settings(config).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def driver_env(config: ClusterConfig, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a Ray driver process of this cluster (a copy of `base`, or of
    ours): the one call a subprocess, a probe or Ray's job client needs."""
    env = dict(os.environ if base is None else base)
    apply(config, env)
    return env


def use_here(config: ClusterConfig) -> None:
    """Make this process a driver of this cluster: its env, and Ray's cached mode and
    token re-read (Ray keeps both from the first connect; a second cluster needs them
    fresh). Call before `ray.init`; the token file is checked first."""
    if enabled(config):
        require_token(config)
    apply(config, os.environ)
    if "ray" in sys.modules:
        from gridtui.actors import ray_private

        ray_private.reload_auth()


def shell_prefix(config: ClusterConfig) -> str:
    """What to put before a Ray command typed by hand (`ray status`): the path, not the
    token, so it is safe to print."""
    if not enabled(config):
        return "RAY_AUTH_MODE=disabled "
    return f"RAY_AUTH_MODE=token RAY_AUTH_TOKEN_PATH={shlex.quote(str(token_file(config)))} "


def http_headers(config: ClusterConfig) -> dict[str, str]:
    """`Authorization` for Ray's HTTP endpoints (the dashboard, the job server)."""
    return {"Authorization": f"Bearer {read_token(config)}"} if enabled(config) else {}
