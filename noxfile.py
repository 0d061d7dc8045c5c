"""Sessions: ``tests`` (every CPU backend in one env), one per backend, ``lint``, ``bench``.

Every install goes through requirements/constraints.txt so each run tests the same versions.
"""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "venv"
nox.options.sessions = ["lint", "tests"]

CONSTRAINTS = ("-c", "requirements/constraints.txt")
CPU_BACKENDS = "numpy,array_api_strict,jax,jax-jit,torch,dask"
WORKERS = "2"
BACKENDS = ["numpy", "array_api_strict", "jax", "torch", "dask"]


def _install(session: nox.Session, extras: str) -> None:
    session.install(*CONSTRAINTS, "-e", f".[{extras}]")


def _pytest(session: nox.Session, backends: str, *selectors: str) -> None:
    session.run(
        "pytest",
        "-n",
        WORKERS,
        # tests marked xdist_group share a worker (one dask.distributed cluster, not one each)
        "--dist",
        "loadgroup",
        "-q",
        *selectors,
        *session.posargs,
        env={"AGNOSTIC_LOSSES_BACKENDS": backends, "JAX_PLATFORMS": "cpu"},
    )


@nox.session
def tests(session: nox.Session) -> None:
    """The whole matrix on every CPU backend (the README's test command runs this)."""
    _install(session, "test,jax,torch,dask,peers")
    _pytest(session, CPU_BACKENDS)


@nox.session
@nox.parametrize("backend", BACKENDS, ids=BACKENDS)
def backend(session: nox.Session, backend: str) -> None:
    """One backend alone (plus NumPy for references)."""
    extras = {
        "numpy": "test",
        "array_api_strict": "test",
        "jax": "test,jax,peers",
        "torch": "test,torch",
        "dask": "test,dask",
    }[backend]
    _install(session, extras)
    requested = "numpy,jax,jax-jit" if backend == "jax" else backend
    _pytest(session, requested, "-k", backend)


@nox.session
def cupy(session: nox.Session) -> None:
    """CuPy on a CUDA machine (fails where CuPy or a GPU is missing: it was requested)."""
    _install(session, "test,cupy")
    _pytest(session, "numpy,cupy", "-k", "cupy")


@nox.session
def lint(session: nox.Session) -> None:
    session.install(*CONSTRAINTS, "ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks against the native peers; ``nox -s bench -- --smoke`` for the CI smoke run."""
    _install(session, "test,jax,torch,dask,peers")
    session.run("python", "-m", "benchmarks", *session.posargs)
