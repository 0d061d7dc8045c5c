"""Tolerances and the array comparison shared by the test suite and ``agnostic_losses.testing``."""

from __future__ import annotations

from typing import Any

import numpy as np

from .backends import to_numpy

__all__ = ["assert_close", "default_tolerance", "dtype_name"]

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
    a = np.asarray(to_numpy(actual), dtype=np.float64) if _is_float(actual) else to_numpy(actual)
    d = np.asarray(to_numpy(desired))
    if a.shape != d.shape:
        msg = f"{prefix}shape differs: actual {a.shape}, desired {d.shape}"
        raise AssertionError(msg)
    default_rtol, default_atol = default_tolerance(actual)
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    a64 = np.asarray(a, dtype=np.float64)
    d64 = np.asarray(d, dtype=np.float64)
    ok = np.isclose(a64, d64, rtol=rtol, atol=atol, equal_nan=True)
    if bool(np.all(ok)):
        return
    with np.errstate(invalid="ignore", divide="ignore"):
        abs_err = np.abs(a64 - d64)
        rel_err = abs_err / np.abs(d64)
    bad = np.flatnonzero(~ok.ravel())
    worst = int(np.nanargmax(np.where(ok, -np.inf, abs_err).ravel())) if a64.size else 0
    where = np.unravel_index(worst, a64.shape) if a64.ndim else ()
    msg = (
        f"{prefix}{bad.size} of {a64.size} values differ beyond rtol={rtol:g}, atol={atol:g}; "
        f"max abs error {np.nanmax(abs_err):.3g}, max rel error {np.nanmax(rel_err):.3g}; "
        f"worst at index {tuple(int(i) for i in where)}: actual {a64.ravel()[worst]!r}, "
        f"desired {d64.ravel()[worst]!r}"
    )
    raise AssertionError(msg)


def _is_float(x: Any) -> bool:
    return "float" in dtype_name(x)
