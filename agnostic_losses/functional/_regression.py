"""torch.nn.functional regression losses.

Unlike torch, ``input`` and ``target`` of different shapes are a ValueError rather than a
broadcast with a warning: an ``(N, 1)`` target against an ``(N,)`` input silently gives an
``(N, N)`` loss in torch.
"""

from __future__ import annotations

import math
from typing import Any

from .._dispatch import cast, check_same_shape, compute_dtype, message_value, promoted
from .._docs import fill_doc
from .._kernels import regression as _k
from .._native import native_torch, only_input_grad, same_shape
from .._surface import REDUCTION, TORCH_REDUCTION, Call, flag, number, options, torch_reduction

__all__ = [
    "gaussian_nll_loss",
    "huber_loss",
    "l1_loss",
    "mse_loss",
    "poisson_nll_loss",
    "smooth_l1_loss",
]

_LEGACY = {"size_average": flag, "reduce": flag, "reduction": TORCH_REDUCTION}


def _one_dim_of_one(input: Any, target: Any) -> bool:
    """``target`` has the shape of ``input`` except for exactly one dimension of size 1."""
    if target.ndim != input.ndim:
        return False
    differ = [i for i, (a, b) in enumerate(zip(input.shape, target.shape)) if a != b]
    return len(differ) == 1 and target.shape[differ[0]] == 1


def _pair(
    input: Any,
    target: Any,
    *,
    broadcast_target: bool = False,
    promote_target: bool = True,
    values: tuple[str, ...] | None = None,
    **extra: Any,
) -> tuple:
    """``(call, input, target)`` in the work dtype; ``broadcast_target`` admits a target with one
    dimension of size 1, the only broadcast torch documents for an elementwise target
    (``gaussian_nll_loss``). The result dtype promotes the input's with the ``extra`` arrays'
    and (with ``promote_target``) the target's, as torch's arithmetic does; ``values`` as in
    :meth:`Call.input`."""
    c = Call("torch", input=input, target=target, **extra)
    c._array("target")
    promote = ("target", *extra) if promote_target else tuple(extra)
    x = c.input("input", promote=promote, values=values)
    if broadcast_target and _one_dim_of_one(x, c["target"]):
        return c, x, c.xp.broadcast_to(c.param("target"), tuple(x.shape))
    return c, x, c.target("target", "input", integers=True)


def _weighted(c: Call, loss: Any, reduction: str, divisor: str) -> Any:
    """torch's elementwise ``weight`` (``c['weight']``, may be None); ``divisor`` of the mean:
    ``'weight_sum'`` (all-zero weights give torch's 0/0 = NaN, with gradient 0) or ``'count'``."""
    w = c.floating("weight", like="input")
    if w is None:
        return c.reduce(loss, reduction)
    return c.reduce(loss * w, reduction, divisor=divisor, weights=w, fill=math.nan)


@options(**_LEGACY)
@native_torch("mse_loss", same_shape)
@fill_doc
def mse_loss(
    input: Any,
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Any = None,
) -> Any:
    r"""Mean squared error, as torch's ``mse_loss`` (with torch 2.13's ``weight``).

    .. math::

        \ell_i = w_i (x_i - y_i)^2, \qquad
        \text{mean} = \frac{\sum_i w_i (x_i - y_i)^2}{\sum_i w_i}

    Without ``weight`` the mean divides by the element count. A zero weight removes an element
    from both sums; all-zero weights give NaN (torch's 0/0) with a zero gradient.

    {backends}

    Parameters
    ----------
    input : array, shape (*)
        Predictions, real floating.
    target : array, shape (*)
        Targets, same shape as ``input`` (a mismatch is a ValueError, not a broadcast).
    {legacy}
    {reduction}
    weight : array, shape (*), optional
        Per-element weights, same shape as ``input``.

    Returns
    -------
    array
        Scalar, or shape (*) with ``reduction='none'``.

    References
    ----------
    torch.nn.functional.mse_loss.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.functional import mse_loss
    >>> float(mse_loss(np.asarray([1.0, 2.0, 3.0]), np.asarray([1.5, 2.5, 3.5])))
    0.25
    """
    c, x, y = _pair(input, target, weight=weight)
    return _weighted(
        c, _k.squared(c.xp, x - y), torch_reduction(size_average, reduce, reduction), "weight_sum"
    )


