"""Sessions: ``tests`` (every CPU backend in one env), one per backend, ``minimum`` (the oldest
versions allowed), ``py310`` (Python 3.10), ``lint``, ``bench``, ``docs`` (Sphinx; warnings are
errors) and ``readme`` (regenerate README's generated parts).

Every install goes through a pinned file so each run tests the same versions:
requirements/constraints.txt, or minimum.txt and py310.txt for the sessions of those names.
"""

from __future__ import annotations

import os
from pathlib import Path

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
        env={
            "AGNOSTIC_LOSSES_BACKENDS": backends,
            "JAX_PLATFORMS": "cpu",
            # keras (a peer) picks one backend per process: JAX, as the registry expects
            "KERAS_BACKEND": "jax",
        },
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
def minimum(session: nox.Session) -> None:
    """The matrix at the oldest versions pyproject.toml allows (requirements/minimum.txt).

    No peers: they are the oracles of the pinned matrix, not dependencies of the package.
    README's generated check output is left out: it counts the pinned environment's checks.
    CI runs the registry tests here (``nox -s minimum -- tests/test_registry.py``).

    PyPI's torch 2.10 is the CUDA build: about 3 GB to download and 5.5 GB installed (it runs
    on the CPU too). ``AGNOSTIC_LOSSES_MINIMUM_TORCH=2.13.0`` takes that torch instead (the
    constraints' CPU wheel) and keeps every other package at its minimum: CI does, because the
    CUDA build filled its disk.
    """
    constraints = "requirements/minimum.txt"
    torch = os.environ.get("AGNOSTIC_LOSSES_MINIMUM_TORCH")
    if torch:
        # The CUDA build's own dependencies (nvidia-*, triton) may stay: nothing asks for them.
        lines = Path(constraints).read_text().splitlines()
        kept = [line for line in lines if not line.startswith("torch==")]
        constraints = str(Path(session.create_tmp()) / "minimum-other-torch.txt")
        Path(constraints).write_text("\n".join([*kept, f"torch=={torch}", ""]))
    session.install("-c", constraints, "-e", ".[test,jax,torch,dask]", "absl-py")
    _pytest(
        session,
        CPU_BACKENDS,
        "--deselect",
        "tests/test_readme.py::test_check_output_is_current",
    )


# Python 3.10's interpreter: a path in AGNOSTIC_LOSSES_PY310 (.ci/run finds pyenv's, which is
# not on PATH), else python3.10 on PATH.
PY310 = os.environ.get("AGNOSTIC_LOSSES_PY310", "3.10")


@nox.session(python=PY310)
def py310(session: nox.Session) -> None:
    """The matrix on Python 3.10, the oldest ``requires-python`` allows (requirements/py310.txt).

    NumPy, array-api-strict and Dask: JAX's lower bound (0.7) needs Python 3.11, and the CPU
    wheel of torch on this disk is for Python 3.11 (PyPI's would be the 3 GB CUDA build). The
    tests of JAX and torch skip with that reason.
    """
    session.install("-c", "requirements/py310.txt", "-e", ".[test,dask]")
    _pytest(session, "numpy,array_api_strict,dask")


@nox.session
def cupy(session: nox.Session) -> None:
    """CuPy on a CUDA machine (fails where CuPy or a GPU is missing: it was requested)."""
    _install(session, "test,cupy")
    _pytest(session, "numpy,cupy", "-k", "cupy")


@nox.session
def gpu(session: nox.Session) -> None:
    """The whole matrix on torch CUDA, JAX GPU and CuPy, then the benchmark's GPU cells.

    Needs one CUDA GPU (fails where one is requested and missing). The test run ends with the
    per-backend table; ``python -m benchmarks --gpu`` prints the benchmark table.
    """
    _install(session, "test,jax,torch,cupy,peers")
    # The CUDA wheels of torch and JAX replace the CPU ones of the constraints file.
    session.install("torch==2.13.0", "--index-url", "https://download.pytorch.org/whl/cu128")
    session.install("jax[cuda12]==0.10.2")
    session.run(
        "pytest",
        "-q",
        "-p",
        "no:randomly",
        "-k",
        "torch-cuda or jax-gpu or cupy",
        *session.posargs,
        env={"AGNOSTIC_LOSSES_BACKENDS": "numpy,torch-cuda,jax-gpu,cupy"},
    )
    session.run("python", "-m", "benchmarks", "--gpu", "--markdown", "bench-gpu.md")


@nox.session
def lint(session: nox.Session) -> None:
    """ruff, and mypy on the package (it ships ``py.typed``; configured in pyproject.toml)."""
    session.install(*CONSTRAINTS, "ruff", "mypy", "-e", ".")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks against the native peers; ``nox -s bench -- --smoke`` for the CI smoke run."""
    _install(session, "test,jax,torch,dask,peers")
    session.run("python", "-m", "benchmarks", *session.posargs)


@nox.session
def docs(session: nox.Session) -> None:
    """The documentation from the numpydoc docstrings; any warning fails the build."""
    _install(session, "docs")
    session.run(
        "sphinx-build",
        "-W",
        "--keep-going",
        "-q",
        "-b",
        "html",
        "docs",
        "docs/_build/html",
        *session.posargs,
        env={"JAX_PLATFORMS": "cpu"},
    )


@nox.session
def readme(session: nox.Session) -> None:
    """Regenerate README's generated parts; ``nox -s readme -- --check`` only reports."""
    _install(session, "jax,torch,dask,peers")
    session.run(
        "python",
        "-m",
        "agnostic_losses._readme",
        *(session.posargs or ["--write"]),
        env={"JAX_PLATFORMS": "cpu"},
    )
