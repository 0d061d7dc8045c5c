"""The registry of loss cases: one source for the tests, ``agnostic-losses check``, the
benchmarks and the README loss table."""

from __future__ import annotations

from . import classification as _classification
from . import ctc as _ctc
from . import divergence as _divergence
from . import keras as _keras
from . import linear_ce as _linear_ce
from . import margin as _margin
from . import ranking as _ranking
from . import regression as _regression
from . import segmentation as _segmentation
from . import similarity as _similarity
from . import sparsemax as _sparsemax
from ._case import SURFACES, Inputs, LossCase, Peer, construct_and_call

__all__ = [
    "CASES",
    "SURFACES",
    "Inputs",
    "LossCase",
    "Peer",
    "construct_and_call",
    "loss_table",
    "losses",
]

CASES: tuple[LossCase, ...] = tuple(
    case
    for module in (
        _classification,
        _linear_ce,
        _regression,
        _margin,
        _sparsemax,
        _ranking,
        _divergence,
        _similarity,
        _segmentation,
        _ctc,
        _keras,
    )
    for case in module.CASES
)


def losses() -> dict[tuple[str, str], LossCase]:
    """The first case of every public loss, keyed by ``(surface, name)``, in registry order."""
    out: dict[tuple[str, str], LossCase] = {}
    for case in CASES:
        out.setdefault((case.surface, case.name), case)
    return out


def loss_table() -> str:
    """The README's loss table (Markdown), generated from the registry."""
    surface_titles = {
        "top": "top level",
        "functional": "`functional`",
        "class": "class",
        "keras": "`keras`",
        "keras_class": "`keras` class",
    }
    rows = ["| surface | name | family | mirrors |", "|---|---|---|---|"]
    for (surface, name), case in losses().items():
        peer = case.peer.label if case.peer is not None else "(no peer; NumPy reference)"
        rows.append(f"| {surface_titles[surface]} | `{name}` | {case.family} | {peer} |")
    return "\n".join(rows) + "\n"
