"""agnostic_losses: loss functions written once against the Python Array API standard.

Three surfaces over the same kernels:

- top level, lower case: optax / braintools names, arguments and unreduced output;
- :mod:`agnostic_losses.functional`: ``torch.nn.functional`` names and semantics;
- top level, CamelCase: ``torch.nn``-style loss classes.
"""

# ruff: noqa: F403
from __future__ import annotations

from . import functional
from ._classes import classification as _cls_classification
from ._classes import ctc as _cls_ctc
from ._classes import divergence as _cls_divergence
from ._classes import margin as _cls_margin
from ._classes import ranking as _cls_ranking
from ._classes import regression as _cls_regression
from ._classes import segmentation as _cls_segmentation
from ._classes import similarity as _cls_similarity
from ._classes import sparsemax as _cls_sparsemax
from ._classes._base import Loss, WeightedLoss
from ._classes.classification import *
from ._classes.ctc import *
from ._classes.divergence import *
from ._classes.margin import *
from ._classes.ranking import *
from ._classes.regression import *
from ._classes.segmentation import *
from ._classes.similarity import *
from ._classes.sparsemax import *
from ._toplevel import classification as _top_classification
from ._toplevel import ctc as _top_ctc
from ._toplevel import divergence as _top_divergence
from ._toplevel import margin as _top_margin
from ._toplevel import ranking as _top_ranking
from ._toplevel import regression as _top_regression
from ._toplevel import segmentation as _top_segmentation
from ._toplevel import similarity as _top_similarity
from ._toplevel import sparsemax as _top_sparsemax
from ._toplevel.classification import *
from ._toplevel.ctc import *
from ._toplevel.divergence import *
from ._toplevel.margin import *
from ._toplevel.ranking import *
from ._toplevel.regression import *
from ._toplevel.segmentation import *
from ._toplevel.similarity import *
from ._toplevel.sparsemax import *

__version__ = "0.1.0"

__all__ = ["Loss", "WeightedLoss", "__version__", "functional"]
__all__ += sorted(
    name
    for module in (
        _top_classification,
        _top_regression,
        _top_margin,
        _top_sparsemax,
        _top_ranking,
        _top_divergence,
        _top_similarity,
        _top_segmentation,
        _top_ctc,
        _cls_classification,
        _cls_regression,
        _cls_margin,
        _cls_sparsemax,
        _cls_ranking,
        _cls_divergence,
        _cls_similarity,
        _cls_segmentation,
        _cls_ctc,
    )
    for name in module.__all__
)
