"""The `docqa` command: the everyday commands and the measuring ones (eval, calibrate, bench) on one group."""

from __future__ import annotations

import docqa.measure  # noqa: F401  (registers eval, calibrate and bench on `main`)
from docqa.interfaces import main

__all__ = ["main"]

if __name__ == "__main__":
    main()
