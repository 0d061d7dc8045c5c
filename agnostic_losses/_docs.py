"""Parameter prose shared by many docstrings, substituted by :func:`fill_doc`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable[..., object])

SNIPPETS = {
    "reduction": """reduction : {'mean', 'sum', 'none'}, default 'mean'
        ``'none'``: no reduction; ``'mean'``: the mean over all elements; ``'sum'``: the sum.""",
    "legacy": """size_average, reduce : bool, optional
        Deprecated torch flags; when either is given it overrides ``reduction`` as in torch.""",
    "where": """where : array of bool, optional
        Elements (along ``axis``) to include; excluded ones neither contribute nor receive a
        gradient. A row with nothing included gives 0.""",
    "axis": """axis : int, default -1
        Axis holding the classes.""",
    "backends": """Works on any Array API library (NumPy, CuPy, JAX, PyTorch, Dask,
    array-api-strict): the result has the input's library, dtype and device. Half-precision
    inputs are accumulated in float32 and returned in their own dtype.""",
}


def fill_doc(func: F) -> F:
    """Replace ``{name}`` tokens of :data:`SNIPPETS` in ``func.__doc__`` (other braces stay)."""
    doc = func.__doc__
    if doc:
        for key, text in SNIPPETS.items():
            doc = doc.replace("{" + key + "}", text)
        func.__doc__ = doc
    return func
