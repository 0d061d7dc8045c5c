"""Check numerics of Array API code across libraries: your own losses, or ours.

- :func:`assert_close`: one assertion for arrays of any library (namespace, dtype, shape, device,
  values), with tolerances derived from the dtype.
- :func:`compare_backends`: run a callable written against the Array API on every installed
  backend and dtype, against a float64 NumPy reference, gradients included.

The same comparison engine drives the ``agnostic-losses check`` command.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._testing.assertions import assert_close as _assert_close
from ._testing.assertions import default_tolerance
from ._testing.backends import Backend, to_numpy
from ._testing.compare import (
    CheckRow,
    ComparisonReport,
    Subject,
    installed_backends,
    parse_backends,
    parse_dtypes,
    run_matrix,
)

__all__ = [
    "Backend",
    "CheckRow",
    "ComparisonReport",
    "assert_close",
    "compare_backends",
    "default_tolerance",
    "installed_backends",
]

_PY_SCALARS = (bool, int, float)


def assert_close(
    actual: Any,
    desired: Any,
    *,
    rtol: float | None = None,
    atol: float | None = None,
    err_msg: str = "",
) -> None:
    """Assert that two arrays agree in namespace, dtype, shape, device and values.

    Two arrays of the same library must also have the same dtype and (torch, CuPy) device. A
    NumPy ``desired`` against an ``actual`` of another library is a reference: only shapes and
    values are compared. A Python scalar or list ``desired`` is compared by shape and value.
    NaN equals NaN; infinities must match in sign.

    Parameters
    ----------
    actual : array
        The result under test, of any supported library.
    desired : array, Python scalar or list
        The expected result.
    rtol, atol : float, optional
        Relative and absolute tolerances of ``|actual - desired| <= atol + rtol * |desired|``.
        Default: from ``actual``'s dtype (see :func:`default_tolerance`): float64 ``(1e-9,
        1e-12)``, float32 ``(2e-5, 1e-6)``, float16 ``(1e-2, 1e-3)``, bfloat16 ``(4e-2, 1e-2)``.
    err_msg : str, optional
        Prefix of the failure message.

    Raises
    ------
    AssertionError
        Naming what differs; for values: how many elements, the largest absolute and relative
        errors, the error in ULPs of the dtype, and the worst element's index and values.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.testing import assert_close
    >>> assert_close(np.float32([1.0, 2.0]), np.float32([1.0, 2.00001]))
    >>> assert_close(np.float32([1.0, 2.0]), np.float32([1.0, 2.1]))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    AssertionError: 1 of 2 values differ beyond rtol=2e-05, atol=1e-06; max abs error 0.1, ...
    >>> assert_close(np.float32([1.0]), np.float64([1.0]))
    Traceback (most recent call last):
    ...
    AssertionError: dtype differs: actual float32, desired float64
    """
    check_dtype = True
    if desired is None or isinstance(desired, (*_PY_SCALARS, list, tuple)):
        desired = np.asarray(desired, dtype=np.float64)
        check_dtype = False
        if type(actual).__module__.split(".", 1)[0] == "numpy":
            actual = np.asarray(actual)
    _assert_close(actual, desired, rtol=rtol, atol=atol, err_msg=err_msg, check_dtype=check_dtype)


def _as_numpy_input(name: str, value: Any) -> Any:
    if value is None or isinstance(value, (*_PY_SCALARS, str)):
        return value
    if isinstance(value, (list, tuple)):
        value = np.asarray(value)
    elif type(value).__module__.split(".", 1)[0] != "numpy":
        try:
            value = np.asarray(to_numpy(value))
        except Exception:
            msg = (
                f"`{name}` must be a NumPy array, a Python list or a scalar, got "
                f"{type(value).__name__}."
            )
            raise TypeError(msg) from None
    if isinstance(value, np.generic):
        value = np.asarray(value)
    if value.dtype.kind == "f":
        return value.astype(np.float64)
    if value.dtype.kind not in "biu":
        msg = f"`{name}` must hold floats, integers or booleans, got dtype {value.dtype}."
        raise TypeError(msg)
    return value


def compare_backends(
    fn: Callable[..., Any],
    *inputs: Any,
    backends: Sequence[Any] | None = None,
    dtypes: Sequence[str] | None = None,
    grad: bool | Sequence[int] = True,
    reference: str | Callable[..., Any] = "numpy-float64",
    kwargs: dict[str, Any] | None = None,
    tol_scale: float = 1.0,
    seed: int = 0,
) -> ComparisonReport:
    """Run ``fn`` on every backend x dtype and compare it with a float64 NumPy reference.

    For each dtype the inputs are rounded to that dtype, ``fn`` runs on each backend (on
    ``jax-jit`` under ``jax.jit``; on ``dask`` with materialising the graph forbidden while it is
    built), and its result is compared with the reference evaluated in float64 on the *rounded*
    inputs, so only the error ``fn`` itself adds is measured. Each result must also have the
    backend's library, the input dtype and (torch) the input device. On torch and JAX (eager and
    under jit) the gradients of ``sum(c * fn(...))`` (``c`` a fixed random cotangent) are
    compared with central finite differences of the reference.

    Parameters
    ----------
    fn : callable
        ``fn(*inputs, **kwargs)`` written against the Array API (resolve the namespace from its
        arguments, e.g. with ``array_api_compat.array_namespace``), returning one array (a
        tuple of outputs is reported as an error: compare each with a function of its own).
    *inputs : NumPy arrays, Python lists or scalars
        Floating inputs are converted to each dtype under test; integer and boolean inputs keep
        their dtype; scalars are passed as they are.
    backends : sequence of str or Backend, optional
        Names among ``numpy``, ``array_api_strict``, ``jax``, ``jax-jit``, ``torch``, ``dask``,
        ``cupy``. Default: every installed one. A requested backend that is not installed gives
        SKIP rows that state why.
    dtypes : sequence of str, optional
        Default ``('float32', 'float64')``; ``'float16'`` and ``'bfloat16'`` run on the backends
        that have them (torch, JAX).
    grad : bool or sequence of int, default True
        True: differentiate every floating-point positional input; a sequence: those positions;
        False: values only.
    reference : 'numpy-float64' or callable, default 'numpy-float64'
        ``'numpy-float64'``: ``fn`` itself on NumPy float64 arrays. A callable: an independent
        implementation taking the same arguments as float64 NumPy arrays.
    kwargs : dict, optional
        Keyword arguments of ``fn``; arrays among them are converted like ``inputs``.
    tol_scale : float, default 1.0
        Multiplies every tolerance (values: :func:`default_tolerance` of the dtype; gradients:
        float64 ``(1e-5, 1e-6)``, float32 ``(2e-4, 2e-5)``).
    seed : int, default 0
        Seed of the random cotangent.

    Returns
    -------
    ComparisonReport
        One :class:`CheckRow` per backend x dtype: max absolute and relative error, error in
        ULPs of the dtype, normwise gradient error, status (PASS/FAIL/ERROR/SKIP) and the message
        or exception. ``passed``; ``print(report)`` shows a table; ``to_dict()``, ``to_json()``,
        ``to_markdown()``.

    Raises
    ------
    ValueError
        For an unknown backend or dtype name, or an unknown ``reference`` string.
    TypeError
        If an input is neither an array, a list nor a scalar.

    Examples
    --------
    >>> import numpy as np
    >>> from array_api_compat import array_namespace
    >>> from agnostic_losses.testing import compare_backends
    >>> def squared_error(x, y):
    ...     xp = array_namespace(x, y)
    ...     return xp.sum((x - y) ** 2, axis=-1)
    >>> report = compare_backends(
    ...     squared_error, [[1.0, 2.0], [3.0, 4.0]], [[0.5, 2.5], [3.0, 3.0]],
    ...     backends=["numpy", "array_api_strict"],
    ... )
    >>> report.passed
    True
    >>> [(row.backend, row.dtype, row.status) for row in report]  # doctest: +NORMALIZE_WHITESPACE
    [('numpy', 'float32', 'PASS'), ('numpy', 'float64', 'PASS'),
     ('array_api_strict', 'float32', 'PASS'), ('array_api_strict', 'float64', 'PASS')]
    """
    backend_list = parse_backends(backends)
    dtype_list = parse_dtypes(dtypes)
    args = tuple(_as_numpy_input(f"inputs[{i}]", a) for i, a in enumerate(inputs))
    kw = {k: _as_numpy_input(f"kwargs[{k!r}]", v) for k, v in (kwargs or {}).items()}
    if grad is True:
        argnums = tuple(
            i for i, a in enumerate(args) if isinstance(a, np.ndarray) and a.dtype.kind == "f"
        )
    elif grad is False:
        argnums = ()
    else:
        argnums = tuple(int(i) for i in grad)
        for i in argnums:
            if not (0 <= i < len(args)) or args[i].dtype.kind != "f":
                msg = f"`grad` position {i} is not a floating-point input (got {len(args)} inputs)."
                raise ValueError(msg)
    if isinstance(reference, str):
        if reference != "numpy-float64":
            msg = f"`reference` must be 'numpy-float64' or a callable, got {reference!r}."
            raise ValueError(msg)

        def ref(*a: Any, **k: Any) -> Any:
            return to_numpy(fn(*a, **k))

        against = "numpy-float64"
    else:
        ref, against = reference, getattr(reference, "__name__", "reference")
    name = getattr(fn, "__qualname__", getattr(fn, "__name__", type(fn).__name__))
    subject = Subject(name, fn, args, kw, ref, against, argnums, float(tol_scale))
    rows: list[CheckRow] = run_matrix(
        [subject], backend_list, dtype_list, grad=bool(argnums), seed=seed
    )
    metadata = {"backends": [b.value for b in backend_list], "dtypes": dtype_list, "seed": seed}
    return ComparisonReport(rows, title=f"compare_backends: {name}", metadata=metadata)


# keep the installed-backend helper importable from here (used by the CLI and users' scripts)
installed_backends = installed_backends
