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


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--sizes", "huge"], "unknown size(s) ['huge']"),
        (["--backends", "tensorflow"], "unknown backend(s) ['tensorflow']"),
        (["--loss", "no_such_loss"], "unknown loss(es) ['no_such_loss']"),
        (["--repeats", "0"], "--repeats must be >= 1"),
        (["--json", "/no/such/folder/x.json"], "the folder /no/such/folder does not exist"),
    ],
)
def test_bad_arguments_are_rejected_before_the_run(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        benchmarks_suite.main([*argv, "--quiet"])
    assert exit_.value.code == 2
    assert expected in capsys.readouterr().err


@pytest.mark.parametrize(
    ("command", "option"),
    [("dask_scaling", "--json"), ("adaptive", "--json"), ("linear_ce", "--markdown")],
)
def test_other_commands_refuse_an_unwritable_output_before_the_run(
    command: str, option: str, capsys: pytest.CaptureFixture[str]
) -> None:
    module = pytest.importorskip(f"benchmarks.{command}")
    with pytest.raises(SystemExit) as exit_:
        module.main([option, "/no/such/folder/out"])
    assert exit_.value.code == 2
    assert "the folder /no/such/folder does not exist" in capsys.readouterr().err


def test_loss_names_as_the_tables_print_them() -> None:
    opts = benchmarks_suite._parse(["--loss", "functional.nll_loss", "--smoke"])
    chosen = benchmarks_suite._selected(opts)
    assert [c.qualified_name for c in chosen] == ["agnostic_losses.functional.nll_loss"]


def test_torch_twins_compute_our_losses() -> None:
    """Every torch twin of a top-level loss gives our values on the registry's inputs and on
    the benchmark's grown inputs: a twin's ratio never compares two different losses."""
    pytest.importorskip("torch")
    from agnostic_losses._testing import backends as B
    from agnostic_losses._testing.backends import Backend
    from benchmarks.torch_twins import TWINS

    table = losses()
    assert set(TWINS) <= {name for surface, name in table if surface == "top"}
    for name, (_label, twin) in TWINS.items():
        case = table["top", name]
        grown, _ = sized_inputs(case, "tiny")
        for inputs in (case.inputs(3), grown):
            if inputs is None:
                continue
            args = [B.from_numpy(Backend.TORCH, a, "float64") for a in inputs.args]
            kwargs = {
                k: B.from_numpy(Backend.TORCH, v, "float64") for k, v in inputs.kwargs.items()
            }
            ours = np.asarray(B.to_numpy(case.func(*args, **kwargs)))
            theirs = twin(*args, **kwargs).numpy()
            np.testing.assert_allclose(theirs, ours, rtol=1e-9, atol=1e-12, err_msg=name)


def test_targets_summary_lists_every_miss() -> None:
    row = {"size": "medium", "dtype": "float32", "mode": "fwd", "shape": [4096, 1000]}
    rows = [
        {**row, "loss": "a", "backend": "torch", "peer": "torch.nn.functional.a", "ratio": 1.2},
        {**row, "loss": "b", "backend": "torch", "peer": "torch: relu(1 - x y)", "ratio": 1.2},
        {**row, "loss": "c", "backend": "jax-jit", "peer": "optax.losses.c", "ratio": 1.05},
        {**row, "loss": "d", "backend": "numpy", "peer": "plain NumPy", "ratio": 9.0},
        {**row, "loss": "e", "backend": "torch", "peer": "torch.nn.E", "ratio": None},
    ]
    text = benchmarks_suite.targets_markdown({"rows": rows})
    assert "| torch | 3 | 1 | 1 | 1 |" in text
    assert "| jax-jit | 1 | 1 | 0 | 0 |" in text
    assert "| `a` | torch |" in text
    assert "`b`" not in text
    assert "`d`" not in text


def test_adaptive_benchmark_ways_compute_the_same_loss() -> None:
    """``python -m benchmarks adaptive`` at a tiny size: every way (torch's layer, ours routed
    and generic, ours under jax.jit) gives torch's loss, so each ratio compares one loss."""
    pytest.importorskip("torch")
    from benchmarks import adaptive

    result = adaptive.run(tokens=64, features=16, classes=50, cutoffs=(5, 20), repeats=1, threads=0)
    rows = {r["way"]: r for r in result["rows"]}
    assert {"torch", "ours", "ours, generic"} <= set(rows)
    assert rows["torch"]["ratio"] == 1.0
    for row in rows.values():
        assert row["loss"] == pytest.approx(rows["torch"]["loss"], rel=1e-5)
        assert row["seconds"] > 0
    assert "| ours, generic |" in adaptive.markdown(result)
