"""Top-level linear cross-entropy: the final projection and the loss in vocabulary chunks."""

from __future__ import annotations

from typing import Any

from .._bodies import CHUNKING, chunked
from .._docs import fill_doc
from .._kernels import linear_ce as _k
from .._surface import REDUCTION, Call, number, options

__all__ = ["linear_cross_entropy", "linear_cross_entropy_backward"]


@options(
    ignore_index=number(integer=True),
    label_smoothing=number(low=0, high=1),
    z_loss=number(low=0),
    reduction=REDUCTION,
    **CHUNKING,
)
@fill_doc
def linear_cross_entropy(
    hidden: Any,
    weight: Any,
    targets: Any,
    bias: Any = None,
    *,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    z_loss: float = 0.0,
    reduction: str = "mean",
    chunk_size: int | None = None,
    logit_softcap: float | None = None,
    return_lse: bool = False,
) -> Any:
    r"""Cross entropy of a linear projection, computed without materialising the logits.

    Equals ``functional.cross_entropy(hidden @ weight.T + bias, targets, ...)`` (plus the
    z-loss), values and gradients, but holds only one ``(tokens, chunk_size)`` block of logits
    at a time: the vocabulary is walked in chunks with an online log-sum-exp, and on JAX and
    torch a hand-written backward recomputes each chunk instead of saving it. For token
    :math:`n` with logits :math:`z = c \tanh((W h_n + b) / c)` (no soft-cap: :math:`W h_n + b`):

    .. math::

        \ell_n = (1 - \varepsilon)(\mathrm{lse}_n - z_{y_n})
                 + \frac{\varepsilon}{V} \sum_v (\mathrm{lse}_n - z_v)
                 + \zeta\, \mathrm{lse}_n^2,
        \quad \mathrm{lse}_n = \log \sum_v e^{z_v}

    Tokens whose target equals ``ignore_index`` contribute 0 and are left out of ``'mean'``
    (NaN if every token is ignored, as torch). Labels outside ``[0, V)`` raise on eager arrays
    and give NaN under ``jax.jit`` / Dask. Half-precision inputs keep their dtype in the
    matmuls; logits, the log-sum-exp and the gradient accumulation are float32.

    NumPy, CuPy, Dask and array-api-strict have no autodiff: train by hand with
    :func:`linear_cross_entropy_backward`.

    {backends}

    Parameters
    ----------
    hidden : array, shape (..., D)
        Final hidden states (any leading token shape), real floating.
    weight : array, shape (V, D)
        Output projection, one row per class (``torch.nn.Linear(D, V).weight``), ``hidden``'s
        dtype.
    targets : array of int, shape (...)
        Class indices in ``[0, V)`` or ``ignore_index``; ``hidden``'s shape without ``D``.
    bias : array, shape (V,), optional
        Output bias.
    ignore_index : int, default -100
        Target value that is ignored (never used as an index).
    label_smoothing : float, default 0.0
        ``eps`` in [0, 1]: mass spread uniformly (``eps / V``) over every class.
    z_loss : float, default 0.0
        ``zeta >= 0`` times the squared log-sum-exp of each token (PaLM-style, typically
        ``1e-4``) added to its loss.
    {reduction}
        ``'mean'`` averages over the tokens that are not ignored.
    chunk_size : int, optional
        Classes per chunk. Default: about :math:`2^{{20}}` logits per chunk
        (``2**20 // tokens``, at least 128, at most ``V``).
    logit_softcap : float, optional
        ``c > 0``: logits become ``c * tanh(logits / c)`` (Gemma-2's soft-capping).
    return_lse : bool, default False
        Also return the log-sum-exp of each token (``targets``' shape, unreduced), to log it.

    Returns
    -------
    array or (array, array)
        Scalar, or ``targets``' shape with ``reduction='none'``; with ``return_lse``,
        ``(loss, lse)``.

    References
    ----------
    torch.nn.functional.linear_cross_entropy; Wijmans et al., "Cut Your Losses in
    Large-Vocabulary Language Models" (2025).

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import linear_cross_entropy
    >>> h = np.asarray([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> w = np.asarray([[2.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    >>> round(float(linear_cross_entropy(h, w, np.asarray([0, 1, -100]), chunk_size=2)), 6)
    0.493313
    """
    c = Call("top", hidden=hidden, weight=weight, targets=targets, bias=bias)
    return chunked(
        c,
        ("hidden", "weight", "targets", "bias", None),
        ignore_index=ignore_index,
        label_smoothing=label_smoothing,
        z_loss=z_loss,
        reduction=reduction,
        chunk_size=chunk_size,
        logit_softcap=logit_softcap,
        return_lse=return_lse,
    )


