"""The package's layers: nothing imports anything above it, and the surfaces are siblings.

Every ``import`` and ``from ... import`` of a package module (at module level or inside a
function, read from the source with ``ast``) is checked against ``LAYERS``: dispatch and shared
numerics at the bottom, the loss kernels above them knowing nothing of the surfaces, the surface
machinery, the surfaces, the package's namespace, and the tools that read the registry (tests,
``check``, benchmarks, README) at the top. Within the surfaces only the torch-style classes may
call another surface (a class is a function plus stored options); the optax-style top level,
``functional`` and ``keras`` share a body through ``_bodies``, not through each other.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

import agnostic_losses

ROOT = Path(agnostic_losses.__file__).parent

LAYERS: tuple[frozenset[str], ...] = (
    # namespace, dtype and device handling, backend delegation, shared numerics, loops, autodiff
    frozenset(
        {
            "_dispatch",
            "_fastpath",
            "_fastpath_torch",
            "_dask",
            "_delegation",
            "_numerics",
            "_loops",
            "_autodiff",
            "_autodiff_torch",
        }
    ),
    frozenset({"_kernels"}),  # the loss kernels, by family
    # what every surface uses: argument handling, reductions, native routes, docstrings, bodies
    frozenset({"_surface", "_reductions", "_native", "_docs", "_bodies"}),
    frozenset({"_toplevel", "functional", "keras", "_classes"}),  # the surfaces
    frozenset({"__init__"}),  # the package's namespace
    frozenset({"_registry", "_testing", "testing", "cli", "_readme", "__main__"}),  # tools
)
SURFACES = LAYERS[3]
WRAPS_OTHER_SURFACES = frozenset({"_classes"})


def _layer(part: str) -> int:
    for i, names in enumerate(LAYERS):
        if part in names:
            return i
    raise AssertionError(f"agnostic_losses.{part} is in no layer of tests/test_layers.py")


def _part(module: str) -> str:
    """The package's top-level part a dotted module name belongs to (``'__init__'`` for the
    package itself)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


@functools.cache
def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = ["agnostic_losses", *path.relative_to(ROOT).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _imports(module: str, path: Path) -> set[str]:
    """The package's modules that ``module`` imports (``from . import x`` names module x)."""
    known = _modules()
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("agnostic_losses"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            if not target.startswith("agnostic_losses"):
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in known else target)
    return found


MODULES = _modules()


def test_every_part_has_a_layer() -> None:
    parts = {_part(m) for m in MODULES}
    assert {p for p in parts if not any(p in names for names in LAYERS)} == set()


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_only_its_layer_and_below(module: str) -> None:
    source = _part(module)
    for target in sorted(_imports(module, MODULES[module])):
        dest = _part(target)
        if dest == source:
            continue
        assert _layer(dest) <= _layer(source), (
            f"{module} (layer {_layer(source)}) imports {target} (layer {_layer(dest)}): "
            "nothing may import a layer above its own"
        )
        if source in SURFACES and dest in SURFACES:
            assert source in WRAPS_OTHER_SURFACES, (
                f"{module} imports {target}: surfaces are siblings; share the body "
                "through agnostic_losses._bodies"
            )


def test_the_check_finds_a_violation(tmp_path: Path) -> None:
    """The import reader sees relative, absolute and function-level imports."""
    source = tmp_path / "mod.py"
    source.write_text(
        "from .._toplevel.linear_ce import chunked\n"
        "def f():\n"
        "    import agnostic_losses.functional\n"
        "    from .. import keras\n"
    )
    found = _imports("agnostic_losses._kernels.mod", source)
    assert {
        "agnostic_losses._toplevel.linear_ce",
        "agnostic_losses.functional",
        "agnostic_losses.keras",
    } <= found
