"""API tokens: created once and shown once, kept only as sha256 hashes in a mode-600 file."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gridtui import paths
from gridtui.errors import TokenFileError, UsageError
from gridtui.outfile import write_file

ROLES = ("read-only", "operator")
PREFIX = "gridtui_"
TOKEN_FILE = "api-tokens.json"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class Token:
    name: str
    role: str
    created: float
    digest: str  # sha256 of the token, hex: the token itself is never kept

    @property
    def operator(self) -> bool:
        return self.role == "operator"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "role": self.role, "created": self.created}


def token_file() -> Path:
    return paths.state_dir() / TOKEN_FILE


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


class TokenStore:
    """The token file; a running server re-reads it when it changes, so a revoke or a new
    token counts from the next request on."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or token_file()
        self._stamp: tuple[int, int, int] | None = None
        self._tokens: dict[str, Token] = {}

    def _read(self) -> dict[str, Token]:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self._stamp, self._tokens = None, {}
            return {}
        except OSError as exc:
            raise TokenFileError(f"cannot read {self.path}: {exc.strerror or exc}") from None
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        if stamp == self._stamp:
            return self._tokens
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            tokens = {
                name: Token(name, str(t["role"]), float(t["created"]), str(t["sha256"]))
                for name, t in data["tokens"].items()
            }
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise TokenFileError(
                f"{self.path} is damaged ({exc}); delete it and create new tokens"
            ) from None
        self._stamp, self._tokens = stamp, tokens
        return tokens

    def _write(self, tokens: dict[str, Token]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "tokens": {
                t.name: {"role": t.role, "created": t.created, "sha256": t.digest}
                for t in tokens.values()
            }
        }
        # Mode 600 whatever the file had: it holds the tokens' hashes.
        write_file(self.path, json.dumps(data, indent=2), mode=0o600, keep_mode=False)

    def list(self) -> list[Token]:
        return sorted(self._read().values(), key=lambda t: (t.created, t.name))

    def create(self, role: str, name: str | None = None) -> tuple[Token, str]:
        """A new token of `role`: its record, and the token (which nothing keeps)."""
        if role not in ROLES:
            raise UsageError(f"unknown role {role!r} (known: {', '.join(ROLES)})")
        tokens = dict(self._read())
        if name is None:
            n = 1
            while f"{role}-{n}" in tokens:
                n += 1
            name = f"{role}-{n}"
        elif not _NAME.match(name):
            raise UsageError(
                f"bad token name {name!r}: 1 to 64 of letters, digits, '.', '_' and '-', "
                "starting with a letter or digit"
            )
        if name in tokens:
            raise UsageError(f"a token named {name!r} exists: revoke it first, or pick another")
        secret = PREFIX + secrets.token_urlsafe(32)
        token = Token(name, role, time.time(), digest(secret))
        tokens[name] = token
        self._write(tokens)
        return token, secret

    def revoke(self, name: str) -> Token:
        tokens = dict(self._read())
        token = tokens.pop(name, None)
        if token is None:
            known = ", ".join(sorted(tokens)) or "none"
            raise UsageError(f"no token named {name!r} (known: {known})")
        self._write(tokens)
        return token

    def check(self, secret: str) -> Token | None:
        """The token `secret` is, or None; every stored hash is compared in constant time."""
        wanted = digest(secret)
        found = None
        for token in self._read().values():
            if hmac.compare_digest(token.digest, wanted):
                found = token
        return found
