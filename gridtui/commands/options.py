"""Command-line options: one parser class (one-line errors, exit 2) and range-checked types."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, NoReturn

from gridtui.configvalues import Range, human_size, parse_size, show, theme_names
from gridtui.model.numbers import parse_float, parse_int


class Parser(argparse.ArgumentParser):
    """argparse with one line per usage error (exit 2, like a bad cluster file); the full
    usage is one `--help` away. Subcommand parsers inherit the class."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see `{self.prog} --help`)\n")


def number(span: Range) -> Callable[[str], Any]:
    """An argparse type: the option's text as a number inside `span`, or a usage error."""

    def parse(text: str) -> Any:
        try:
            # ASCII digits only: int() and float() would take an Arabic-Indic one or `1_0`.
            value: int | float = parse_int(text) if span.integer else parse_float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected {span.describe()}, got {show(text)}"
            ) from None
        try:
            return span.check(value, shown=text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = "integer" if span.integer else "number"
    return parse


def size(lo: int, hi: int) -> Callable[[str], int]:
    """An argparse type: a size such as 300MiB between `lo` and `hi` bytes."""

    def parse(text: str) -> int:
        try:
            value = parse_size(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(
                f"{text} is out of range: expected a size from {human_size(lo)} to {human_size(hi)}"
            )
        return value

    parse.__name__ = "size"
    return parse


def path(text: str) -> str:
    """A file path: an empty one is refused, never read as "not given"."""
    if not text:
        raise argparse.ArgumentTypeError("the path is empty")
    if not text.isprintable():
        raise argparse.ArgumentTypeError(f"{show(text)} contains a control character")
    return text


def theme(text: str) -> str:
    if text not in theme_names():
        raise argparse.ArgumentTypeError(
            f"unknown theme {show(text)}; known: {', '.join(sorted(theme_names()))}"
        )
    return text


def add_config(parser: argparse.ArgumentParser) -> None:
    """-c on a subcommand; SUPPRESS keeps it from overwriting a `gridtui -c FILE CMD`."""
    parser.add_argument(
        "-c",
        "--config",
        type=path,
        default=argparse.SUPPRESS,
        help="the cluster file (default: the lookup order)",
    )
