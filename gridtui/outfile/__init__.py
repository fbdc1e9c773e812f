"""Writing an output path as `cp` and `curl -o` do: files replaced whole, devices written."""

from gridtui.outfile.check import OutputError, check, effect, shown
from gridtui.outfile.output import Output, write_file
from gridtui.outfile.parts import NAME_MAX, PART_SUFFIX, part_name, sweep

__all__ = [
    "NAME_MAX",
    "PART_SUFFIX",
    "Output",
    "OutputError",
    "check",
    "effect",
    "part_name",
    "shown",
    "sweep",
    "write_file",
]
