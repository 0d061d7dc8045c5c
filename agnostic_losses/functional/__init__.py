"""Loss functions with ``torch.nn.functional`` names, signatures, defaults and reductions.

Every function accepts arrays of any Array API library, not only torch tensors.
"""

# ruff: noqa: F403
from __future__ import annotations

from . import (
    _classification,
    _ctc,
    _divergence,
    _linear_ce,
    _margin,
    _ranking,
    _regression,
    _segmentation,
    _similarity,
    _sparsemax,
)
from ._classification import *
from ._ctc import *
from ._divergence import *
from ._linear_ce import *
from ._margin import *
from ._ranking import *
from ._regression import *
from ._segmentation import *
from ._similarity import *
from ._sparsemax import *

__all__ = sorted(
    name
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
    )
    for name in module.__all__
)
