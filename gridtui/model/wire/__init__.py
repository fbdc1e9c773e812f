"""The typed calls to gridtui's actors, and the codec that carries them as plain data.

Why plain data on the wire: the actors' code travels pickled by value, so a class that
crosses is rebuilt as a new class on the other side (another client's, or an older
controller's), and `isinstance` fails there. Each side therefore sends `encode(value)`, a
dict of builtins tagged with the class name, and rebuilds it with its own classes. Every
request is a `Call[R]`: its answer is an `R`, or a `WireError` the caller raises as a
GridError."""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

R = TypeVar("R")
# What crosses: a dict of builtins, "__type__" naming the dataclass it came from (a key no
# field can take).
Wire = dict[str, Any]
TYPE = "__type__"


class WireMismatch(Exception):
    """Data that is not one of the classes expected here (another gridtui version)."""


@dataclass(frozen=True)
class WireError:
    """A refusal as a value: `kind` says which (malformed, unknown, exists, refused...)."""

    kind: str
    message: str


class Call(Generic[R]):
    """A request whose answer is an R. Subclasses are frozen dataclasses."""


def encode(value: object) -> Wire:
    """The dataclass as a tagged dict (its fields are builtins: they cross as they are)."""
    if not dataclasses.is_dataclass(value) or isinstance(value, type):
        raise TypeError(f"not a wire value: {value!r}")
    fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    return {TYPE: type(value).__name__, **fields}


def decode(data: Wire, kinds: Iterable[type[Any]]) -> Any:
    """The value `encode` made, as one of `kinds` (this side's own classes)."""
    known = {k.__name__: k for k in kinds}
    name = data.get(TYPE) if isinstance(data, dict) else None
    cls = known.get(str(name))
    if cls is None:
        raise WireMismatch(f"expected one of {', '.join(sorted(known))}, got {name!r}")
    fields = {f.name for f in dataclasses.fields(cls)}
    try:
        return cls(**{k: v for k, v in data.items() if k in fields})
    except TypeError as exc:
        raise WireMismatch(f"{name}: {exc}") from None


def answer_type(call: Call[R]) -> type[R]:
    """The R of a `Call[R]` subclass, read from its declared base."""
    for base in getattr(type(call), "__orig_bases__", ()):
        if typing.get_origin(base) is Call or (
            isinstance(typing.get_origin(base), type) and issubclass(typing.get_origin(base), Call)
        ):
            (answer,) = typing.get_args(base)
            if isinstance(answer, type):
                return answer
    raise TypeError(f"{type(call).__name__} does not say what it answers")


def answer(data: Wire, call: Call[R]) -> R | WireError:
    """The answer to `call` as this side's class, or the refusal it carries."""
    value = decode(data, (answer_type(call), WireError))
    if isinstance(value, WireError):
        return value
    return typing.cast(R, value)
