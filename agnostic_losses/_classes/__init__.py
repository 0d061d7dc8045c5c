"""torch.nn-style loss classes, one module per family, over the functional surface.

The classes are ``torch.nn.Module`` s where torch is installed, so importing them imports
torch (about 1.7 s); the package imports this family of modules on first use of a class name
(``agnostic_losses.__getattr__``), not at ``import agnostic_losses``. ``NAMES`` lists every
class the family modules export (a test checks it against their ``__all__``).
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["FAMILIES", "NAMES", "load"]

FAMILIES = (
    "classification",
    "regression",
    "margin",
    "sparsemax",
    "ranking",
    "divergence",
    "similarity",
    "segmentation",
    "ctc",
)

NAMES = (
    "AdaptiveLogSoftmaxWithLoss",
    "BCELoss",
    "BCEWithLogitsLoss",
    "CTCLoss",
    "CosineEmbeddingLoss",
    "CosineSimilarity",
    "CrossEntropyLoss",
    "GaussianNLLLoss",
    "HingeEmbeddingLoss",
    "HuberLoss",
    "KLDivLoss",
    "LinearCrossEntropyLoss",
    "L1Loss",
    "Loss",
    "MSELoss",
    "MarginRankingLoss",
    "MultiLabelMarginLoss",
    "MultiLabelSoftMarginLoss",
    "MultiMarginLoss",
    "NLLLoss",
    "PairwiseDistance",
    "PoissonNLLLoss",
    "SmoothL1Loss",
    "SoftMarginLoss",
    "TripletMarginLoss",
    "TripletMarginWithDistanceLoss",
    "WeightedLoss",
)

_LOADED: dict[str, Any] = {}


def load() -> dict[str, Any]:
    """Every class by name (imports the family modules, and torch if installed, once)."""
    if not _LOADED:
        base = importlib.import_module("._base", __name__)
        found = {name: getattr(base, name) for name in base.__all__}
        for family in FAMILIES:
            module = importlib.import_module(f".{family}", __name__)
            found.update({name: getattr(module, name) for name in module.__all__})
        _LOADED.update(found)
    return _LOADED
