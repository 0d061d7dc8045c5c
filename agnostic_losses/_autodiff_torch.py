"""torch's side of :mod:`._autodiff`: one ``torch.autograd.Function`` for every registered
forward/backward pair (imported only when a torch tensor reaches a custom gradient)."""

from __future__ import annotations

from typing import Any

import torch

from ._autodiff import VJPS
from ._dispatch import namespace

__all__ = ["SLOTS", "Function", "apply"]


def _xp(arrays: tuple[Any, ...]) -> Any:
    return namespace(**{f"a{i}": a for i, a in enumerate(arrays) if a is not None})


SLOTS = 6


class Function(torch.autograd.Function):
    """``apply(index, key, count, a0, ..., a5)``: ``VJPS[index]`` on the first ``count`` arrays
    (the rest None) with static options ``dict(key)``.

    A fixed arity, not ``*arrays``: dynamo's no-grad path counts the parameters of ``forward``
    to decide whether it takes a ``ctx`` (torch 2.13), and a star-argument miscounts.

    setup_context (not ``ctx`` in forward) and a generated vmap rule, so that
    ``torch.func.grad``, ``torch.func.vmap`` and ``torch.compile`` take it like a torch op;
    ``jvp`` gives forward mode (``torch.func.jvp``, ``jacfwd``, ``hessian``). Only the inputs
    and outputs are saved; the backward and the jvp recompute the rest.
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(  # type: ignore[override]
        index: int,
        key: tuple[Any, ...],
        count: int,
        a0: Any,
        a1: Any,
        a2: Any,
        a3: Any,
        a4: Any,
        a5: Any,
    ) -> tuple[Any, ...]:
        arrays = (a0, a1, a2, a3, a4, a5)[:count]
        return tuple(VJPS[index].forward(_xp(arrays), *arrays, **dict(key)))

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: tuple[Any, ...]) -> None:
        index, key, count, *arrays = inputs
        ctx.index, ctx.key, ctx.count = index, key, count
        ctx.save_for_backward(*arrays[:count], *output)
        ctx.save_for_forward(*arrays[:count], *output)

    @staticmethod
    def backward(ctx: Any, *cotangents: Any) -> tuple[Any, ...]:  # type: ignore[override]
        saved = ctx.saved_tensors
        arrays, outputs = tuple(saved[: ctx.count]), tuple(saved[ctx.count :])
        vjp = VJPS[ctx.index]
        grads = vjp.backward(_xp(arrays), arrays, outputs, cotangents, **dict(ctx.key))
        return (None, None, None, *grads, *(None,) * (SLOTS - len(grads)))

    @staticmethod
    def jvp(ctx: Any, *tangents: Any) -> tuple[Any, ...]:  # type: ignore[override]
        saved = ctx.saved_tensors
        arrays, outputs = tuple(saved[: ctx.count]), tuple(saved[ctx.count :])
        vjp = VJPS[ctx.index]
        if vjp.jvp is None:
            msg = "this custom gradient has no forward-mode rule (jvp)"
            raise NotImplementedError(msg)
        # Tangents of the non-tensor arguments (index, key, count) come first.
        tangents = tangents[3 : 3 + ctx.count]
        return tuple(vjp.jvp(_xp(arrays), arrays, outputs, tangents, **dict(ctx.key)))


def apply(index: int, key: tuple[Any, ...], arrays: tuple[Any, ...]) -> tuple[Any, ...]:
    """``Function.apply`` with ``arrays`` padded to the fixed arity."""
    if len(arrays) > SLOTS:
        msg = f"a custom gradient takes at most {SLOTS} arrays, got {len(arrays)}"
        raise ValueError(msg)
    padded = (*arrays, *(None,) * (SLOTS - len(arrays)))
    return Function.apply(index, key, len(arrays), *padded)
