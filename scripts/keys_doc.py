"""Writes docs/keys.md from the console's own bindings, so the page cannot drift from them.

Run: .venv/bin/python scripts/keys_doc.py          (rewrites docs/keys.md)
     .venv/bin/python scripts/keys_doc.py --check  (exit 1 if docs/keys.md is out of date)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the recorded trace lives with the tests

from recorded import DEFAULT_TRACE, recorded_backend  # noqa: E402

from gridtui.prefs import Prefs  # noqa: E402
from gridtui.ui.app import make_app  # noqa: E402

HEADER = """# Keys

Every key of the console, generated from its bindings by `scripts/keys_doc.py` (a test
checks this page is current). `?` in the console shows the same list; `ctrl+p` opens the
command palette, which has an entry for every action below. A read-only console
(`gridtui --read-only`, or `ui.read_only: true` in the cluster file) refuses the keys marked
"(not in a read-only console)": they change the cluster. It leaves them out of its footer
and palette, and says why when one is pressed.
"""


def render() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        # Read-only, so the page marks the keys such a console refuses.
        backend = recorded_backend(DEFAULT_TRACE, Prefs(Path(tmp) / "prefs.json"))
        app = make_app(backend, read_only=True)
        rows = app.help_rows()
    out = [HEADER]
    current = None
    for where, key, what in rows:
        if where != current:
            out.append(f"\n## {where}\n\n| key | action |\n|---|---|\n")
            current = where
        out.append(f"| `{key}` | {what} |\n")
    return "".join(out)


def main() -> int:
    target = ROOT / "docs" / "keys.md"
    text = render()
    if "--check" in sys.argv:
        if not target.exists() or target.read_text() != text:
            print("docs/keys.md is out of date: run scripts/keys_doc.py", file=sys.stderr)
            return 1
        return 0
    target.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
