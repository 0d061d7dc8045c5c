"""Loss functions with ``torch.nn.functional`` names, signatures, defaults and reductions.

Every function accepts arrays of any Array API library, not only torch tensors.
"""

# ruff: noqa: F403, F405
from __future__ import annotations

from . import _classification
from . import _regression
from . import _margin
from . import _sparsemax
from . import _ranking
from . import _divergence
from . import _similarity
from . import _segmentation
from . import _ctc
from ._classification import *
from ._regression import *
from ._margin import *
from ._sparsemax import *
from ._ranking import *
from ._divergence import *
from ._similarity import *
from ._segmentation import *
from ._ctc import *

__all__ = sorted(
    name
    for module in (
        _classification,
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
