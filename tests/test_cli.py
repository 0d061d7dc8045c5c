"""Tests of the ``agnostic-losses`` command (in-process through ``cli.main``, plus one
subprocess run of ``python -m agnostic_losses``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from agnostic_losses import _registry, cli
from agnostic_losses._registry import Inputs, LossCase
from agnostic_losses._testing.backends import Backend

FAST = ["--loss", "sigmoid_binary_cross_entropy", "--backend", "numpy", "--no-progress"]


def test_check_writes_json_markdown_and_plot(tmp_path: Path, capsys) -> None:
    pytest.importorskip("matplotlib", reason="the --plot output needs matplotlib")
    paths = {ext: tmp_path / f"report.{ext}" for ext in ("json", "md", "png")}
    status = cli.main(
        [
            "check",
            *FAST,
            "--json",
            str(paths["json"]),
            "--markdown",
            str(paths["md"]),
            "--plot",
            str(paths["png"]),
        ]
    )
    out = capsys.readouterr().out
    assert status == 0, out
    assert "top.sigmoid_binary_cross_entropy" in out
    assert "PASS" in out
    assert "0 failed" in out

    data = json.loads(paths["json"].read_text())
    assert data["passed"] is True
    assert data["metadata"]["backends"] == ["numpy"]
    assert data["metadata"]["dtypes"] == ["float32", "float64"]
    assert "numpy" in data["metadata"]["versions"]
    rows = data["rows"]
    assert {r["dtype"] for r in rows} == {"float32", "float64"}
    assert all(r["backend"] == "numpy" and r["status"] == "PASS" for r in rows)
    assert all(r["case"] == "top.sigmoid_binary_cross_entropy[default]" for r in rows)
    assert all(r["max_rel_error"] < 1e-5 for r in rows)

    markdown = paths["md"].read_text()
    assert "| case | backend | vs | dtype |" in markdown
    assert "`top.sigmoid_binary_cross_entropy[default]` | numpy | reference" in markdown
    assert "**PASS**" in markdown

    assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_check_plot_without_matplotlib(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import raises ImportError
    status = cli.main(["check", *FAST, "--plot", str(tmp_path / "x.png")])
    err = capsys.readouterr().err
    assert status == 2
    assert "--plot needs matplotlib" in err
    assert "agnostic-losses[plot]" in err
    assert not (tmp_path / "x.png").exists()


def _wrong_bce(logits, labels):
    from agnostic_losses import sigmoid_binary_cross_entropy

    return sigmoid_binary_cross_entropy(logits, labels) * 1.01


def test_check_exits_1_on_failure(monkeypatch, capsys, tmp_path: Path) -> None:
    good = next(c for c in _registry.CASES if c.name == "sigmoid_binary_cross_entropy")
    broken = LossCase(
        "broken_bce",
        "top",
        "classification",
        _wrong_bce,
        lambda rng: Inputs((rng.normal(size=(3,)), rng.uniform(size=(3,)))),
        good.reference,
    )
    monkeypatch.setattr(_registry, "CASES", (*_registry.CASES, broken))
    report = tmp_path / "r.json"
    status = cli.main(
        [
            "check",
            "--loss",
            "broken_bce",
            "--backend",
            "numpy",
            "--no-progress",
            "--json",
            str(report),
        ]
    )
    out = capsys.readouterr().out
    assert status == 1
    assert "FAIL" in out
    assert "top.broken_bce[default] on numpy float32 vs reference: value: 3 of 3" in out
    data = json.loads(report.read_text())
    assert data["passed"] is False
    assert data["counts"]["FAIL"] == 2


@pytest.mark.skipif(Backend.TORCH.unavailable_reason() is not None, reason="torch is not installed")
def test_check_peers_adds_peer_rows(capsys, tmp_path: Path) -> None:
    report = tmp_path / "peers.json"
    status = cli.main(
        [
            "check",
            "--json",
            str(report),
            "--loss",
            "functional.binary_cross_entropy_with_logits[default]",
            "--backend",
            "numpy",
            "--dtype",
            "float64",
            "--peers",
            "--per-dtype",
            "--no-progress",
        ]
    )
    out = capsys.readouterr().out
    assert status == 0, out
    rows = json.loads(report.read_text())["rows"]
    assert [(r["backend"], r["against"]) for r in rows] == [
        ("numpy", "reference"),
        ("torch", "torch.nn.functional.binary_cross_entropy_with_logits"),
    ]
    assert rows[1]["grad_error"] is not None
    assert rows[1]["status"] == "PASS"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["check", "--loss", "no_such_loss"], "unknown loss 'no_such_loss'"),
        (
            ["check", "--loss", "sigmoid_binary_cros_entropy"],
            "did you mean sigmoid_binary_cross_entropy",
        ),
        (["check", "--backend", "tensorflow"], "--backend contains unknown backend 'tensorflow'"),
        (["check", "--dtype", "float8"], "--dtype contains unknown dtype 'float8'"),
        (["check", "--family", "astrology"], "unknown family 'astrology'"),
        (["check", "--jobs", "0", *FAST], "--jobs must be at least 1"),
        (
            ["check", "--backend", "numpy", "--dtype", "bfloat16"],
            "no selected backend has dtype bfloat16",
        ),
    ],
)
def test_bad_arguments_exit_2(argv: list[str], expected: str, capsys) -> None:
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert expected in err


def test_unavailable_backend_exits_2(capsys) -> None:
    missing = [b for b in Backend if b.unavailable_reason() is not None]
    if not missing:
        pytest.skip("every backend is installed here; nothing to request that is missing")
    assert cli.main(["check", "--backend", missing[0].value, "--no-progress"]) == 2
    assert "requested backend not available" in capsys.readouterr().err


def test_usage_errors_exit_2(capsys) -> None:
    assert cli.main([]) == 2
    assert cli.main(["frobnicate"]) == 2
    assert "invalid choice" in capsys.readouterr().err
    assert cli.main(["--help"]) == 0
    assert "check" in capsys.readouterr().out


def test_list(capsys) -> None:
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert "sigmoid_binary_cross_entropy" in out
    assert "optax.losses.sigmoid_binary_cross_entropy" in out
    assert "BCEWithLogitsLoss" in out
    assert "classification" in out

    assert cli.main(["list", "--format", "json"]) == 0
    entries = json.loads(capsys.readouterr().out)
    names = {(e["surface"], e["name"]) for e in entries}
    assert ("top", "sigmoid_binary_cross_entropy") in names
    assert len(entries) == len(_registry.losses())
    bce = next(e for e in entries if e["name"] == "BCEWithLogitsLoss")
    assert bce["mirrors"] == "torch.nn.BCEWithLogitsLoss"

    assert cli.main(["list", "--format", "markdown"]) == 0
    assert capsys.readouterr().out.startswith("| surface | name | family | mirrors |")

    assert cli.main(["list", "--cases", "--format", "json"]) == 0
    cases = json.loads(capsys.readouterr().out)
    assert len(cases) == len(_registry.CASES)
    assert "functional.binary_cross_entropy_with_logits[weight-pos_weight-sum]" in {
        c["id"] for c in cases
    }


def test_backends(capsys) -> None:
    assert cli.main(["backends"]) == 0
    out = capsys.readouterr().out
    assert "numpy" in out
    assert "array_api_strict" in out
    assert np.__version__ in out
    assert "yes" in out

    assert cli.main(["backends", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    by_name = {e["backend"]: e for e in data["backends"]}
    assert set(by_name) == {b.value for b in Backend}
    assert by_name["numpy"]["available"] is True
    assert by_name["numpy"]["version"] == np.__version__
    for entry in by_name.values():
        assert entry["available"] == (entry["reason"] is None)


def test_python_dash_m_list() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "agnostic_losses", "list", "--format", "markdown"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "| top level | `sigmoid_binary_cross_entropy` | classification |" in result.stdout
