"""``python -m benchmarks``: see :func:`benchmarks.suite.main`."""

from __future__ import annotations

import sys

from .suite import main

if __name__ == "__main__":
    sys.exit(main())
