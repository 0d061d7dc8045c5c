"""The registry's record types: one :class:`LossCase` per (public loss, input variant).

A case carries everything the generic tests, ``agnostic-losses check`` and the benchmarks need:
how to make inputs (NumPy, seeded), a float64 NumPy reference, the peer that the loss mirrors,
which arguments are differentiable and which invariants hold.
"""

from __future__ import annotations

import dataclasses
import importlib
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["SURFACES", "Inputs", "LossCase", "Peer", "construct_and_call"]

# surface -> what it mirrors
SURFACES = {
    "top": "optax / braintools / brainpy (keras-only losses with optax-style names)",
    "functional": "torch.nn.functional",
    "class": "torch.nn",
    "keras": "keras.losses functions",
    "keras_class": "keras.losses classes",
}


@dataclasses.dataclass(frozen=True)
class Inputs:
    """Positional and keyword arguments of one call, arrays as NumPy (float64, int64 or bool)."""

    args: tuple[Any, ...]
    kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)

    def floating(self) -> tuple[tuple[int, ...], tuple[str, ...]]:
        """``(positions, keyword names)`` of the floating array arguments."""
        return (
            tuple(i for i, a in enumerate(self.args) if _is_float_array(a)),
            tuple(k for k, v in self.kwargs.items() if _is_float_array(v)),
        )


@dataclasses.dataclass(frozen=True)
class Peer:
    """The peer implementation a loss mirrors.

    ``library`` is the array library it runs on (``'torch'`` or ``'jax'``); ``label`` names it in
    tables (``'optax.losses.softmax_cross_entropy'``); ``load`` imports it lazily and returns a
    callable taking the same ``(args, kwargs)`` as ours, as arrays of ``library``.
    ``precision`` names the widest dtype the peer really computes in, where that is narrower
    than its inputs (keras's ``ops.mean`` reduces float64 in float32): float64 comparisons
    then use that dtype's tolerance.
    """

    library: str
    label: str
    load: Callable[[], Callable[..., Any]] | None = None
    precision: str | None = None

    @classmethod
    def path(cls, library: str, dotted: str) -> Peer:
        """A peer called exactly as ours: ``Peer.path('torch', 'torch.nn.functional.l1_loss')``."""
        return cls(library, dotted, lambda: import_dotted(dotted))

    @classmethod
    def torch_class(cls, name: str) -> Peer:
        """A ``torch.nn`` loss class, constructed with the case's keyword arguments."""

        def load() -> Callable[..., Any]:
            import torch

            return construct_and_call(getattr(torch.nn, name))

        return cls("torch", f"torch.nn.{name}", load)

    @classmethod
    def label_only(cls, label: str) -> Peer:
        """A peer we mirror but do not run as an oracle (its inputs or gradients differ)."""
        return cls("", label, None)

    @property
    def runnable(self) -> bool:
        return self.load is not None

    def available(self) -> bool:
        if self.load is None:
            return False
        try:
            self.load()
        except ImportError:
            return False
        return True


def construct_and_call(loss_class: type) -> Callable[..., Any]:
    """``f(*arrays, **options) = loss_class(**options)(*arrays)``: a class case's ``func``."""

    def call(*args: Any, **options: Any) -> Any:
        return loss_class(**options)(*args)

    call.__name__ = call.__qualname__ = loss_class.__name__
    return call


def import_dotted(dotted: str) -> Callable[..., Any]:
    module_name, _, attr = dotted.rpartition(".")
    jax = sys.modules.get("jax")
    x64 = None if jax is None else jax.config.jax_enable_x64
    try:
        return getattr(importlib.import_module(module_name), attr)
    finally:
        # brainstate (under braintools and brainpy) sets jax_enable_x64 to its own default
        # (False) when imported: the caller's mode is put back.
        if jax is not None and x64 is not None and jax.config.jax_enable_x64 != x64:
            jax.config.update("jax_enable_x64", x64)


