"""Writes ``docs/api/*.rst``: one autosummary table per surface and family, from the package's
``__all__`` and the registry's families (the pages are generated on every build)."""

from __future__ import annotations

from pathlib import Path

import agnostic_losses
from agnostic_losses import functional
from agnostic_losses import keras as keras_surface
from agnostic_losses._registry import losses

SURFACES = (
    ("toplevel", "Top level (optax / braintools style)", "top", "agnostic_losses"),
    (
        "functional",
        "agnostic_losses.functional (torch.nn.functional style)",
        "functional",
        "agnostic_losses.functional",
    ),
    ("classes", "Loss classes (torch.nn style)", "class", "agnostic_losses"),
    ("keras", "agnostic_losses.keras (keras.losses functions)", "keras", "agnostic_losses.keras"),
    (
        "keras_classes",
        "agnostic_losses.keras classes (keras.losses classes)",
        "keras_class",
        "agnostic_losses.keras",
    ),
)

_KERAS_BASES = ("Loss", "LossFunctionWrapper")
# keras.losses's lookups, listed with the functions under "Other"
_KERAS_LOOKUPS = ("deserialize", "get", "serialize")


def _table(module: str, names: list[str]) -> list[str]:
    lines = [f".. currentmodule:: {module}", "", ".. autosummary::", "   :toctree: generated", ""]
    lines += [f"   {n}" for n in names]
    return [*lines, ""]


def write_api_pages(out: Path) -> None:
    out.mkdir(exist_ok=True)
    family = {(surface, name): case.family for (surface, name), case in losses().items()}
    public = {
        "top": [
            n
            for n in agnostic_losses.__all__
            if n[:1].islower() and n != "functional" and callable(getattr(agnostic_losses, n))
        ],
        "functional": list(functional.__all__),
        "class": [
            n
            for n in agnostic_losses.__all__
            if n[:1].isupper() and n not in ("Loss", "WeightedLoss")
        ],
        # the keras surface without its aliases (mse, BCE, ...): they are the same functions
        "keras": [
            n
            for n in keras_surface.__all__
            if n[:1].islower()
            and n not in _KERAS_LOOKUPS
            and n == getattr(keras_surface, n).__name__
        ]
        + list(_KERAS_LOOKUPS),
        "keras_class": [
            n
            for n in keras_surface.__all__
            if isinstance(getattr(keras_surface, n), type) and n not in _KERAS_BASES
        ],
    }
    for slug, title, surface, module in SURFACES:
        groups: dict[str, list[str]] = {}
        for name in public[surface]:
            groups.setdefault(family.get((surface, name), "other"), []).append(name)
        lines = [title, "=" * len(title), ""]
        for fam in sorted(groups, key=lambda f: (f == "other", f)):
            heading = fam.capitalize()
            lines += [heading, "-" * len(heading), ""]
            lines += _table(module, sorted(groups[fam]))
        _write(out / f"{slug}.rst", lines)
    base = ["Base classes", "============", ""]
    base += ["Custom losses subclass these, exactly as a ``torch.nn`` loss.", ""]
    base += _table("agnostic_losses", ["Loss", "WeightedLoss"])
    base += ["Custom keras-style losses subclass these, exactly as a ``keras.losses`` loss.", ""]
    base += _table("agnostic_losses.keras", list(_KERAS_BASES))
    _write(out / "base.rst", base)
    testing = ["agnostic_losses.testing", "=======================", ""]
    testing += [".. automodule:: agnostic_losses.testing", "   :no-members:", ""]
    testing += _table(
        "agnostic_losses.testing",
        [
            "assert_close",
            "compare_backends",
            "default_tolerance",
            "installed_backends",
            "Backend",
            "CheckRow",
            "ComparisonReport",
        ],
    )
    _write(out / "testing.rst", testing)


def _write(path: Path, lines: list[str]) -> None:
    text = "\n".join(lines).rstrip() + "\n"
    if not path.exists() or path.read_text() != text:  # keep mtimes: incremental builds
        path.write_text(text)
