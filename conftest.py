"""The test matrix: every loss test runs on each backend x dtype.

Fixtures
--------
backend
    A :class:`~agnostic_losses._testing.backends.Backend` (numpy, array_api_strict, jax, jax-jit,
    jax32, jax32-jit, torch, dask, cupy; ``jax32`` is JAX's default 32-bit mode, ``jax`` runs
    with x64). Not installed -> skip; named in ``AGNOSTIC_LOSSES_BACKENDS`` (set by the nox
    sessions) but missing -> fail.
xp
    That backend's namespace. On ``jax-jit`` the functions a test module tags with
    ``array_api_extra.testing.lazy_xp_function`` run under ``jax.jit``; on ``dask`` they may not
    materialise the graph.
dtype
    ``'float32'`` or ``'float64'`` (not float64 on jax32); ``half_dtype``: ``'float16'``
    (numpy, dask, torch, jax) and ``'bfloat16'`` (torch, jax).
make, run, grad, close
    Build an input on the backend, call a function the backend's way (jit / no-compute), take
    gradients (torch, jax), and compare with the dtype's tolerance.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

from agnostic_losses._testing import backends as _backends
from agnostic_losses._testing.assertions import assert_close, default_tolerance
from agnostic_losses._testing.backends import Backend

# It re-exports every name of array_api_compat.torch, including torch's `classes` proxy, on
# which doctest's finder raises (its hasattr(__wrapped__) asks torch for a registered class).
# The module has no doctests.
collect_ignore = ["agnostic_losses/_fastpath_torch.py", "agnostic_losses/_autodiff_torch.py"]

_REQUESTED = {
    Backend.parse(name.strip())
    for name in os.environ.get("AGNOSTIC_LOSSES_BACKENDS", "").split(",")
    if name.strip()
}


def _resolve(backend: Backend) -> Backend:
    reason = backend.unavailable_reason()
    if reason is not None:
        if backend in _REQUESTED:
            pytest.fail(f"backend {backend.value} was requested but is unavailable: {reason}")
        pytest.skip(reason)
    return backend


@pytest.fixture(autouse=True)
def _jax_x64_by_default() -> None:
    """Every test starts with JAX's x64 on (the jax32 backends switch it off for their test
    only), so the mode a previous test left behind never leaks into the next one."""
    jax = sys.modules.get("jax")
    if jax is not None and not jax.config.jax_enable_x64:
        jax.config.update("jax_enable_x64", True)


@pytest.fixture
def require() -> Callable[[Backend], Backend]:
    """``require(Backend.JAX)``: a library a test needs outside its own matrix cell (``jax.jit``
    of a case, a peer on JAX). It skips where that library is not installed and fails where it
    was requested, as the ``backend`` fixture does."""
    return _resolve


@pytest.fixture(params=list(Backend), ids=[b.value for b in Backend])
def backend(request: pytest.FixtureRequest) -> Backend:
    return _resolve(request.param)


@pytest.fixture
def xp(backend: Backend, request: pytest.FixtureRequest) -> Iterator[Any]:
    namespace = backend.namespace()
    if backend.lazy:
        from array_api_extra.testing import patch_lazy_xp_functions

        with patch_lazy_xp_functions(request, xp=namespace):
            yield namespace
    else:
        yield namespace


@pytest.fixture(params=["float32", "float64"])
def dtype(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(params=["float16", "bfloat16"])
def half_dtype(request: pytest.FixtureRequest, backend: Backend) -> str:
    if request.param not in backend.dtypes:
        pytest.skip(f"{backend.value} has no {request.param} in its namespace")
    return request.param


@pytest.fixture
def make(backend: Backend, xp: Any, request: pytest.FixtureRequest) -> Callable[..., Any]:
    """``make(values, dtype=None)``: a backend array; floats in the test's ``dtype``."""
    if "dtype" in request.fixturenames:
        default = request.getfixturevalue("dtype")
    else:
        default = backend.float_dtype

    def _make(values: Any, dtype: str | None = None) -> Any:
        array = np.asarray(values)
        if dtype in ("int32", "int64", "bool"):
            return _backends.from_numpy(backend, array.astype(dtype))
        if dtype is not None or np.issubdtype(array.dtype, np.floating):
            return _backends.from_numpy(backend, array.astype(np.float64), dtype or default)
        return _backends.from_numpy(backend, array)

    return _make


@pytest.fixture
def foreign(backend: Backend) -> Callable[..., Any]:
    """``foreign(values)``: an array of another non-NumPy library than ``backend``'s (mixing two
    such libraries is an error; NumPy companions are converted, see ``_dispatch.resolve``)."""
    if backend.library == "numpy":
        pytest.skip("NumPy arrays are companions of any library: mixing needs two others")
    for other in (Backend.ARRAY_API_STRICT, Backend.TORCH, Backend.JAX32):
        if other.library not in (backend.library, "numpy") and other.unavailable_reason() is None:
            break
    else:
        pytest.skip("needs a second non-NumPy library")

    def _foreign(values: Any, dtype: str | None = None) -> Any:
        array = np.asarray(values)
        if dtype is not None:
            array = array.astype(dtype)
        elif np.issubdtype(array.dtype, np.floating):
            array = array.astype("float32")
        return _backends.from_numpy(other, array)

    return _foreign


