"""Smoke run of ``python -m benchmarks``: completes and writes valid JSON (no timing assertions)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from agnostic_losses._registry import losses

benchmarks_suite = pytest.importorskip("benchmarks.suite", reason="run from the repository root")
from benchmarks.inputs import SIZES, sized_inputs  # noqa: E402


def test_smoke_run_writes_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bench.json"
    assert benchmarks_suite.main(["--smoke", "--quiet", "--json", str(path)]) == 0
    results = json.loads(path.read_text())
    assert set(results) >= {"meta", "rows", "compile", "dask_large"}
    assert results["rows"], "the smoke run measured nothing"
    measured = [r for r in results["rows"] if r["ours_s"] is not None]
    assert measured, [r["note"] for r in results["rows"]]
    for row in measured:
        assert row["size"] == "tiny"
        assert row["ours_s"] > 0
        assert row["peer_s"] > 0
        assert row["ratio"] == pytest.approx(row["ours_s"] / row["peer_s"])
    errors = [r for r in results["rows"] if r["note"].startswith("error")]
    assert not errors, errors
    assert "ratio" in capsys.readouterr().out


def test_sized_inputs_keep_structure() -> None:
    """Rescaled inputs: the requested shape, the small inputs' dtypes, labels in range."""
    for case in losses().values():
        inputs, why = sized_inputs(case, "tiny")
        if inputs is None:
            assert why
            continue
        small = case.inputs(0)
        assert inputs.args[0].shape in (SIZES["tiny"], SIZES["tiny"][::-1])
        for big, little in zip(inputs.args, small.args):
            if isinstance(little, np.ndarray):
                assert big.dtype == little.dtype
                if np.issubdtype(little.dtype, np.floating):
                    assert big.min() >= little.min()
                    assert big.max() <= little.max()
        assert set(inputs.kwargs) == set(small.kwargs)


def test_unknown_size_is_rejected() -> None:
    with pytest.raises(SystemExit):
        benchmarks_suite.main(["--sizes", "huge"])