@options(**CHUNKING, ignore_index=number(integer=True))
def linear_cross_entropy_backward(
    hidden: Any,
    weight: Any,
    targets: Any,
    bias: Any = None,
    *,
    grad_lse: Any,
    grad_target_logit: Any,
    ignore_index: int = -100,
    chunk_size: int | None = None,
    logit_softcap: float | None = None,
) -> tuple[Any, Any, Any]:
    r"""The chunked backward of :func:`linear_cross_entropy`, for training without autodiff.

    For ``hidden`` (N, D), ``weight`` (V, D) and int ``targets`` (N,), a loss that depends on
    the logits :math:`z = W h_n + b` only through :math:`\mathrm{lse}_n` and the target logit
    :math:`z_{y_n}` (the cross entropy is :math:`\mathrm{lse}_n - z_{y_n}`) has

    .. math::

        \frac{\partial L}{\partial z_{nv}} = g^{\mathrm{lse}}_n \mathrm{softmax}(z_n)_v
                                             + g^{t}_n [v = y_n]

    which this function pushes to ``hidden``, ``weight`` and ``bias`` chunk by chunk (each
    chunk's logits recomputed, never all at once; repeated targets are exact). For the mean
    cross entropy over kept tokens: ``grad_lse = keep / keep.sum()``, ``grad_target_logit =
    -grad_lse``; add ``2 * z_loss * lse * grad_lse`` to ``grad_lse`` for the z-loss (``lse``
    from ``linear_cross_entropy(..., reduction='none', return_lse=True)``).

    Parameters
    ----------
    hidden, weight, targets, bias
        As :func:`linear_cross_entropy` (``hidden`` 2-D, ``targets`` 1-D).
    grad_lse, grad_target_logit : array, shape (N,)
        :math:`\partial L / \partial \mathrm{lse}_n` and :math:`\partial L / \partial z_{y_n}`.
    ignore_index, chunk_size, logit_softcap
        As :func:`linear_cross_entropy` (an ignored token's target logit term is 0: give it
        zero cotangents).

    Returns
    -------
    (grad_hidden, grad_weight, grad_bias)
        In the inputs' dtypes; ``grad_bias`` is None without ``bias``.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import linear_cross_entropy_backward
    >>> h, w, y = np.eye(2), np.asarray([[1.0, 0.0], [0.0, 1.0]]), np.asarray([0, 0])
    >>> g = np.full(2, 0.5)
    >>> gh, gw, _ = linear_cross_entropy_backward(h, w, y, grad_lse=g, grad_target_logit=-g)
    >>> np.round(gw, 4)
    array([[-0.1345, -0.3655],
           [ 0.1345,  0.3655]])
    """
    c = Call(
        "top",
        hidden=hidden,
        weight=weight,
        targets=targets,
        bias=bias,
        grad_lse=grad_lse,
        grad_target_logit=grad_target_logit,
    )
    h = c.input("hidden", keep_dtype=True)
    w = c.floating("weight", same_dtype=True, keep_dtype=True)
    if h.ndim != 2 or w.ndim != 2 or w.shape[1] != h.shape[1]:
        msg = (
            "`hidden` must be (N, D) and `weight` (V, D); got "
            f"{tuple(h.shape)} and {tuple(w.shape)}."
        )
        raise ValueError(msg)
    n, num_classes = h.shape[0], w.shape[0]
    b = c.floating("bias", shape=(num_classes,), same_dtype=True, keep_dtype=True)
    y = c.labels("targets", num_classes, ignore=ignore_index, ignore_name="ignore_index")
    cotangents = [c.floating(name, shape=(n,)) for name in ("grad_lse", "grad_target_logit")]
    xp = c.xp
    zeros = xp.zeros_like(cotangents[0])
    chunk = chunk_size or _k.default_chunk_size(n, num_classes)
    outputs = _k.logit_stats_forward(xp, h, w, b, y, None, chunk=chunk, softcap=logit_softcap)
    g_h, g_w, g_b, _, _, _ = _k.logit_stats_vjp(
        xp,
        h,
        w,
        b,
        y,
        None,
        None,
        outputs,
        (*cotangents, zeros, zeros),
        chunk=chunk,
        softcap=logit_softcap,
    )
    return g_h, g_w, g_b
