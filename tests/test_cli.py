"""Tests of the ``agnostic-losses`` command (in-process through ``cli.main``, plus one
subprocess run of ``python -m agnostic_losses``)."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import agnostic_losses
from agnostic_losses import _registry, cli
from agnostic_losses._registry import Inputs, LossCase, Peer
from agnostic_losses._testing.backends import Backend
from agnostic_losses._testing.compare import CheckRow, ComparisonReport

FAST = ["--loss", "sigmoid_binary_cross_entropy", "--backend", "numpy", "--no-progress"]


@pytest.fixture(autouse=True)
def _pipe_width(monkeypatch: pytest.MonkeyPatch) -> None:
    """Output to a pipe is 160 columns unless COLUMNS says otherwise; pytest-xdist workers set
    COLUMNS=80, so each test states the width it wants."""
    monkeypatch.delenv("COLUMNS", raising=False)


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
    assert '-e ".[plot]"' in err  # an extra of pyproject.toml, installed from the checkout
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
        (["check", "--seed", "-1", *FAST], "--seed must be a non-negative integer, got -1"),
        (
            ["check", "--json", "/no/such/folder/report.json", *FAST],
            "--json /no/such/folder/report.json: the folder /no/such/folder does not exist",
        ),
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


def test_version(capsys) -> None:
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"agnostic-losses {agnostic_losses.__version__}"


def test_version_is_single_sourced() -> None:
    tomllib = pytest.importorskip("tomllib", reason="reading pyproject.toml needs Python 3.11")
    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    data = tomllib.loads(pyproject.read_text())
    assert "version" not in data["project"]
    assert "version" in data["project"]["dynamic"]
    assert data["tool"]["hatch"]["version"]["path"] == "agnostic_losses/__init__.py"


def test_backends_lists_the_matrix_dtypes(capsys) -> None:
    """``backends`` reads each backend's dtypes from the test matrix, not from a fixed list."""
    assert cli.main(["backends", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    for entry in data["backends"]:
        assert entry["dtypes"] == list(Backend.parse(entry["backend"]).dtypes)


def _missing_peer_case() -> LossCase:
    good = next(c for c in _registry.CASES if c.name == "sigmoid_binary_cross_entropy")

    def load():
        raise ImportError("No module named 'notapeer'")

    return LossCase(
        "peerless_bce",
        "top",
        "classification",
        good.func,
        good.make_inputs,
        good.reference,
        peer=Peer("jax", "notapeer.losses.sigmoid_binary_cross_entropy", load),
    )


def test_peers_not_installed_are_skipped_and_name_the_extra(monkeypatch, capsys, tmp_path, require):
    require(Backend.JAX)  # the peer's library: without it, that is what the note names
    monkeypatch.setattr(_registry, "CASES", (*_registry.CASES, _missing_peer_case()))
    report = tmp_path / "r.json"
    argv = ["check", "--loss", "peerless_bce", "--backend", "numpy", "--peers", "--no-progress"]
    status = cli.main([*argv, "--json", str(report)])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "2 passed, 0 failed, 0 errors, 2 skipped" in out
    assert "SKIP" in out
    assert out.count("note:") == 1
    assert "notapeer" in out
    assert 'pip install -c requirements/constraints.txt -e ".[peers]"' in out
    data = json.loads(report.read_text())
    skipped = [r for r in data["rows"] if r["status"] == "SKIP"]
    assert [r["dtype"] for r in skipped] == ["float32", "float64"]
    assert all(r["skipped"] == "notapeer is not installed" for r in skipped)


def _wide_report(status: str = "PASS") -> ComparisonReport:
    """Long case ids, every backend, reference and peer rows: the widest table there is."""
    rows = []
    for case in (
        "functional.binary_cross_entropy_with_logits[weight-pos_weight-sum]",
        "functional.cross_entropy[probabilities-weight-smoothing]",
        "top.sigmoid_binary_cross_entropy[default]",
    ):
        for backend in Backend:
            for dtype in ("float32", "float64"):
                rows.append(
                    CheckRow(case, backend.value, dtype, "reference", 1.2e-7, 3.4e-8, 1.5, 2e-7)
                )
        for dtype in ("float32", "float64"):
            rows.append(
                CheckRow(case, "torch", dtype, "torch.nn.functional.x", 1e-7, 1e-7, 12345.6, 1e-5)
            )
    rows[0].passed = status == "PASS"
    rows[0].message = "" if status == "PASS" else "value: 1 of 3 elements beyond rtol"
    return ComparisonReport(rows, title="agnostic-losses check")


@pytest.mark.parametrize("width", [60, 80, 100, 160])
def test_table_fits_the_width_and_keeps_case_backend_result(width: int) -> None:
    from rich.console import Console

    report = _wide_report()
    console = Console(width=width, record=True, color_system=None, file=io.StringIO())
    report.print(console, show_case=True)
    text = console.export_text()
    lines = text.splitlines()
    assert all(len(line) <= width for line in lines), max(lines, key=len)
    data = [line for line in lines if line.startswith("│")]
    first_lines = [line for line in data if any(f" {b.value} " in line for b in Backend)]
    # One line per (case, backend, against) group, each naming its backend and its result.
    assert len(first_lines) == len(report.grouped())
    assert all(re.search(r"│ (PASS|FAIL) +│$", line) for line in first_lines)
    # The case ids survive (split at most at their variant bracket, never cut).
    cells = "".join(line.split("│")[1].strip() for line in data)
    for case in {r.case for r in report.rows}:
        assert case in cells
    if width < 160:
        assert f"not shown at {width} columns" in text
    else:
        assert "not shown" not in text
        assert "grad err" in text


def test_check_at_80_columns(monkeypatch, capsys) -> None:
    """``COLUMNS=80`` on a real run: every line fits and every row shows backend and result."""
    monkeypatch.setenv("COLUMNS", "80")
    status = cli.main(["check", *FAST, "--per-dtype"])
    out = capsys.readouterr().out
    assert status == 0, out
    lines = out.splitlines()
    assert all(len(line) <= 80 for line in lines), max(lines, key=len)
    rows = [line for line in lines if line.startswith("│") and "[default]" not in line]
    assert len(rows) == 2  # float32, float64 (the variant of a long id folds onto a 2nd line)
    assert all(" numpy " in line and " PASS " in line for line in rows)


def test_failures_only_with_nothing_failing_prints_one_line(capsys) -> None:
    assert cli.main(["check", *FAST, "--failures-only"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == ["no failures: 2 passed, 0 failed, 0 errors, 0 skipped: PASS"]


def test_failures_only_shows_the_failing_rows() -> None:
    text = _wide_report(status="FAIL").render(width=100, failures_only=True)
    rows = [line for line in text.splitlines() if line.startswith("│")]
    assert rows
    assert all("FAIL" in line or "PASS" not in line for line in rows)
    assert "FAIL functional.binary_cross_entropy_with_logits" in text


def test_plot_fits_its_labels(tmp_path: Path) -> None:
    """The figure grows with the labels (the title and colorbar label are not clipped: checked
    by eye; here that every text artist lies inside the saved canvas)."""
    matplotlib = pytest.importorskip("matplotlib", reason="the --plot output needs matplotlib")
    if tuple(int(p) for p in matplotlib.__version__.split(".")[:2]) < (3, 11):
        # (the saved figure is whole: bbox_inches="tight"; the test asks for the box)
        pytest.skip("matplotlib before 3.11 lays the title out 1.4 px above the figure box")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    saved = []
    monkey = pytest.MonkeyPatch()
    original = plt.Figure.savefig

    def spy(self, *args, **kwargs):
        saved.append(self)
        return original(self, *args, **kwargs)

    monkey.setattr(plt.Figure, "savefig", spy)
    monkey.setattr(plt, "close", lambda fig: None)
    try:
        cli._plot(_wide_report(status="FAIL"), str(tmp_path / "p.png"))
    finally:
        monkey.undo()
    (fig,) = saved
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box = fig.bbox
    texts = [t for ax in fig.axes for t in (ax.title, ax._left_title, ax.yaxis.label)]
    texts += [t for ax in fig.axes for t in ax.get_xticklabels() + ax.get_yticklabels()]
    for t in texts:
        if t.get_text():
            extent = t.get_window_extent(renderer)
            assert extent.x0 >= box.x0 - 1, t.get_text()
            assert extent.x1 <= box.x1 + 1, t.get_text()
            assert extent.y0 >= box.y0 - 1, t.get_text()
            assert extent.y1 <= box.y1 + 1, t.get_text()
    plt.close(fig)
    assert (tmp_path / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("command", [["list"], ["list", "--cases"], ["backends"]])
def test_list_and_backends_at_80_columns(command: list[str], monkeypatch, capsys) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    assert cli.main(command) == 0
    out = capsys.readouterr().out
    assert all(len(line) <= 80 for line in out.splitlines()), out
    if command == ["list"]:
        assert "softmax_cross_entropy_with_integer_labels" in out  # names are never cut
    if command == ["backends"]:
        assert "array_api_strict" in out
