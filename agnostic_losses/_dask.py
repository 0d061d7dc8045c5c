"""The Dask namespace the losses run with: array-api-compat's, plus a blockwise ``take_along_axis``.

Dispatch layer only; kernels never import this. array-api-compat's Dask namespace has no
``take_along_axis`` (Dask itself has none), so ``_numerics.gather_labels`` took its one-hot path
on Dask: an (N, C) comparison with ``arange(C)``, a ``where`` and a sum, three more passes over
every logit to pick one per row. A loss input is chunked by rows, its class axis whole in each
chunk; then a gather along that axis touches one row-chunk only, and one blockwise task per
chunk runs the chunk library's own ``take_along_axis``.

Measured reason (dask 2026.8, NumPy 2.4, ``functional.cross_entropy`` on (65536, 1000)
float32 in 64 MiB row chunks, synchronous scheduler, CPU time): 885 ms with the one-hot path,
674 ms with the blockwise gather; ours on NumPy on the same data 549 ms.

Where the gathered axis is split over several chunks the one-hot sum is kept: it reduces across
the class chunks without concatenating them (a concatenation would hold a whole row of classes
per task). ``tests/test_dask_dispatch.py`` checks both paths against NumPy.

:func:`rowwise` (through ``_loops.rowwise``) goes one step further for the per-row part of the
cross-entropy family: a loss whose class axis is one chunk is one blockwise task per row chunk,
running the kernel on the chunk's own arrays. Measured reason (same versions, (4096, 1000)
float32, one 16 MiB chunk, threaded scheduler): ``functional.cross_entropy`` built a graph of 46
layers in 22 ms and computed it in 39 ms, 2.2x ours on NumPy (28 ms) in all; Dask spends about
0.5 ms of Python per elementwise layer (meta inference, tokenizing), a fixed cost no chunk size
amortises at in-memory sizes.

Both blockwise calls take the class axis's single block as it is (``concatenate=False`` and
:func:`_whole`): with ``concatenate=True`` Dask copies even one block into a new array, one more
pass over every logit per call. Measured (same versions, one-chunk inputs, threaded scheduler,
Dask / ours on NumPy): ``softmax_cross_entropy_with_integer_labels`` on (256, 32000) 1.67 ->
0.94, on (4096, 1000) 1.96 -> 1.57; ``functional.cross_entropy`` 1.45 -> 0.86 and 1.45 -> 1.30.
"""

from __future__ import annotations

import string
import types
from typing import Any

import numpy as np

__all__ = ["is_namespace", "namespace", "rowwise"]

_COMPAT_NAME = "array_api_compat.dask.array"


def is_namespace(xp: Any) -> bool:
    """Whether ``xp`` is array-api-compat's Dask namespace or our copy of it. By module name,
    not compat's ``is_dask_namespace``: dynamo warns on its ``lru_cache`` while it traces."""
    return getattr(xp, "__name__", "") == _COMPAT_NAME


def namespace(compat: Any) -> Any:
    """A module-like copy of array-api-compat's Dask namespace with ``take_along_axis`` added.

    The copy keeps the compat module's ``__name__``, so array-api-compat and array-api-extra
    still recognise it as Dask's (``is_dask_namespace``).
    """
    module = types.ModuleType(compat.__name__, compat.__doc__)
    for key, value in vars(compat).items():
        if key not in ("__spec__", "__loader__"):
            setattr(module, key, value)

    def take_along_axis(x: Any, indices: Any, /, *, axis: int = -1) -> Any:
        """``take_along_axis`` of the Array API standard (2024.12) for Dask arrays."""
        return _take_along_axis(compat, x, indices, axis)

    module.take_along_axis = take_along_axis  # type: ignore[attr-defined]
    return module


def _whole(block: Any) -> Any:
    """The one block of a contracted axis that is a single chunk. ``blockwise`` hands such an
    axis over as a list of its blocks when ``concatenate=False``; with ``concatenate=True`` it
    would copy even a single block into a new array (a full pass over the logits per call)."""
    while isinstance(block, list):
        (block,) = block
    return block


