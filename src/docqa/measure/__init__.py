"""Measuring: `docqa eval`, `--ablate`, `--baseline`, `calibrate` and `bench`, and the commands that run them."""

from __future__ import annotations

from docqa.measure import commands  # registers eval, calibrate and bench on the CLI's group

__all__ = ["commands"]
