"""Errors that reach the user as one line: the CLI prints them, the console notifies them."""


class UserError(Exception):
    """Bad input or an unreachable target: a clear sentence, no traceback, nothing changed."""

    exit_code = 1