def _take_last(x: Any, indices: Any) -> Any:
    """One block: the chunk library's own gather along the last axis."""
    import array_api_compat

    x = _whole(x)
    return array_api_compat.array_namespace(x).take_along_axis(x, indices, axis=-1)


def _take_along_axis(xp: Any, x: Any, indices: Any, axis: int) -> Any:
    import dask.array as da
    from dask.array.utils import meta_from_array

    ndim = x.ndim
    if indices.ndim != ndim:
        msg = (
            f"`indices` must have as many dimensions as `x` ({ndim}) in take_along_axis; "
            f"got {indices.ndim}."
        )
        raise ValueError(msg)
    if not -ndim <= axis < ndim:
        msg = f"`axis`={axis} is out of range for an array with {ndim} dimensions."
        raise ValueError(msg)
    axis %= ndim
    if axis != ndim - 1:
        moved = _take_along_axis(
            xp, xp.moveaxis(x, axis, -1), xp.moveaxis(indices, axis, -1), ndim - 1
        )
        return xp.moveaxis(moved, -1, axis)
    if x.shape[:-1] != indices.shape[:-1]:
        lead = np.broadcast_shapes(x.shape[:-1], indices.shape[:-1])
        x = da.broadcast_to(x, (*lead, x.shape[-1]))
        indices = da.broadcast_to(indices, (*lead, indices.shape[-1]))
    if x.numblocks[-1] != 1:
        # classes split over chunks: compare with each class and sum, chunk by chunk
        classes = xp.arange(x.shape[-1], dtype=indices.dtype)
        hit = indices[..., :, None] == classes
        return xp.sum(xp.where(hit, x[..., None, :], xp.zeros((), dtype=x.dtype)), axis=-1)
    axes = string.ascii_letters[: ndim - 1]
    # "y" (x's whole last axis) is contracted: each output block sees one block of x
    return da.blockwise(
        _take_last,
        axes + "z",
        x,
        axes + "y",
        indices,
        axes + "z",
        concatenate=False,
        dtype=x.dtype,
        meta=meta_from_array(x, ndim),
    )


def rowwise(
    fn: Any, rows: tuple[Any, ...], shared: tuple[Any, ...], n_out: int
) -> tuple[Any, ...] | None:
    """``fn`` as one blockwise task per row chunk (see ``_loops.rowwise``), or None where the
    class axis spans several chunks (then the caller runs ``fn`` on the Dask arrays)."""
    import dask.array as da
    from dask.array.utils import meta_from_array

    first = rows[0]
    if first.ndim == 0 or first.numblocks[-1] != 1:
        return None
    lead = string.ascii_letters[: first.ndim - 1]
    operands: list[Any] = []
    present: list[bool] = []  # which of fn's array arguments are arrays (not None)
    for position, array in enumerate((*rows, *shared)):
        present.append(array is not None)
        if array is None:
            continue
        if array.ndim == first.ndim:
            index = lead + "z"
        elif array.ndim == first.ndim - 1 and position < len(rows):
            index = lead
        elif array.ndim == 1:  # a class vector: whole, beside every row chunk
            array, index = da.asarray(array).rechunk(-1), "z"
        else:
            return None
        operands += [array, index]
    n_rows = len(rows)

    def block(*blocks: Any) -> Any:
        import array_api_compat

        it = iter(_whole(b) for b in blocks)
        args: list[Any] = [next(it) if here else None for here in present]
        bxp = array_api_compat.array_namespace(*(a for a in args if a is not None))
        outs = fn(bxp, *args[:n_rows], *args[n_rows:])
        return bxp.stack([bxp.astype(o, args[0].dtype) for o in outs])

    stacked = da.blockwise(
        block,
        "o" + lead,
        *operands,
        new_axes={"o": n_out},
        concatenate=False,
        dtype=first.dtype,
        meta=meta_from_array(first, first.ndim),
    )
    return tuple(stacked[k] for k in range(n_out))
