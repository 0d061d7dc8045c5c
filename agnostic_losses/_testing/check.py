"""Registry cases as comparison subjects: the engine behind ``agnostic-losses check``."""

from __future__ import annotations

import difflib
import functools
import os
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from .backends import FLOAT_DTYPES, Backend, to_numpy
from .compare import CheckRow, ComparisonReport, Subject, run_matrix, run_peer

__all__ = [
    "SEED",
    "case_subject",
    "check_cases",
    "count_checks",
    "peer_extra",
    "select_cases",
    "unwritable",
]

SEED = 20261123


def unwritable(*outputs: tuple[str, str | None]) -> str | None:
    """The first ``(option, path)`` whose folder does not exist or is read-only, as a usage
    error message (None when every given path can be written). ``check`` and the benchmarks
    ask before they run: a run is minutes of results to lose at the end."""
    for option, path in outputs:
        if not path:
            continue
        folder = os.path.dirname(os.path.abspath(path))
        if not (os.path.isdir(folder) and os.access(folder, os.W_OK)):
            return f"{option} {path}: the folder {folder} does not exist or is read-only"
    return None


def _self_reference(func: Callable[..., Any]) -> Callable[..., Any]:
    """Our own loss on NumPy float64: the reference of a case that has none of its own."""

    def reference(*args: Any, **kwargs: Any) -> Any:
        return to_numpy(func(*args, **kwargs))

    return reference


def case_subject(case: Any, seed: int = SEED) -> Subject:
    """The :class:`Subject` of a registry ``LossCase`` (its own reference, else NumPy float64)."""
    inputs = case.inputs(seed)
    if case.reference is not None:
        reference, against = case.reference, "reference"
    else:
        reference, against = _self_reference(case.func), "numpy-float64"
    return Subject(
        name=case.id,
        func=case.func,
        args=tuple(inputs.args),
        kwargs=dict(inputs.kwargs),
        reference=reference,
        against=against,
        argnums=tuple(case.grad_argnums),
        tol_scale=float(case.rtol),
    )


def select_cases(
    cases: Sequence[Any],
    names: Iterable[str] | None = None,
    families: Iterable[str] | None = None,
) -> list[Any]:
    """Cases whose public name, qualified name or id is in ``names`` (and family in ``families``).

    Raises ValueError naming every unknown name, with the closest known names.
    """
    selected = list(cases)
    if families:
        wanted = set(families)
        known = {c.family for c in cases}
        unknown = sorted(wanted - known)
        if unknown:
            msg = (
                f"unknown family {', '.join(map(repr, unknown))}; "
                f"known: {', '.join(sorted(known))}."
            )
            raise ValueError(msg)
        selected = [c for c in selected if c.family in wanted]
    if names:
        names = list(names)
        keys: dict[str, list[Any]] = {}
        for c in cases:
            for key in (c.name, c.qualified_name, c.id, f"{c.surface}.{c.name}"):
                keys.setdefault(key, []).append(c)
        unknown = [n for n in names if n not in keys]
        if unknown:
            parts = []
            for n in unknown:
                close = difflib.get_close_matches(n, sorted({c.name for c in cases}), n=3)
                hint = f" (did you mean {', '.join(close)}?)" if close else ""
                parts.append(f"{n!r}{hint}")
            msg = (
                f"unknown loss {'; '.join(parts)}. Use a public name, a qualified name or a case "
                "id from `agnostic-losses list`."
            )
            raise ValueError(msg)
        chosen = {id(c) for n in names for c in keys[n]}
        selected = [c for c in selected if id(c) in chosen]
    return selected


