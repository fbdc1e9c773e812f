"""Allows `python -m gridtui`."""

from gridtui.cli import main

raise SystemExit(main())
