"""agnostic_losses: loss functions written once against the Python Array API standard.

Three surfaces over the same kernels:

- top level, lower case: optax / braintools names, arguments and unreduced output;
- :mod:`agnostic_losses.functional`: ``torch.nn.functional`` names and semantics;
- top level, CamelCase: ``torch.nn``-style loss classes (``torch.nn.Module`` s where torch is
  installed; loaded on first use, so ``import agnostic_losses`` does not import torch).

Value checks (labels in range, probabilities in [0, 1]) follow :func:`set_checks`.
"""

# ruff: noqa: F403
from __future__ import annotations

from typing import Any

from . import functional
from ._classes import NAMES as _CLASS_NAMES
from ._dispatch import checks, get_checks, set_checks
from ._toplevel import adaptive as _top_adaptive
from ._toplevel import classification as _top_classification
from ._toplevel import ctc as _top_ctc
from ._toplevel import divergence as _top_divergence
from ._toplevel import linear_ce as _top_linear_ce
from ._toplevel import margin as _top_margin
from ._toplevel import ranking as _top_ranking
from ._toplevel import regression as _top_regression
from ._toplevel import segmentation as _top_segmentation
from ._toplevel import similarity as _top_similarity
from ._toplevel import sparsemax as _top_sparsemax
from ._toplevel.adaptive import *
from ._toplevel.classification import *
from ._toplevel.ctc import *
from ._toplevel.divergence import *
from ._toplevel.linear_ce import *
from ._toplevel.margin import *
from ._toplevel.ranking import *
from ._toplevel.regression import *
from ._toplevel.segmentation import *
from ._toplevel.similarity import *
from ._toplevel.sparsemax import *

__version__ = "0.1.0"

__all__ = ["__version__", "checks", "functional", "get_checks", "set_checks"]
__all__ += sorted(
    [
        *_CLASS_NAMES,
        *(
            name
            for module in (
                _top_classification,
                _top_linear_ce,
                _top_adaptive,
                _top_regression,
                _top_margin,
                _top_sparsemax,
                _top_ranking,
                _top_divergence,
                _top_similarity,
                _top_segmentation,
                _top_ctc,
            )
            for name in module.__all__
        ),
    ]
)


def __getattr__(name: str) -> Any:
    # The torch-style classes, imported on first use (PEP 562): see agnostic_losses._classes.
    if name in _CLASS_NAMES:
        from ._classes import load

        return load()[name]
    msg = f"module 'agnostic_losses' has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_CLASS_NAMES))