@dataclasses.dataclass(frozen=True)
class LossCase:
    """One public loss called with one kind of input.

    Attributes
    ----------
    name : str
        Public name on its surface (``'cross_entropy'``, ``'CrossEntropyLoss'``).
    surface : {'top', 'functional', 'class'}
    family : str
        Kernel family (``'classification'``, ``'regression'``...).
    func : callable
        The public callable, taking ``Inputs.args``/``Inputs.kwargs`` as backend arrays.
    make_inputs : callable
        ``make_inputs(rng) -> Inputs`` with NumPy arrays; small sizes (tests run it hundreds of
        times).
    reference : callable or None
        Float64 NumPy implementation written independently of ours, same call signature.
    peer : Peer or None
        The implementation we mirror; runnable peers are used as oracles when installed.
    variant : str
        Short id of the input variant (``'default'``, ``'ignore_index'``, ``'kdim'``...).
    grad_argnums : tuple of int
        The positional arguments a user differentiates (benchmarks time the gradient w.r.t.
        these). Empty: no gradient.
    wrt : tuple of int or str, optional
        Every argument the gradient tests differentiate: positions and keyword names. None (the
        default): every floating array argument of the inputs, positional or keyword (targets,
        weights, variances...), or nothing when ``grad_argnums`` is empty.
    peer_wrt : tuple of int or str, optional
        The arguments whose gradients are compared with the peer's, where the peer's own
        gradient is wrong for some of ``wrt`` (each use cites README's differences); None:
        all of ``wrt`` (arguments torch cannot differentiate are dropped automatically).
    properties : frozenset of str
        Invariants the property tests check: ``'nonnegative'``, ``'zero_at_target'`` (the case
        provides ``perfect(inputs) -> Inputs``).
    rtol : float
        Multiplier on the dtype's default tolerance (use > 1 only with a reason in a comment).
    perfect : callable or None
        ``perfect(inputs) -> Inputs`` whose loss must be 0 (for ``'zero_at_target'``).
    """

    name: str
    surface: str
    family: str
    func: Callable[..., Any]
    make_inputs: Callable[[np.random.Generator], Inputs]
    reference: Callable[..., Any] | None = None
    peer: Peer | None = None
    variant: str = "default"
    grad_argnums: tuple[int, ...] = (0,)
    wrt: tuple[int | str, ...] | None = None
    peer_wrt: tuple[int | str, ...] | None = None
    properties: frozenset[str] = frozenset()
    rtol: float = 1.0
    perfect: Callable[[Inputs], Inputs] | None = None

    def __post_init__(self) -> None:
        if self.surface not in SURFACES:
            msg = f"surface must be one of {sorted(SURFACES)}, got {self.surface!r}"
            raise ValueError(msg)

    @property
    def id(self) -> str:
        return f"{self.surface}.{self.name}[{self.variant}]"

    @property
    def qualified_name(self) -> str:
        prefix = {
            "top": "agnostic_losses",
            "functional": "agnostic_losses.functional",
            "class": "agnostic_losses",
            "keras": "agnostic_losses.keras",
            "keras_class": "agnostic_losses.keras",
        }[self.surface]
        return f"{prefix}.{self.name}"

    def inputs(self, seed: int = 0) -> Inputs:
        return self.make_inputs(np.random.default_rng(seed))

    def differentiable(
        self, inputs: Inputs, *, peer: bool = False
    ) -> tuple[tuple[int, ...], tuple[str, ...]]:
        """``(positions, keyword names)`` of the arguments the gradient tests differentiate
        (``peer``: those compared with the peer's gradients)."""
        explicit = self.peer_wrt if peer and self.peer_wrt is not None else self.wrt
        if explicit is not None:
            return (
                tuple(i for i in explicit if isinstance(i, int)),
                tuple(k for k in explicit if isinstance(k, str)),
            )
        if not self.grad_argnums:
            return (), ()
        return inputs.floating()


def _is_float_array(value: Any) -> bool:
    return isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.floating)
