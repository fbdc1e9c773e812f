"""Opens the console: finds the cluster file, builds the back-end, runs the Textual app."""

from __future__ import annotations

import argparse
import sys

from gridtui.config import ConfigError, find_config, load_config, parse_config

# Until the embedded demo cluster exists, no config means: watch this machine.
LOCALHOST_CONFIG = """
name: localhost
nodes:
  - name: localhost
    host: 127.0.0.1
    transport: local
    role: head
"""


def run_console(args: argparse.Namespace) -> int:
    path = find_config(args.config)
    try:
        config = load_config(path) if path else parse_config(LOCALHOST_CONFIG, "<built-in>")
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    from gridtui.backend import make_backend
    from gridtui.ui.app import make_app

    backend = make_backend(config, path)
    app = make_app(backend, theme=args.theme)
    app.run()
    return app.return_code or 0
