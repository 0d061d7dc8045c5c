"""The README stays true: its loss table is the registry's, its Python examples run."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

import agnostic_losses
from agnostic_losses import functional
from agnostic_losses._registry import CASES, loss_table, losses

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- loss-table:start -->\n", "<!-- loss-table:end -->"


def _readme() -> str:
    return README.read_text(encoding="utf-8")


def test_loss_table_is_generated_from_the_registry() -> None:
    text = _readme()
    table = text[text.index(START) + len(START) : text.index(END)]
    assert table == loss_table(), (
        "README loss table is stale: run `python -m agnostic_losses._registry` and paste it"
    )


def test_every_table_name_is_importable_and_has_an_oracle() -> None:
    text = _readme()
    table = text[text.index(START) : text.index(END)]
    rows = re.findall(r"^\| ([^|]+) \| `([^`]+)` \|", table, flags=re.MULTILINE)
    assert rows, "no rows found in the README loss table"
    for surface, name in rows:
        module = functional if "functional" in surface else agnostic_losses
        assert callable(getattr(module, name)), f"{surface} {name} is not importable"
        key = (
            "functional"
            if "functional" in surface
            else "class"
            if surface.strip() == "class"
            else "top",
            name,
        )
        cases = [c for c in CASES if (c.surface, c.name) == key]
        assert cases, f"{key} is in the table but has no registry case"
        assert any(c.reference is not None or (c.peer and c.peer.runnable) for c in cases), key


def test_every_public_loss_is_registered() -> None:
    registered = {name for (_, name) in losses()}
    public = {
        n
        for n in agnostic_losses.__all__
        if callable(getattr(agnostic_losses, n)) and n not in ("Loss", "WeightedLoss")
    }
    public |= set(functional.__all__)
    missing = sorted(public - registered)
    assert not missing, f"public names without a registry case: {missing}"


PYTHON_BLOCKS = re.findall(r"```python\n(.*?)```", _readme(), flags=re.DOTALL)


@pytest.mark.parametrize(
    "block", PYTHON_BLOCKS, ids=[f"block{i}" for i in range(len(PYTHON_BLOCKS))]
)
def test_readme_python_examples_run(block: str) -> None:
    for module in re.findall(r"^import (\w+)", block, flags=re.MULTILINE):
        try:
            importlib.import_module(module)
        except ImportError:
            pytest.skip(f"the example needs {module}, which is not installed")
    exec(compile(block, str(README), "exec"), {})
