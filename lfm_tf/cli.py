"""What every command-line entry shares: bad input is one line, not a traceback."""

from __future__ import annotations

import sys
from collections.abc import Callable

from absl import app


def run(main: Callable, flags_parser: Callable | None = None, exit_code: int = 1) -> None:
    """`absl.app.run(main)`, printing a ValueError or FileNotFoundError (what this
    package raises for bad input: missing folders, wrong layouts, unknown names) as
    `error: <message>` and exiting with `exit_code`."""
    try:
        if flags_parser is None:
            app.run(main)
        else:
            app.run(main, flags_parser=flags_parser)
    except (ValueError, FileNotFoundError) as err:
        sys.stderr.write(f"error: {err}\n")
        sys.exit(exit_code)