def check_cases(
    cases: Sequence[Any],
    backends: Sequence[Backend],
    dtypes: Sequence[str],
    *,
    peers: bool = False,
    seed: int = SEED,
    jobs: int = 1,
    on_progress: Callable[[str], None] | None = None,
) -> ComparisonReport:
    """Every case on every backend x dtype against its reference, and optionally its peer.

    ``jobs > 1`` spreads the cases over that many worker processes (registry cases only; each
    worker imports the backends once). ``on_progress(label)`` is called once per case x backend.
    """
    from .._registry import CASES

    index = {id(c): i for i, c in enumerate(CASES)}
    rows: list[CheckRow] = []
    notes: list[str] = []
    parallel = jobs > 1 and len(cases) > 1 and all(id(c) in index for c in cases)
    if parallel:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        names = [b.value for b in backends]
        with ProcessPoolExecutor(
            max_workers=jobs, mp_context=multiprocessing.get_context("spawn")
        ) as pool:
            futures = [
                pool.submit(_check_one_case, index[id(c)], names, list(dtypes), peers, seed)
                for c in cases
            ]
            for case, future in zip(cases, futures):
                case_rows, case_notes = future.result()
                rows += case_rows
                notes += case_notes
                if on_progress is not None:
                    for b in backends:
                        on_progress(f"{case.id} on {b.value}")
    else:
        for case in cases:
            case_rows, case_notes = _run_case(case, backends, dtypes, peers, seed, on_progress)
            rows += case_rows
            notes += case_notes
    metadata = {
        "seed": seed,
        "backends": [b.value for b in backends],
        "dtypes": list(dtypes),
        "cases": len(cases),
        "peers": peers,
        "jobs": jobs if parallel else 1,
    }
    if notes:
        metadata["notes"] = list(dict.fromkeys(notes))  # one note per missing peer library
    return ComparisonReport(rows, title="agnostic-losses check", metadata=metadata)


def _without_api_warnings(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` with kl_div's ``reduction='mean'`` warning (at every call, as torch's) ignored:
    it is about the API, not about the values a check compares."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"reduction: 'mean' divides the total loss")
            return fn(*args, **kwargs)

    return run


@_without_api_warnings
def _run_case(
    case: Any,
    backends: Sequence[Backend],
    dtypes: Sequence[str],
    peers: bool,
    seed: int,
    on_progress: Callable[[str], None] | None = None,
) -> tuple[list[CheckRow], list[str]]:
    notes: list[str] = []
    try:
        subject = case_subject(case, seed)
    except Exception as exc:
        message = f"making the inputs raised {type(exc).__name__}: {exc}"
        rows = [
            CheckRow(case.id, b.value, d, "reference", passed=False, exception=message)
            for b in backends
            for d in dtypes
            if d in b.dtypes
        ]
        return rows, notes
    rows = run_matrix([subject], backends, dtypes, seed=seed, on_progress=on_progress)
    if peers:
        rows += _peer_rows(case, subject, dtypes, notes)
    return rows, notes


def _check_one_case(
    index: int, backends: list[str], dtypes: list[str], peers: bool, seed: int
) -> tuple[list[CheckRow], list[str]]:
    """Worker process entry point: registry case ``index``."""
    from .._registry import CASES

    return _run_case(CASES[index], [Backend.parse(b) for b in backends], dtypes, peers, seed)


def peer_extra(library: str) -> str:
    """The extra of ``pyproject.toml`` that installs the peers running on ``library``."""
    return {"torch": "torch", "jax": "peers"}[library]


def _peer_rows(case: Any, subject: Subject, dtypes: Sequence[str], notes: list[str]) -> list:
    peer = case.peer
    if peer is None or not peer.runnable:
        return []
    backend = Backend.TORCH if peer.library == "torch" else Backend.JAX
    reason = backend.unavailable_reason()
    missing = backend.module_name
    if reason is None and not peer.available():
        missing = peer.label.split(".", 1)[0]
        reason = f"{missing} is not installed"
    if reason is not None:
        # Asked for and not run: a SKIP row per dtype, so the totals say so.
        extra = peer_extra(peer.library)
        notes.append(
            f"comparisons with {missing} skipped ({missing} is not installed): in the "
            f'repository checkout, pip install -c requirements/constraints.txt -e ".[{extra}]"'
        )
        return [
            CheckRow(case.id, backend.value, d, peer.label, skipped=reason)
            for d in dtypes
            if d in FLOAT_DTYPES
        ]
    return run_peer(subject, peer.load(), peer.label, backend, dtypes, precision=peer.precision)


def count_checks(
    cases: Sequence[Any],
    backends: Sequence[Backend],
    dtypes: Sequence[str],
    *,
    peers: bool = False,
) -> int:
    """How many rows :func:`check_cases` reports for these arguments (without running them).

    One per case x backend x dtype the backend has, plus with ``peers`` one per case that has a
    runnable peer x float32/float64 dtype.
    """
    total = 0
    for case in cases:
        total += sum(1 for b in backends for d in dtypes if d in b.dtypes)
        if peers and case.peer is not None and case.peer.runnable:
            total += sum(1 for d in dtypes if d in FLOAT_DTYPES)
    return total