@pytest.fixture
def run(backend: Backend) -> Callable[..., Any]:
    """``run(fn, *args, **kwargs)``: call ``fn`` under jit on jax-jit, compute-free on dask."""

    def _run(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return _backends.call(backend, fn, *args, **kwargs)

    return _run


@pytest.fixture
def grad(backend: Backend) -> Callable[..., Any]:
    """``grad(fn, args, kwargs=None, argnums=(0,))`` -> (value, [grads]) as NumPy."""
    if not backend.differentiable:
        pytest.skip(f"{backend.value} has no automatic differentiation")

    def _grad(
        fn: Callable[..., Any],
        args: Any,
        kwargs: Any = None,
        argnums: Any = (0,),
        cotangent: Any = None,
    ) -> Any:
        return _backends.value_and_grad(
            backend, fn, tuple(args), kwargs, argnums=argnums, cotangent=cotangent
        )

    return _grad


@pytest.fixture
def hvp(backend: Backend) -> Callable[..., Any]:
    """``hvp(fn, args, tangents, argnums=(0,))`` -> ([grads], [Hessian-vector products]) as
    NumPy: torch's double backward, JAX's forward over reverse."""
    if not backend.differentiable:
        pytest.skip(f"{backend.value} has no automatic differentiation")

    def _hvp(fn: Callable[..., Any], args: Any, tangents: Any, argnums: Any = (0,)) -> Any:
        return _backends.hessian_vector_product(
            backend, fn, tuple(args), argnums=argnums, tangents=tangents
        )

    return _hvp


@pytest.fixture
def close() -> Callable[..., None]:
    """``close(actual, desired, factor=1.0)``: assert_close with the actual dtype's tolerance."""

    def _close(actual: Any, desired: Any, factor: float = 1.0, **kwargs: Any) -> None:
        rtol, atol = default_tolerance(actual)
        kwargs.setdefault("rtol", rtol * factor)
        kwargs.setdefault("atol", atol * factor)
        assert_close(actual, desired, **kwargs)

    return _close


_JAX_CACHE_LIMIT = 2 * 1024**3


def _share_jax_compilations(config: pytest.Config) -> None:
    """Point JAX's persistent compilation cache at ``.pytest_cache/jax-compilations``.

    Eager JAX compiles every primitive for every new shape (about 20 ms each on CPU, most of an
    eager JAX test's time). The next run on the same checkout reads them back: the
    classification and regression tests took 76 s, then 36 s; the whole CI run, cold, 24 min
    45 s against 32 min 50 s without the cache (the workers and cells share compilations).
    Set by environment variables so the xdist workers and any subprocess inherit them;
    ``JAX_COMPILATION_CACHE_DIR`` set by the user wins, ``AGNOSTIC_LOSSES_JAX_CACHE=0`` turns
    it off. Wiped when it outgrows 2 GiB. JAX writes an entry in place: a worker reading one
    the other is writing falls back to compiling (the warning it gives is filtered in
    pyproject.toml).
    """
    if os.environ.get("AGNOSTIC_LOSSES_JAX_CACHE") == "0" or "jax" in sys.modules:
        return  # off, or too late for the environment to reach an imported jax
    if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
        path = config.rootpath / ".pytest_cache" / "jax-compilations"
        if not hasattr(config, "workerinput"):  # the controller (or a run without xdist)
            files = list(path.glob("*")) if path.is_dir() else []
            if sum(f.stat().st_size for f in files if f.is_file()) > _JAX_CACHE_LIMIT:
                shutil.rmtree(path, ignore_errors=True)
        os.environ["JAX_COMPILATION_CACHE_DIR"] = str(path)
    # Every compilation, however small or quick (JAX's defaults keep only those over 1 s).
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "-1")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "autodiff: the test differentiates; collected only for torch and jax backends"
    )
    _share_jax_compilations(config)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect combinations that cannot exist (not skip: they are not missing, they are void).

    A dtype the backend does not have (a half dtype on array-api-strict, float64 in JAX's
    32-bit mode), or a gradient test on a backend without autodiff. Unavailable backends still
    *skip*, with the reason.
    """
    keep, void = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        backend = params.get("backend")
        # Reported per backend cell at the end of the run (pytest_terminal_summary).
        item.user_properties.append(
            ("backend", backend.value if isinstance(backend, Backend) else "(none)")
        )
        wanted = [params[k] for k in ("dtype", "half_dtype") if isinstance(params.get(k), str)]
        needs_grad = "grad" in getattr(item, "fixturenames", ()) or item.get_closest_marker(
            "autodiff"
        )
        impossible = isinstance(backend, Backend) and (
            any(d not in backend.dtypes for d in wanted)
            or (needs_grad and not backend.differentiable)
        )
        (void if impossible else keep).append(item)
    if void:
        config.hook.pytest_deselected(items=void)
        items[:] = keep


def pytest_report_header() -> list[str]:
    lines = []
    for backend in Backend:
        reason = backend.unavailable_reason()
        lines.append(f"  {backend.value:17s} {'ok' if reason is None else 'skip: ' + reason}")
    return ["agnostic_losses backends:", *lines]


_TALLY: dict[str, dict[str, int]] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Count each test's outcome under its backend cell (works across xdist workers)."""
    backend = dict(report.user_properties).get("backend", "(none)")
    outcome = None
    if report.when == "call" or (report.when == "setup" and not report.passed):
        outcome = report.outcome
    elif report.when == "teardown" and report.failed:
        outcome = "failed"
    if outcome is not None:
        counts = _TALLY.setdefault(backend, {"passed": 0, "failed": 0, "skipped": 0})
        counts[outcome] = counts.get(outcome, 0) + 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _TALLY:
        return
    terminalreporter.section("tests per backend cell")
    order = [b.value for b in Backend] + ["(none)"]
    for name in sorted(_TALLY, key=lambda n: order.index(n) if n in order else len(order)):
        c = _TALLY[name]
        terminalreporter.write_line(
            f"{name:17s} passed {c['passed']:6d}   failed {c['failed']:4d}   "
            f"skipped {c['skipped']:6d}"
        )
