"""User-facing errors: the CLI prints their message on one line and exits with code 2."""

from __future__ import annotations


class ClaimmatchError(Exception):
    """A mistake the user can fix (bad input, missing index, wrong settings); never a bug."""

    exit_code = 2


class InputError(ClaimmatchError):
    """Unreadable or malformed input. The message names the file (and line) and what to do."""
