"""Opens the console: finds the cluster file, builds the back-end, runs the Textual app."""

from __future__ import annotations

import argparse
import sys

from gridtui.config import ClusterConfig, ConfigError, find_config, load_config


def _start_demo_in_background() -> None:
    """Bring the demo cluster up on a thread, so the first frame does not wait for Ray.

    The agents already stream meanwhile (each node shows no Ray processes until it starts);
    a failure is kept in gridtui.cluster.demo.last_error for the console to show."""
    import threading

    from gridtui.cluster.demo import start_demo_thread

    threading.Thread(target=start_demo_thread, name="demo-start", daemon=True).start()


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

    if config.demo:
        _start_demo_in_background()
    backend = make_backend(config, path)
    app = make_app(backend, theme=args.theme)
    app.run()
    return app.return_code or 0
