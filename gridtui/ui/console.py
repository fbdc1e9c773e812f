"""Opens the console: finds the cluster file, builds the back-end, runs the Textual app."""

from __future__ import annotations

import argparse

from gridtui.backend import make_backend
from gridtui.config import ClusterConfig, find_config, load_config
from gridtui.services.demo import demo_config
from gridtui.ui.app import make_app


def run_console(args: argparse.Namespace) -> int:
    path = find_config(args.config)
    # A ConfigError reaches the CLI's one handler (one line per problem, exit 2).
    config: ClusterConfig = load_config(path) if path else demo_config()
    backend = make_backend(config, path)
    app = make_app(backend, theme=args.theme)
    app.run()
    return app.return_code or 0
