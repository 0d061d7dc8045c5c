"""README.md stays true: every generated part is what ``python -m agnostic_losses._readme
--write`` would write now, and every Python block prints what README shows under it."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

import agnostic_losses
from agnostic_losses import _readme, functional
from agnostic_losses._registry import CASES, losses
from agnostic_losses._testing.backends import Backend
from agnostic_losses._testing.check import count_checks, select_cases
from agnostic_losses._testing.compare import parse_dtypes

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
REGENERATE = "regenerate with `python -m agnostic_losses._readme --write`"


def _readme_text() -> str:
    return README.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["install", "extras", "loss-table", "bench"])
def test_generated_part_is_current(name: str) -> None:
    if name in ("install", "extras") and importlib.util.find_spec("tomllib") is None:
        pytest.skip("reading pyproject.toml needs tomllib (Python >= 3.11)")
    assert _readme.part(_readme_text(), name) == _readme.PARTS[name](ROOT), (
        f"README part {name!r} is stale: {REGENERATE}"
    )


def test_check_totals_are_current() -> None:
    """The counts sentence (no run needed: counted from the registry)."""
    body = _readme.part(_readme_text(), "check-output")
    assert body.startswith(_readme.check_totals() + "\n"), f"check totals are stale: {REGENERATE}"


def test_counted_checks_equal_the_rows_of_a_run() -> None:
    """``count_checks`` (which the README totals use) agrees with what ``check_cases`` runs
    (here without peers; the check-output test below compares a run with peers)."""
    from agnostic_losses._testing.check import check_cases

    cases = select_cases(CASES, ["sigmoid_binary_cross_entropy", "squared_error"])
    backends = [Backend.NUMPY, Backend.ARRAY_API_STRICT]
    dtypes = parse_dtypes(None)
    report = check_cases(cases, backends, dtypes)
    assert len(report.rows) == count_checks(cases, backends, dtypes)


def _missing_for_check_output() -> str | None:
    for name in _readme.README_BACKENDS:
        reason = Backend.parse(name).unavailable_reason()
        if reason is not None:
            return f"README's check output needs every test-extra backend: {reason}"
    return None


def test_check_output_is_current() -> None:
    """Runs ``agnostic-losses check --loss cross_entropy --peers`` in a fresh interpreter (one
    loss; JAX's eager compiles make it the slowest test of this file) and compares with
    README."""
    missing = _missing_for_check_output()
    if missing:
        pytest.skip(missing)
    output = _readme.run_check_command()
    counted = count_checks(
        select_cases(CASES, ["cross_entropy"]),
        [Backend.parse(b) for b in _readme.README_BACKENDS],
        parse_dtypes(None),
        peers=True,
    )
    assert f"\n{counted} passed, 0 failed, 0 errors, 0 skipped: PASS" in output
    assert _readme.part(_readme_text(), "check-output") == _readme.check_output_part(
        ROOT, output=output
    ), f"README's check output is stale: {REGENERATE}"


BLOCKS = _readme.python_blocks(_readme_text())


def test_every_python_block_shows_its_output() -> None:
    assert len(BLOCKS) >= 4, "README lost its quickstart blocks"
    for code, printed in BLOCKS:
        assert "print(" not in code or printed, f"no output block after:\n{code}"


def test_python_blocks_print_what_readme_shows() -> None:
    """Each block runs in a fresh interpreter (JAX in its default 32-bit mode, as a user has
    it); what it prints must be README's text block under it."""
    runnable = []
    for code, printed in BLOCKS:
        modules = re.findall(r"^(?:import|from) (\w+)", code, flags=re.MULTILINE)
        if all(importlib.util.find_spec(m) is not None for m in modules):
            runnable.append((code, printed))
    if not runnable:
        pytest.skip("no README block has its libraries installed here")
    outputs = _readme.run_python_blocks([code for code, _ in runnable], ROOT)
    for (_, printed), output in zip(runnable, outputs):
        assert output == (printed or ""), f"README block prints something else: {REGENERATE}"


def test_every_table_name_is_importable_and_has_an_oracle() -> None:
    table = _readme.part(_readme_text(), "loss-table")
    rows = re.findall(r"^\| ([^|]+) \| `([^`]+)` \|", table, flags=re.MULTILINE)
    assert rows, "no rows found in the README loss table"
    surfaces = {
        "top level": ("top", agnostic_losses),
        "`functional`": ("functional", functional),
        "class": ("class", agnostic_losses),
        "`keras`": ("keras", agnostic_losses.keras),
        "`keras` class": ("keras_class", agnostic_losses.keras),
    }
    for surface, name in rows:
        registry_surface, module = surfaces[surface.strip()]
        assert callable(getattr(module, name)), f"{surface} {name} is not importable"
        key = (registry_surface, name)
        cases = [c for c in CASES if (c.surface, c.name) == key]
        assert cases, f"{key} is in the table but has no registry case"
        assert any(c.reference is not None or (c.peer and c.peer.runnable) for c in cases), key


# Public callables that are not losses: the base classes, the value-check policy and the hand
# backward of linear_cross_entropy (tested against autodiff in test_linear_ce.py).
NOT_LOSSES = (
    "Loss",
    "WeightedLoss",
    "checks",
    "get_checks",
    "set_checks",
    "linear_cross_entropy_backward",
)


def test_every_public_loss_is_registered() -> None:
    registered = {name for (_, name) in losses()}
    public = {
        n
        for n in agnostic_losses.__all__
        if callable(getattr(agnostic_losses, n)) and n not in NOT_LOSSES
    }
    public |= set(functional.__all__)
    missing = sorted(public - registered)
    assert not missing, f"public names without a registry case: {missing}"


DOCUMENTS = [
    ROOT / "README.md",
    ROOT / "CONTRIBUTING.md",
    ROOT / "CHANGELOG.md",
    *sorted((ROOT / "docs").glob("*.md")),
]


@pytest.mark.parametrize("path", DOCUMENTS, ids=[p.name for p in DOCUMENTS])
def test_relative_links_stay_in_the_repository(path: Path) -> None:
    """What a contributor is pointed to is in the repository (no ``../shared/...``)."""
    text = path.read_text(encoding="utf-8")
    assert "../shared" not in text, f"{path.name} points outside the repository"
    for target in re.findall(r"\]\(([^)#\s]+)", text):
        if re.match(r"[a-z]+:", target):
            continue  # a URL
        resolved = (path.parent / target).resolve()
        assert resolved.exists(), f"{path.name} links to {target}, which does not exist"
        assert ROOT in resolved.parents, f"{path.name} links outside the repository: {target}"
