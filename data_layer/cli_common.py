"""What every sub-command of ``python -m data_layer`` shares: the bad-input error (exit 2) and the progress line.

``data_layer.cli`` registers the sub-commands (``imports.cli``, ``exports.cli``, ``governance.cli``) and they import
only this module, never ``data_layer.cli``, so the command line has no import cycle.
"""
from __future__ import annotations

import sys


class UsageError(Exception):
    """Bad input from the user: exit code 2."""


def say(msg: str) -> None:
    """A progress or error line on stderr (stdout keeps the result, for scripts)."""
    print(msg, file=sys.stderr, flush=True)


__all__ = ["UsageError", "say"]
