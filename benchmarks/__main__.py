"""``python -m benchmarks``: see :func:`benchmarks.suite.main`; ``python -m benchmarks dask``:
:func:`benchmarks.dask_scaling.main`."""

from __future__ import annotations

import sys

from .suite import main

if __name__ == "__main__":
    if sys.argv[1:2] == ["dask"]:  # python -m benchmarks dask ...: see benchmarks/dask_scaling.py
        from .dask_scaling import main as dask_main

        sys.exit(dask_main(sys.argv[2:]))
    sys.exit(main())
