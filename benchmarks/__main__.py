"""``python -m benchmarks``: see :func:`benchmarks.suite.main`; ``python -m benchmarks dask``:
:func:`benchmarks.dask_scaling.main`; ``python -m benchmarks linear_ce``:
:func:`benchmarks.linear_ce.main`; ``python -m benchmarks adaptive``:
:func:`benchmarks.adaptive.main`."""

from __future__ import annotations

import sys

from .suite import main

if __name__ == "__main__":
    if sys.argv[1:2] == ["dask"]:  # python -m benchmarks dask ...: see benchmarks/dask_scaling.py
        from .dask_scaling import main as dask_main

        sys.exit(dask_main(sys.argv[2:]))
    if sys.argv[1:2] == ["linear_ce"]:  # see benchmarks/linear_ce.py
        from .linear_ce import main as linear_ce_main

        sys.exit(linear_ce_main(sys.argv[2:]))
    if sys.argv[1:2] == ["adaptive"]:  # see benchmarks/adaptive.py
        from .adaptive import main as adaptive_main

        sys.exit(adaptive_main(sys.argv[2:]))
    sys.exit(main())