@options(**_LEGACY)
@native_torch("l1_loss", same_shape)
@fill_doc
def l1_loss(
    input: Any,
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Any = None,
) -> Any:
    r"""Mean absolute error, as torch's ``l1_loss`` (with torch 2.13's ``weight``).

    .. math::

        \ell_i = w_i |x_i - y_i|, \qquad
        \text{mean} = \frac{\sum_i w_i |x_i - y_i|}{\sum_i w_i}

    Without ``weight`` the mean divides by the element count; all-zero weights give NaN with a
    zero gradient. The derivative at a zero residual is 0 on every backend, as in torch.

    {backends}

    Parameters
    ----------
    input : array, shape (*)
        Predictions, real floating or complex (as torch: ``|x - y|`` is then the modulus of the
        complex residual, and the loss has the matching real dtype).
    target : array, shape (*)
        Targets, same shape as ``input`` (a mismatch is a ValueError, not a broadcast).
    {legacy}
    {reduction}
    weight : array, shape (*), optional
        Per-element weights, same shape as ``input``.

    Returns
    -------
    array
        Scalar, or shape (*) with ``reduction='none'``.

    References
    ----------
    torch.nn.functional.l1_loss.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.functional import l1_loss
    >>> float(l1_loss(np.asarray([1.0, 2.0, 3.0]), np.asarray([1.5, 2.5, 3.5])))
    0.5
    >>> float(l1_loss(np.asarray([3 + 4j, 1j]), np.asarray([0j, 1j])))  # |3 + 4i| / 2
    2.5
    """
    reduction = torch_reduction(size_average, reduce, reduction)
    if _is_complex(input) or _is_complex(target):
        c, modulus = _complex_residual(input, target, weight)
        return _weighted(c, modulus, reduction, "weight_sum")
    c, x, y = _pair(input, target, weight=weight)
    return _weighted(c, _k.absolute(c.xp, x - y), reduction, "weight_sum")


def _is_complex(x: Any) -> bool:
    return "complex" in str(getattr(x, "dtype", ""))


def _complex_residual(input: Any, target: Any, weight: Any) -> tuple[Call, Any]:
    """``(call, |input - target|)`` for complex tensors, which torch's ``l1_loss`` takes (its
    other losses refuse them): the modulus of the residual in their promoted complex dtype,
    and the matching real dtype (promoted with ``weight``'s) as the result's. Each library's
    ``abs`` gives its own complex-gradient convention (torch's, JAX's conjugate), with
    derivative 0 at a zero residual."""
    c = Call("torch", input=input, target=target, weight=weight)
    xp = c.xp
    x, y = c._array("input"), c._array("target")
    for name, a in (("input", x), ("target", y)):
        if not xp.isdtype(a.dtype, ("real floating", "complex floating")):
            msg = f"`{name}` must have a floating or complex dtype, got {a.dtype}."
            raise TypeError(msg)
    check_same_shape("input", x, "target", y)
    dtype = xp.result_type(x, y)
    c.dtype = promoted(xp, xp.float32 if dtype == xp.complex64 else xp.float64, weight)
    c.work = compute_dtype(xp, c.dtype)
    return c, cast(xp, xp.abs(cast(xp, x, dtype) - cast(xp, y, dtype)), c.work)


@options(**_LEGACY, beta=number(low=0))
@native_torch("smooth_l1_loss", same_shape)
@fill_doc
def smooth_l1_loss(
    input: Any,
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    beta: float = 1.0,
) -> Any:
    r"""Smooth L1 loss, as torch's ``smooth_l1_loss``.

    .. math::

        \ell_i = \begin{cases} 0.5 \, r_i^2 / \beta & |r_i| < \beta \\
                 |r_i| - 0.5 \, \beta & \text{otherwise} \end{cases}, \qquad r = x - y

    ``smooth_l1(beta) = huber(delta=beta) / beta``; ``beta = 0`` is exactly L1, with the L1
    gradient (0 at a zero residual), never 0/0.

    {backends}

    Parameters
    ----------
    input : array, shape (*)
        Predictions, real floating.
    target : array, shape (*)
        Targets, same shape as ``input``.
    {legacy}
    {reduction}
    beta : float, default 1.0
        Width of the quadratic zone; non-negative.

    Returns
    -------
    array
        Scalar, or shape (*) with ``reduction='none'``.

    References
    ----------
    torch.nn.functional.smooth_l1_loss; R. Girshick, "Fast R-CNN", ICCV 2015.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.functional import smooth_l1_loss
    >>> smooth_l1_loss(np.asarray([0.5, 3.0]), np.asarray([0.0, 0.0]), reduction="none")
    array([0.125, 2.5  ])
    """
    c, x, y = _pair(input, target)
    return c.reduce(
        _k.smooth_l1(c.xp, x - y, beta), torch_reduction(size_average, reduce, reduction)
    )


