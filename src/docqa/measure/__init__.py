"""Measuring: `docqa eval` (with --ablate and --baseline), `calibrate` and `bench`, and their commands."""

from __future__ import annotations

from docqa.measure import benchcommands, commands  # register eval, calibrate and bench on the CLI's group

__all__ = ["benchcommands", "commands"]
