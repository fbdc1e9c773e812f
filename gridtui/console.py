"""Opens the console: finds the cluster file, builds the back-end, runs the Textual app."""

from __future__ import annotations

import argparse
import sys

from gridtui.config import ClusterConfig, ConfigError, find_config, load_config


def run_console(args: argparse.Namespace) -> int:
    path = find_config(args.config)
    try:
        config: ClusterConfig
        if path:
            config = load_config(path)
        else:
            from gridtui.cluster.demo import demo_config

            config = demo_config()
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