@options(reduction=TORCH_REDUCTION, delta=number(low=0, low_open=True))
@native_torch("huber_loss", same_shape)
@fill_doc
def huber_loss(
    input: Any,
    target: Any,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: Any = None,
) -> Any:
    r"""Huber loss, as torch's ``huber_loss`` (with torch 2.13's ``weight``).

    .. math::

        \ell_i = w_i \begin{cases} 0.5 \, r_i^2 & |r_i| \le \delta \\
                 \delta (|r_i| - 0.5 \, \delta) & \text{otherwise} \end{cases},
        \qquad r = x - y

    ``huber(delta) = delta * smooth_l1(beta=delta)``. With ``weight``, ``'mean'`` is the plain
    mean of the weighted losses (torch's choice here, unlike ``mse_loss``/``l1_loss``).

    {backends}

    Parameters
    ----------
    input : array, shape (*)
        Predictions, real floating.
    target : array, shape (*)
        Targets, same shape as ``input``.
    {reduction}
    delta : float, default 1.0
        End of the quadratic zone; positive.
    weight : array, shape (*), optional
        Per-element weights, same shape as ``input``.

    Returns
    -------
    array
        Scalar, or shape (*) with ``reduction='none'``.

    References
    ----------
    torch.nn.functional.huber_loss; P. J. Huber, "Robust Estimation of a Location
    Parameter", Ann. Math. Statist. 35(1), 1964.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.functional import huber_loss
    >>> huber_loss(np.asarray([0.5, 3.0]), np.asarray([0.0, 0.0]), reduction="none", delta=2.0)
    array([0.125, 4.   ])
    """
    # torch's huber kernel returns the input's dtype; its weight multiplies afterwards
    c, x, y = _pair(input, target, promote_target=False, weight=weight)
    return _weighted(c, _k.huber(c.xp, x - y, delta), reduction, "count")


def _poisson_guard(input: Any, target: Any, **kwargs: Any) -> bool:
    """Guard of ``poisson_nll_loss``: same shapes, and with ``full`` no target gradient (torch's
    Stirling term differentiates ``t log t`` at the masked ``t = 0``: NaN, ours 0)."""
    full = kwargs.get("full", False)
    return same_shape(input, target) and (not full or only_input_grad(input, target, **kwargs))


