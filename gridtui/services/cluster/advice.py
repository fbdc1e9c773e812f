"""What to do about a node that cannot take part, by cause: the advice fits the failure."""

from __future__ import annotations

INSTALL = "run `gridtui cluster install`"

# Transport reasons (transport.base.REASONS) and the lifecycle's own causes. Host-key and
# local problems carry their advice in the message itself (the file, the command to run).
ADVICE = {
    "refused": "nothing accepts SSH there: check the node's host and port, and that sshd runs",
    "dns": "check the host name (DNS, /etc/hosts, or a Host alias in ~/.ssh/config)",
    "unreachable": "no route to the node: is it up and on this network?",
    "timeout": "is the node up, and does a firewall let SSH through?",
    "auth": "check the node's user and identity (ssh-copy-id puts your key on the node)",
    "closed": "the connection dropped: try again; if it keeps dropping, read the node's sshd log",
    "ray-missing": INSTALL,
    "ray-version": INSTALL,
    "venv-missing": f"{INSTALL} (it creates the env)",
    "no-python": "set the node's `python:` to an interpreter that exists there",
}
# Causes `gridtui cluster install` can fix.
INSTALLABLE = frozenset({"ray-missing", "ray-version", "venv-missing"})


def about(node: str, text: str) -> str:
    """`node: text`, once: transport and node-script messages already start with the node."""
    return text if text.startswith(f"{node}: ") else f"{node}: {text}"


def advised(text: str, cause: str) -> str:
    """The message and, unless it already says what to do, the advice for its cause."""
    tip = ADVICE.get(cause, "")
    return f"{text}; {tip}" if tip and tip not in text else text
