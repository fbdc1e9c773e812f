"""Ways to reach a node: SSH for remote machines, subprocess for this one."""

import warnings

from gridtui.transport.base import (
    CommandResult,
    LineStream,
    NodeTransport,
    TransportError,
    command_line,
)

# asyncssh still names cryptography's DSA types when it loads, and cryptography 47 and later
# warns about each one on stderr, ahead of gridtui's own output. Only that warning, only
# from asyncssh's own modules, is silenced here, before any transport module imports it.
try:
    from cryptography.utils import CryptographyDeprecationWarning
except ImportError:  # pragma: no cover - asyncssh needs cryptography
    pass
else:
    warnings.filterwarnings(
        "ignore",
        message=r"DSA is deprecated",
        category=CryptographyDeprecationWarning,
        module=r"asyncssh(\.|$)",
    )

__all__ = ["CommandResult", "LineStream", "NodeTransport", "TransportError", "command_line"]