@options(**{**_LEGACY, "reduction": REDUCTION}, log_input=flag, full=flag, eps=number())
@native_torch("poisson_nll_loss", _poisson_guard)
@fill_doc
def poisson_nll_loss(
    input: Any,
    target: Any,
    log_input: bool = True,
    full: bool = False,
    size_average: bool | None = None,
    eps: float = 1e-8,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Any:
    r"""Poisson negative log-likelihood, as torch's ``poisson_nll_loss``.

    .. math::

        \ell_i = \begin{cases} e^{x_i} - y_i x_i & \text{log\_input} \\
                 x_i - y_i \log(x_i + \epsilon) & \text{otherwise} \end{cases}
                 \; + \; [y_i > 1] \left(y_i \log y_i - y_i + \tfrac12 \log(2 \pi y_i)\right)

    where the bracketed Stirling term is added only with ``full=True`` and, as in torch, only
    where the target exceeds 1. Targets of 0 give finite values and gradients.

    {backends}

    Parameters
    ----------
    input : array, shape (*)
        Log-rates (``log_input=True``) or rates (``>= 0``), real floating or integer (as in
        torch, integers compute in the default floating dtype).
    target : array, shape (*)
        Counts, same shape as ``input``; integer counts are cast.
    log_input : bool, default True
        Whether ``input`` is the log of the rate.
    full : bool, default False
        Add the Stirling approximation of ``log(target!)``.
    {legacy}
    eps : float, default 1e-8
        Added to the rate inside the log when ``log_input=False``.
    {reduction}

    Returns
    -------
    array
        Scalar, or shape (*) with ``reduction='none'``.

    References
    ----------
    torch.nn.functional.poisson_nll_loss.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.functional import poisson_nll_loss
    >>> round(float(poisson_nll_loss(np.asarray([0.0, 1.0]), np.asarray([1.0, 2.0]))), 6)
    0.859141
    """
    c, x, y = _pair(input, target, values=("integral",))
    loss = _k.poisson_nll(c.xp, x, y, bool(log_input), bool(full), eps)
    return c.reduce(loss, torch_reduction(size_average, reduce, reduction))


def _var_needs_axis(in_shape: tuple, var_shape: tuple) -> bool:
    """Whether ``var`` of ``var_shape`` needs a trailing axis to broadcast against ``input``;
    a ValueError for a shape outside torch's three accepted ones."""
    if var_shape == in_shape:
        return False
    if var_shape == in_shape[:-1]:  # one variance per sample
        return True
    if len(var_shape) == len(in_shape):
        differing = [i for i, (a, b) in enumerate(zip(in_shape, var_shape)) if a != b]
        if len(differing) == 1 and var_shape[differing[0]] == 1:
            return False
    msg = (
        f"`var` must have the shape of `input` {in_shape}, that shape without its last "
        f"dimension {in_shape[:-1]}, or that shape with one dimension of size 1; got {var_shape}."
    )
    raise ValueError(msg)


def _expand_var(xp: Any, input: Any, var: Any) -> Any:
    """``var`` shaped to broadcast against ``input``, following torch's three accepted shapes."""
    if _var_needs_axis(tuple(input.shape), tuple(var.shape)):
        return xp.expand_dims(var, axis=-1)
    return var


def _gaussian_shapes(input: Any, target: Any, var: Any, **_: Any) -> bool:
    """Guard of ``gaussian_nll_loss``: the shapes we accept (torch broadcasts more, warning)."""
    if not same_shape(input, target):
        return False
    if isinstance(var, (int, float)):
        return True
    try:
        _var_needs_axis(tuple(input.shape), tuple(var.shape))
    except ValueError:
        return False
    return True


@options(full=flag, eps=number(), reduction=REDUCTION)
@native_torch("gaussian_nll_loss", _gaussian_shapes, arity=3)
@fill_doc
def gaussian_nll_loss(
    input: Any,
    target: Any,
    var: Any,
    full: bool = False,
    eps: float = 1e-6,
    reduction: str = "mean",
) -> Any:
    r"""Gaussian negative log-likelihood, as torch's ``gaussian_nll_loss``.

    .. math::

        \ell_i = \tfrac12 \left(\log v_i + \frac{(x_i - y_i)^2}{v_i}\right)
                 \; [+ \tfrac12 \log 2\pi], \qquad v = \max(\text{var}, \epsilon)

    ``var`` may have the shape of ``input`` (heteroscedastic), that shape without its last
    dimension or with one dimension of size 1 (shared variance), or be a Python float.
    Negative variances raise a ValueError on eager backends (lazy ones cannot check values).
    Below ``eps`` the variance is clamped straight-through, as torch: the loss is evaluated at
    ``eps`` and its gradient there flows to ``var`` unchanged.

    {backends}

    Parameters
    ----------
    input : array, shape (N, *) or (*)
        Means of the Gaussian, real floating.
    target : array
        Samples, same shape as ``input``, or that shape with one dimension of size 1
        (broadcast, as torch documents).
    var : array or float
        Non-negative variances (see above for the shapes).
    full : bool, default False
        Add the constant ``log(2 pi) / 2``.
    eps : float, default 1e-6
        Lower clamp of ``var``.
    {reduction}

    Returns
    -------
    array
        Scalar, or the broadcast shape of ``input`` and ``var`` with ``reduction='none'``.

    References
    ----------
    torch.nn.functional.gaussian_nll_loss; D. A. Nix and A. S. Weigend, "Estimating the mean
    and variance of the target probability distribution", ICNN 1994.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.functional import gaussian_nll_loss
    >>> x, y = np.asarray([[1.0, 2.0], [0.0, 1.0]]), np.asarray([[1.0, 0.0], [0.0, 1.0]])
    >>> float(gaussian_nll_loss(x, y, np.asarray([1.0, 4.0])))
    0.8465735902799727
    """
    if var is None or isinstance(var, bool):
        msg = f"`var` must be an array or a float, got {var!r}."
        raise TypeError(msg)
    if isinstance(var, (int, float)) and var < 0:
        msg = f"`var` must be non-negative, got {var!r}."
        raise ValueError(msg)
    c, x, y = _pair(input, target, broadcast_target=True, var=var)
    if isinstance(var, (int, float)):
        v = c.xp.full_like(x, float(var))
    else:
        v = _expand_var(c.xp, x, c.floating("var"))
        c.check(
            "var",
            lambda: v < 0,
            lambda: f"`var` must be non-negative; got a minimum of {message_value(c.xp.min(v))!r}.",
        )
    return c.reduce(_k.gaussian_nll(c.xp, x, y, v, bool(full), eps), reduction)
