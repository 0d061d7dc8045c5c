"""Tolerances and the array comparison shared by the test suite and ``agnostic_losses.testing``."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from .backends import to_numpy

__all__ = [
    "ErrorStats",
    "assert_close",
    "default_tolerance",
    "dtype_name",
    "error_stats",
    "ulp",
]

# (rtol, atol) per dtype: a few hundred ulps for float32/float64, two to three significant digits
# for the half types.
_TOLERANCES = {
    "float64": (1e-9, 1e-12),
    "float32": (2e-5, 1e-6),
    "float16": (1e-2, 1e-3),
    "bfloat16": (4e-2, 1e-2),
}


def dtype_name(x: Any) -> str:
    """``'float32'``, ``'bfloat16'``... for an array of any library (or a dtype object)."""
    dtype = getattr(x, "dtype", x)
    name = str(dtype)
    for prefix in ("torch.", "array_api_strict.", "dtype("):
        name = name.replace(prefix, "")
    return name.strip("')\"")


def default_tolerance(dtype: Any) -> tuple[float, float]:
    """``(rtol, atol)`` for comparing results computed in ``dtype`` against a float64 reference."""
    return _TOLERANCES.get(dtype_name(dtype), (1e-9, 0.0))


def assert_close(
    actual: Any,
    desired: Any,
    *,
    rtol: float | None = None,
    atol: float | None = None,
    err_msg: str = "",
    check_dtype: bool = True,
) -> None:
    """Assert that two arrays agree in namespace, dtype, shape, device and values.

    When ``desired`` is a NumPy array and ``actual`` is not, only shape and values are compared
    (a float64 NumPy reference for a result of another library). Tolerances default to the
    ``actual`` dtype's (see :func:`default_tolerance`). NaNs compare equal to NaNs and infinities
    must match in sign. ``check_dtype=False`` compares values of different precisions.
    """
    actual_module = type(actual).__module__.split(".", 1)[0]
    desired_module = type(desired).__module__.split(".", 1)[0]
    prefix = f"{err_msg}: " if err_msg else ""
    if desired_module != "numpy" or actual_module == "numpy":
        if actual_module != desired_module:
            msg = (
                f"{prefix}namespace differs: actual is {actual_module}, desired is {desired_module}"
            )
            raise AssertionError(msg)
        if check_dtype and dtype_name(actual) != dtype_name(desired):
            msg = (
                f"{prefix}dtype differs: actual {dtype_name(actual)}, desired {dtype_name(desired)}"
            )
            raise AssertionError(msg)
        actual_device = getattr(actual, "device", None)
        desired_device = getattr(desired, "device", None)
        if actual_module not in ("numpy", "jax", "dask") and str(actual_device) != str(
            desired_device
        ):
            msg = f"{prefix}device differs: actual {actual_device}, desired {desired_device}"
            raise AssertionError(msg)
    if any(t is not None and not t >= 0 for t in (rtol, atol)):
        msg = f"rtol and atol must be non-negative, got rtol={rtol!r}, atol={atol!r}"
        raise ValueError(msg)
    meta = _is_meta(actual) or _is_meta(desired)
    if meta:
        # no values to compare (torch's own assert_close checks a meta tensor's metadata only)
        shapes = tuple(actual.shape), tuple(desired.shape)
    else:
        a, d = np.asarray(to_numpy(actual)), np.asarray(to_numpy(desired))
        shapes = a.shape, d.shape
    if shapes[0] != shapes[1]:
        msg = f"{prefix}shape differs: actual {shapes[0]}, desired {shapes[1]}"
        raise AssertionError(msg)
    if meta:
        return
    component = _REAL_PART.get(dtype_name(actual))  # a complex dtype's parts' dtype
    default_rtol, default_atol = default_tolerance(component or actual)
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    if np.iscomplexobj(a) or np.iscomplexobj(d):
        # each part on its own: a float64 cast would drop the imaginary parts unseen
        for part, take in (("real part", np.real), ("imaginary part", np.imag)):
            _assert_values(
                take(a), take(d), component or "float64", rtol, atol, f"{prefix}{part}: "
            )
        return
    _assert_values(a, d, dtype_name(actual) if _is_float(actual) else "float64", rtol, atol, prefix)


# The floating dtype of a complex dtype's parts: their spacing and default tolerances.
_REAL_PART = {"complex64": "float32", "complex128": "float64"}


def _is_meta(x: Any) -> bool:
    return getattr(getattr(x, "device", None), "type", None) == "meta"


def _assert_values(a: Any, d: Any, dtype: str, rtol: float, atol: float, prefix: str) -> None:
    a64 = np.asarray(a, dtype=np.float64)
    d64 = np.asarray(d, dtype=np.float64)
    ok = np.isclose(a64, d64, rtol=rtol, atol=atol, equal_nan=True)
    if bool(np.all(ok)):
        return
    stats = error_stats(a64, d64, dtype, among=~ok)
    bad = int(np.count_nonzero(~ok))
    where = tuple(int(i) for i in np.unravel_index(stats.worst_flat, a64.shape)) if a64.ndim else ()
    msg = (
        f"{prefix}{bad} of {a64.size} values differ beyond rtol={rtol:g}, atol={atol:g}; "
        f"max abs error {stats.max_abs:.3g}, max rel error {stats.max_rel:.3g} "
        f"({stats.max_ulp:.3g} ulp of {stats.dtype}); worst at index {where}: "
        f"actual {float(a64.ravel()[stats.worst_flat])!r}, "
        f"desired {float(d64.ravel()[stats.worst_flat])!r}"
    )
    raise AssertionError(msg)


# Machine epsilon and smallest normal number of each floating dtype, for errors in ULPs
# (bfloat16 is not a NumPy dtype, so the table is written out).
_EPS_TINY = {
    "float64": (2.0**-52, 2.0**-1022),
    "float32": (2.0**-23, 2.0**-126),
    "float16": (2.0**-10, 2.0**-14),
    "bfloat16": (2.0**-7, 2.0**-126),
}


def ulp(x: Any, dtype: Any) -> np.ndarray:
    """The spacing of ``dtype``'s floating-point numbers at ``|x|`` (float64 NumPy array).

    Below the smallest normal number the spacing is that of the smallest normal number.
    """
    eps, tiny = _EPS_TINY.get(dtype_name(dtype), _EPS_TINY["float64"])
    magnitude = np.maximum(np.abs(np.asarray(x, dtype=np.float64)), tiny)
    with np.errstate(invalid="ignore"):
        exponent = np.floor(np.log2(np.where(np.isfinite(magnitude), magnitude, 1.0)))
    return eps * np.exp2(exponent)


@dataclasses.dataclass(frozen=True)
class ErrorStats:
    """Worst errors of ``actual`` against ``desired`` (both compared in float64).

    ``max_rel`` divides by ``max(|desired|, atol)`` and ``max_ulp`` counts spacings of ``dtype``
    at that same magnitude, where ``atol`` is the dtype's default absolute tolerance: values
    smaller than the tolerance are measured on the tolerance's scale, so an exact zero against
    ``1e-17`` is not reported as an infinite relative error. A NaN or infinity where the other
    side is finite (or a NaN against an infinity, or infinities of opposite signs) counts as an
    infinite error; equal infinities and NaN against NaN count as exact. ``worst_flat`` is the
    flat index of the largest relative error.
    """

    max_abs: float
    max_rel: float
    max_ulp: float
    worst_flat: int
    dtype: str

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def error_stats(
    actual: Any, desired: Any, dtype: Any = "float64", *, among: Any = None
) -> ErrorStats:
    """:class:`ErrorStats` of NumPy-convertible ``actual`` against ``desired`` (same shape).

    ``among`` (boolean, same shape) restricts the search for the worst element, e.g. to the
    elements outside the tolerance.
    """
    a = np.asarray(actual, dtype=np.float64)
    d = np.asarray(desired, dtype=np.float64)
    name = dtype_name(dtype)
    _, atol = default_tolerance(name)
    same = (a == d) | (np.isnan(a) & np.isnan(d))
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(a - d)
    diff = np.where(same, 0.0, np.where(np.isnan(diff), np.inf, diff))
    scale = np.maximum(np.abs(d), atol if atol > 0 else _EPS_TINY["float64"][1])
    finite_scale = np.isfinite(scale)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        rel = np.where(
            same, 0.0, np.where(finite_scale, diff / np.where(finite_scale, scale, 1.0), np.inf)
        )
        ulps = np.where(
            same,
            0.0,
            np.where(finite_scale, diff / ulp(np.where(finite_scale, scale, 1.0), name), np.inf),
        )
    if a.size == 0:
        return ErrorStats(0.0, 0.0, 0.0, 0, name)
    candidates = rel if among is None else np.where(np.asarray(among), rel, -1.0)
    worst = int(np.argmax(candidates.ravel()))
    return ErrorStats(float(np.max(diff)), float(np.max(rel)), float(np.max(ulps)), worst, name)


def _is_float(x: Any) -> bool:
    return "float" in dtype_name(x)
