"""Loss bodies that two surfaces run: validation, the kernel call and the reduction, where the
surfaces differ only in argument names and defaults. A surface imports from here, never from a
sibling surface (``tests/test_layers.py``)."""

from __future__ import annotations

import math
from typing import Any

from ._kernels import linear_ce as _k
from ._surface import Call, number

__all__ = ["CHUNKING", "chunked"]

CHUNKING = {
    "chunk_size": number(low=1, integer=True, none=True),
    "logit_softcap": number(low=0, low_open=True, none=True),
}


def chunked(
    c: Call,
    names: tuple[str, str, str, str, str | None],
    *,
    ignore_index: int,
    label_smoothing: float,
    z_loss: float,
    reduction: str,
    chunk_size: int | None,
    logit_softcap: float | None,
    return_lse: bool,
) -> Any:
    """The body both surfaces share: validate, flatten the tokens, run the chunked kernel,
    reduce as torch does (``'mean'`` divides by the kept class weight, NaN if all ignored)."""
    hidden_name, weight_name, target_name, bias_name, class_weight_name = names
    xp = c.xp
    hidden = c.input(hidden_name, keep_dtype=True)
    if hidden.ndim == 0:
        msg = f"`{hidden_name}` must have shape (..., D) (features last); got a 0-d array."
        raise ValueError(msg)
    weight = c.floating(weight_name, same_dtype=True, keep_dtype=True)
    features = hidden.shape[-1]
    if weight.ndim != 2 or weight.shape[1] != features:
        msg = (
            f"`{weight_name}` must have shape (V, {features}) (torch's nn.Linear layout: one "
            f"row per class, {hidden_name}'s last dimension); got {tuple(weight.shape)}."
        )
        raise ValueError(msg)
    num_classes = weight.shape[0]
    bias = c.floating(bias_name, shape=(num_classes,), same_dtype=True, keep_dtype=True)
    class_weight = None
    if class_weight_name is not None:
        class_weight = c.floating(class_weight_name, shape=(num_classes,), same_dtype=True)
    batch = tuple(hidden.shape[:-1])
    target = c[target_name]
    if tuple(getattr(target, "shape", ())) != batch:
        msg = (
            f"`{target_name}` must have shape {batch} (`{hidden_name}` without its feature "
            f"dimension); got {tuple(getattr(target, 'shape', ()))}."
        )
        raise ValueError(msg)
    labels = c.labels(
        target_name,
        num_classes,
        ignore=ignore_index,
        ignore_name="ignore_index",
        hint="Class indices must be integers.",
    )
    tokens = math.prod(batch)
    chunk = chunk_size or _k.default_chunk_size(tokens, num_classes)
    loss, w_y, lse = _k.linear_cross_entropy(
        xp,
        xp.reshape(hidden, (tokens, features)),
        weight,
        bias,
        xp.reshape(labels, (tokens,)),
        class_weight,
        ignore_index=ignore_index,
        label_smoothing=label_smoothing,
        z_loss=z_loss,
        softcap=logit_softcap,
        chunk=chunk,
    )
    loss, w_y, lse = (xp.reshape(a, batch) for a in (loss, w_y, lse))
    if reduction == "mean":
        out = c.reduce(loss, reduction, divisor="weight_sum", weights=w_y, fill=float("nan"))
    else:
        out = c.reduce(loss, reduction)
    return (out, c.finish(lse)) if return_lse else out
