"""Smoke run of ``benchmarks/dask_scaling.py`` (no timing assertions): the chunking rule, and an
out-of-core run over a few MiB on disk whose value is ours on NumPy on the same file."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from agnostic_losses._testing.backends import Backend

scaling = pytest.importorskip("benchmarks.dask_scaling", reason="run from the repository root")

# the conftest `backend` fixture: skip without Dask, fail where dask was requested and is missing
dask_only = pytest.mark.parametrize("backend", [Backend.DASK], ids=["dask"], indirect=True)


def test_realistic_rows_keep_whole_rows_and_cap_at_the_array() -> None:
    assert scaling.realistic_rows(4096, 1000, 64.0) == 4096  # 16 MiB: one chunk
    assert scaling.realistic_rows(10**6, 1000, 64.0) == 16777  # 64 MiB of float32 rows
    assert scaling.realistic_rows(10, 10**8, 64.0) == 1  # one row is already over 64 MiB


@dask_only
def test_out_of_core_value_and_cleanup(backend: Backend, tmp_path: Path) -> None:
    import agnostic_losses.functional as F

    seen: list[str] = []
    rows = scaling.out_of_core(0.01, 1.0, str(tmp_path), seen.append)
    assert [r["loss"] for r in rows] == list(scaling.LOSSES)
    assert os.listdir(tmp_path) == [], "the data files were not deleted"
    n = rows[0]["rows"]
    assert rows[0]["chunks"] == n // scaling.realistic_rows(n, scaling.CLASSES_OOC, 1.0)
    # the same data, regenerated as _write does, on NumPy
    rng = np.random.default_rng(0)
    chunk = scaling.realistic_rows(2**62, scaling.CLASSES_OOC, 1.0)
    xs, ys = [], []
    for _ in range(n // chunk):
        xs.append(rng.standard_normal((chunk, scaling.CLASSES_OOC), dtype=np.float32))
        ys.append(rng.integers(0, scaling.CLASSES_OOC, size=chunk))
    x, y = np.concatenate(xs), np.concatenate(ys)
    np.testing.assert_allclose(rows[0]["value"], float(F.cross_entropy(x, y)), rtol=1e-5)
    for row in rows:
        assert row["rechunk_layers"] == 0
        assert row["peak_rss_anon"] >= row["rss_anon_before"] > 0
    assert len(seen) == 2
