"""gridtui: one keyboard-driven console for a pool of machines run by Ray over SSH."""

__version__ = "0.1.0"
