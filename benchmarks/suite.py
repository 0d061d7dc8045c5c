"""The benchmark driver: which losses, on which backends, at which sizes; table and JSON.

Run ``python -m benchmarks --help``. Numbers taken while the machine is loaded (other test runs,
a shared 2-core box) are noisy: ratios of two implementations timed back to back in the same
process are more stable than absolute times, and the key rows should be re-run on a quiet machine.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import json
import os
import platform
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from agnostic_losses._registry import Inputs, LossCase, losses
from agnostic_losses._testing import backends as B
from agnostic_losses._testing.backends import Backend
from agnostic_losses._testing.check import unwritable

from .dask_scaling import realistic_rows
from .inputs import SIZES, sized_inputs
from .measure import (
    jax_peak_bytes,
    median_time,
    paired_median_times,
    torch_peak_bytes,
    tracemalloc_peak_bytes,
)
from .torch_twins import twin

__all__ = ["Options", "Row", "main", "run"]

# Losses that get the expensive extras (torch.compile, the big Dask run), in order of preference.
KEY_LOSSES = (
    ("functional", "cross_entropy"),
    ("functional", "binary_cross_entropy_with_logits"),
    ("top", "softmax_cross_entropy_with_integer_labels"),
)


@dataclasses.dataclass
class Options:
    sizes: tuple[str, ...] = ("tiny", "medium", "lm", "seg")
    losses: tuple[str, ...] = ()
    smoke: bool = False
    repeats: int = 5
    budget_s: float = 540.0
    compile: bool = True
    dask_gb: float = 2.0
    half: bool = True
    json_path: str | None = None
    markdown_path: str | None = None
    targets_path: str | None = None
    quiet: bool = False
    threads: int = 1
    backends: tuple[str, ...] = ()  # empty: every backend a case has


@dataclasses.dataclass
class Row:
    loss: str
    case: str
    peer: str
    backend: str
    size: str
    shape: tuple[int, ...]
    dtype: str
    mode: str
    ours_s: float | None = None
    peer_s: float | None = None
    ours_bytes: int | None = None
    peer_bytes: int | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.ours_s is None or not self.peer_s:
            return None
        return self.ours_s / self.peer_s

    @property
    def mem_ratio(self) -> float | None:
        if self.ours_bytes is None or not self.peer_bytes:
            return None
        return self.ours_bytes / self.peer_bytes

    @property
    def overhead_us(self) -> float | None:
        if self.ours_s is None or self.peer_s is None:
            return None
        return (self.ours_s - self.peer_s) * 1e6

    def as_json(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out.update(ratio=self.ratio, mem_ratio=self.mem_ratio, overhead_us=self.overhead_us)
        return out


class Budget:
    """Wall-clock budget: measurements past it are recorded as skipped, not run."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.perf_counter() + seconds

    @property
    def exhausted(self) -> bool:
        return time.perf_counter() > self.deadline


# --- building the callables ----------------------------------------------------------------


def _convert(backend: Backend, inputs: Inputs, dtype: str) -> tuple[list[Any], dict[str, Any]]:
    args = [B.from_numpy(backend, a, dtype) for a in inputs.args]
    kwargs = {k: B.from_numpy(backend, v, dtype) for k, v in inputs.kwargs.items()}
    return args, kwargs


def _bind_class(case: LossCase, impl: Any, kwargs: dict[str, Any]) -> Callable[..., Any]:
    """Class cases: construct the module once, outside the timed call."""
    if case.surface != "class":
        return lambda *a: impl(*a, **kwargs)
    instance = impl(**kwargs)
    return lambda *a: instance(*a)


def _torch_twin(case: LossCase) -> tuple[str, Callable[..., Any]] | None:
    """``(label, callable)`` of a top-level case's torch twin, or None (other surfaces: none)."""
    return twin(case.name) if case.surface == "top" else None


def _impls(case: LossCase) -> tuple[Any, Any]:
    """(ours, peer) as plain callables or, for class cases, the classes themselves; on torch,
    a top-level (optax-named) loss's peer is its torch twin (``torch_twins.py``)."""
    torch_twin = _torch_twin(case)
    if torch_twin is not None:
        return case.func, torch_twin[1]
    assert case.peer is not None
    assert case.peer.load is not None
    if case.surface == "class":
        import torch

        import agnostic_losses

        return getattr(agnostic_losses, case.name), getattr(
            torch.nn, case.peer.label.split(".")[-1]
        )
    return case.func, case.peer.load()


def _torch_pair(
    case: LossCase, inputs: Inputs, dtype: str, mode: str
) -> tuple[Callable[[], Any], Callable[[], Any]]:
    import torch

    args, kwargs = _convert(Backend.TORCH, inputs, dtype)
    ours_impl, peer_impl = _impls(case)
    ours, peer = _bind_class(case, ours_impl, kwargs), _bind_class(case, peer_impl, kwargs)
    if mode == "fwd":
        return (lambda: ours(*args)), (lambda: peer(*args))
    leaves = list(args)
    for i in case.grad_argnums:
        leaves[i] = args[i].detach().clone().requires_grad_(True)
    wrt = [leaves[i] for i in case.grad_argnums]

    def step(f: Callable[..., Any]) -> Callable[[], Any]:
        def run() -> Any:
            return torch.autograd.grad(f(*leaves).sum(), wrt)

        return run

    return step(ours), step(peer)


def _jax_jitted(
    func: Callable[..., Any], inputs_args: list[Any], kwargs: dict[str, Any], mode: str, argnums
) -> tuple[Callable[[], Any], Any, tuple[Any, ...]]:
    import jax
    import jax.numpy as jnp

    def is_array(v: Any) -> bool:
        return isinstance(v, jax.Array)

    static_kwargs = {k: v for k, v in kwargs.items() if not is_array(v)}
    array_kwargs = {k: v for k, v in kwargs.items() if is_array(v)}

    def forward(args: list[Any], akw: dict[str, Any]) -> Any:
        return func(*args, **static_kwargs, **akw)

    if mode == "fwd":
        jitted = jax.jit(forward)
    else:

        def scalar(diff: list[Any], args: list[Any], akw: dict[str, Any]) -> Any:
            full = list(args)
            for i, a in zip(argnums, diff):
                full[i] = a
            return jnp.sum(forward(full, akw))

        grad = jax.grad(scalar)
        jitted = jax.jit(lambda args, akw: grad([args[i] for i in argnums], args, akw))
    call_args = (list(inputs_args), array_kwargs)

    def run() -> Any:
        return jax.block_until_ready(jitted(*call_args))

    return run, jitted, call_args


# --- one measurement -----------------------------------------------------------------------


def _measure_row(row: Row, case: LossCase, inputs: Inputs, opts: Options) -> None:
    repeats = 1 if opts.smoke else opts.repeats
    min_batch = 0.001 if opts.smoke else 0.02
    timed = {"repeats": repeats, "min_batch_s": min_batch}
    if row.backend == "torch":
        ours, peer = _torch_pair(case, inputs, row.dtype, row.mode)
        row.ours_s, row.peer_s = paired_median_times(ours, peer, **timed)
        if row.size != "tiny":
            row.ours_bytes, row.peer_bytes = torch_peak_bytes(ours), torch_peak_bytes(peer)
    elif row.backend == "jax-jit":
        B.Backend.JAX.namespace()
        args, kwargs = _convert(Backend.JAX, inputs, row.dtype)
        assert case.peer is not None
        assert case.peer.load is not None
        runs = []
        for func in (case.func, case.peer.load()):
            runs.append(_jax_jitted(func, args, kwargs, row.mode, case.grad_argnums))
        row.ours_s, row.peer_s = paired_median_times(runs[0][0], runs[1][0], **timed)
        row.ours_bytes, row.peer_bytes = (jax_peak_bytes(r[1], *r[2]) for r in runs)
    elif row.backend == "numpy":
        args, kwargs = _convert(Backend.NUMPY, inputs, row.dtype)
        assert case.reference is not None
        ref = case.reference

        def ours() -> Any:
            return case.func(*args, **kwargs)

        def plain() -> Any:
            with np.errstate(all="ignore"):
                return ref(*args, **kwargs)

        row.ours_s, row.peer_s = paired_median_times(ours, plain, **timed)
        row.ours_bytes, row.peer_bytes = tracemalloc_peak_bytes(ours), tracemalloc_peak_bytes(plain)
    elif row.backend == "dask":
        import dask.array as da

        args, kwargs = _convert(Backend.NUMPY, inputs, row.dtype)
        n = inputs.args[0].shape[0]
        # chunks as a Dask user makes them: whole rows, up to 64 MiB (one chunk for every size
        # here; 4 row chunks of 4-8 MiB measured Dask's per-task overhead, see dask_scaling.py)
        first = args[0]
        rows_per_chunk = realistic_rows(n, first.size // max(n, 1), 64.0, first.dtype.itemsize)

        def chunk(a: Any) -> Any:
            if not isinstance(a, np.ndarray):
                return a
            chunks = (rows_per_chunk, *a.shape[1:]) if a.ndim and a.shape[0] == n else a.shape
            return da.from_array(a, chunks=chunks)

        dargs = [chunk(a) for a in args]
        dkwargs = {k: chunk(v) for k, v in kwargs.items()}

        def ours() -> Any:
            return np.asarray(case.func(*dargs, **dkwargs).compute())

        def on_numpy() -> Any:
            return case.func(*args, **kwargs)

        row.ours_s, row.peer_s = paired_median_times(ours, on_numpy, **timed)
        row.ours_bytes = tracemalloc_peak_bytes(ours)
        row.peer_bytes = tracemalloc_peak_bytes(on_numpy)


# --- plan ------------------------------------------------------------------------------------


def _names(case: LossCase) -> set[str]:
    """What ``--loss`` may call a case: ``nll_loss``, ``functional.nll_loss`` (as the tables
    print it) or ``agnostic_losses.functional.nll_loss``."""
    short = case.qualified_name.removeprefix("agnostic_losses.")
    return {case.name, short, case.qualified_name}


def _selected(opts: Options) -> list[LossCase]:
    out = []
    for case in losses().values():
        if opts.losses and not _names(case) & set(opts.losses):
            continue
        has_peer = case.peer is not None and case.peer.available()
        if has_peer or case.reference is not None:
            out.append(case)
    return out


def _plan(case: LossCase, opts: Options) -> Iterator[tuple[str, str, str, str]]:
    """(backend, size, dtype, mode) combinations for ``case``."""
    peer_backend = None
    if case.peer is not None and case.peer.available():
        peer_backend = {"torch": "torch", "jax": "jax-jit"}.get(case.peer.library)
    modes = ("fwd", "fwd+bwd") if case.grad_argnums else ("fwd",)
    dtypes = ("float32", "bfloat16") if opts.half and not opts.smoke else ("float32",)
    peer_backends = [peer_backend] if peer_backend is not None else []
    if _torch_twin(case) is not None and _backend_available("torch") is None:
        peer_backends.append("torch")
    for size in opts.sizes:
        for peer_backend in peer_backends:
            for dtype in dtypes:
                if dtype == "bfloat16" and size == "tiny":
                    continue  # dispatch-bound: the float32 row already says it
                for mode in modes:
                    yield peer_backend, size, dtype, mode
        if case.reference is not None:
            yield "numpy", size, "float32", "fwd"
            if size != "tiny":
                yield "dask", size, "float32", "fwd"


def _peer_label(case: LossCase, backend: str) -> str:
    if backend == "numpy":
        return "plain NumPy (registry reference)"
    if backend == "dask":
        return "ours on NumPy, same data"
    torch_twin = _torch_twin(case)
    if backend == "torch" and torch_twin is not None:
        return f"torch: {torch_twin[0]}"
    assert case.peer is not None
    return case.peer.label


# --- extras: torch.compile and a larger-than-comfortable Dask run ----------------------------


def _key_cases(opts: Options, limit: int) -> list[LossCase]:
    table = losses()
    chosen = []
    for key in KEY_LOSSES:
        case = table.get(key)
        if case is None:
            continue
        if opts.losses and not _names(case) & set(opts.losses):
            continue
        chosen.append(case)
    return chosen[:limit]


def _compile_rows(
    opts: Options, budget: Budget, log: Callable[[str], None]
) -> list[dict[str, Any]]:
    import torch
    import torch._dynamo

    out = []
    for case in _key_cases(opts, limit=2):
        if case.peer is None or case.peer.library != "torch":
            continue
        inputs, _why = sized_inputs(case, "medium")
        if inputs is None:
            continue
        for mode in ("fwd", "fwd+bwd"):
            if budget.exhausted:
                out.append({"loss": case.qualified_name, "mode": mode, "note": "time budget"})
                continue
            log(f"torch.compile {case.qualified_name} {mode}")
            record: dict[str, Any] = {"loss": case.qualified_name, "peer": case.peer.label}
            record.update(mode=mode, size="medium", dtype="float32")
            try:
                args, kwargs = _convert(Backend.TORCH, inputs, "float32")
                ours_impl, peer_impl = _impls(case)
                for label, impl in (("ours", ours_impl), ("peer", peer_impl)):
                    torch._dynamo.reset()
                    bound = _bind_class(case, impl, kwargs)
                    explained = torch._dynamo.explain(bound)(*args)
                    record[f"{label}_graph_breaks"] = explained.graph_break_count
                    compiled = torch.compile(bound)
                    leaves = list(args)
                    if mode == "fwd+bwd":
                        for i in case.grad_argnums:
                            leaves[i] = args[i].detach().clone().requires_grad_(True)
                    wrt = [leaves[i] for i in case.grad_argnums]

                    def step(
                        c: Any = compiled, lv: list[Any] = leaves, w: list[Any] = wrt, m: str = mode
                    ) -> Any:
                        value = c(*lv)
                        if m == "fwd":
                            return value
                        return torch.autograd.grad(value.sum(), w)

                    t0 = time.perf_counter()
                    step()
                    record[f"{label}_compile_s"] = time.perf_counter() - t0
                    record[f"{label}_s"] = median_time(step, repeats=opts.repeats, min_batch_s=0.02)
                record["ratio"] = record["ours_s"] / record["peer_s"]
            except Exception as exc:  # a compile failure is a result to report, not a crash
                record["note"] = f"{type(exc).__name__}: {exc}"[:300]
            out.append(record)
    return out


def _dask_large(opts: Options, log: Callable[[str], None]) -> dict[str, Any] | None:
    """Mean cross entropy over ``dask_gb`` GB of float32 logits in 64 MiB chunks."""
    cases = _key_cases(opts, limit=3)
    if not cases:
        return None
    case = cases[0]
    import dask
    import dask.array as da

    classes = 1000
    chunk_rows = (64 * 2**20) // (4 * classes)
    rows = int(opts.dask_gb * 2**30) // (4 * classes) // chunk_rows * chunk_rows
    small = case.inputs(0)
    labels_are_indices = len(small.args) > 1 and np.issubdtype(small.args[1].dtype, np.integer)
    rng = da.random.default_rng(0)
    logits = rng.standard_normal((rows, classes), dtype=np.float32, chunks=(chunk_rows, classes))
    if labels_are_indices:
        labels = rng.integers(0, classes, size=(rows,), chunks=(chunk_rows,))
    else:
        labels = rng.random((rows, classes), dtype=np.float32, chunks=(chunk_rows, classes))
    kwargs = {"reduction": "mean"} if case.surface != "top" else {}
    log(f"dask large: {case.qualified_name} over {rows * classes * 4 / 2**30:.2f} GiB of logits")
    t0 = time.perf_counter()
    loss = case.func(logits, labels, **kwargs)
    if loss.ndim:
        loss = da.mean(loss)
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    with dask.config.set(scheduler="threads"):
        peak = tracemalloc_peak_bytes(lambda: loss.compute())
    return {
        "loss": case.qualified_name,
        "logits_bytes": rows * classes * 4,
        "labels_bytes": int(labels.nbytes),
        "chunk_bytes": chunk_rows * classes * 4,
        "graph_build_s": build,
        "compute_s": time.perf_counter() - t0,
        "peak_bytes": peak,
        "note": "peak by tracemalloc (NumPy buffers incl. the random generation of each chunk)",
    }


# --- driver ---------------------------------------------------------------------------------


def _backend_available(name: str) -> str | None:
    backend = Backend.JAX if name == "jax-jit" else Backend.parse(name)
    return backend.unavailable_reason()


def run(opts: Options, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Run the benchmarks; returns the JSON-ready results."""
    budget = Budget(opts.budget_s)
    if opts.threads > 0 and _backend_available("torch") is None:
        import torch

        torch.set_num_threads(opts.threads)
    rows: list[Row] = []
    # Size-major order: under a time budget every loss gets its tiny (dispatch) rows first.
    plan = [
        (case, item)
        for case in _selected(opts)
        for item in _plan(case, opts)
        if not opts.backends or item[0] in opts.backends
    ]
    plan.sort(key=lambda entry: opts.sizes.index(entry[1][1]))
    for case, (backend, size, dtype, mode) in plan:
        if True:
            inputs, why = sized_inputs(case, size)
            shape = tuple(inputs.args[0].shape) if inputs is not None else ()
            row = Row(
                case.qualified_name,
                case.id,
                _peer_label(case, backend),
                backend,
                size,
                shape,
                dtype,
                mode,
            )
            rows.append(row)
            unavailable = _backend_available(backend)
            if inputs is None:
                row.note = why
            elif unavailable:
                row.note = unavailable
            elif budget.exhausted:
                row.note = "skipped: time budget"
            else:
                if not opts.quiet:
                    log(f"{case.qualified_name} {backend} {size} {dtype} {mode}")
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        _measure_row(row, case, inputs, opts)
                except Exception as exc:  # a failing backend is a result, not a crash
                    row.note = f"error: {type(exc).__name__}: {exc}"[:300]
    results: dict[str, Any] = {
        "meta": _meta(opts),
        "rows": [r.as_json() for r in rows],
        "compile": [],
        "dask_large": None,
    }
    if opts.compile and not opts.smoke and _backend_available("torch") is None:
        results["compile"] = _compile_rows(opts, budget, log)
    if opts.dask_gb > 0 and not opts.smoke and _backend_available("dask") is None:
        if budget.exhausted:
            results["dask_large"] = {"note": "skipped: time budget"}
        else:
            results["dask_large"] = _dask_large(opts, log)
    results["meta"]["elapsed_s"] = opts.budget_s - (budget.deadline - time.perf_counter())
    return results


def _meta(opts: Options) -> dict[str, Any]:
    versions = {}
    for name in ("numpy", "torch", "jax", "optax", "dask", "array_api_compat"):
        module = sys.modules.get(name)
        if module is None:
            with contextlib.suppress(ImportError):
                module = __import__(name)
        versions[name] = getattr(module, "__version__", None)
    return {
        "command": " ".join(["python -m benchmarks", *sys.argv[1:]]),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "torch_threads": opts.threads or "default",
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "gpu": "none (CPU only; no accelerator in this run)",
        "versions": versions,
        "options": dataclasses.asdict(opts),
        "sizes": {k: list(v) for k, v in SIZES.items() if k in opts.sizes},
        "ratio": "ours / peer time; < 1 means agnostic_losses is faster",
    }


def _fmt_time(s: float | None) -> str:
    if s is None:
        return "-"
    if s < 1e-3:
        return f"{s * 1e6:.1f} us"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def _fmt_ratio(r: float | None, good: float = 1.0) -> str:
    if r is None:
        return "-"
    colour = "green" if r <= good else ("yellow" if r <= 1.25 * good else "red")
    return f"[{colour}]{r:.2f}[/{colour}]"


def render(results: dict[str, Any]) -> None:
    """Print the results as rich tables."""
    from rich.console import Console
    from rich.table import Table

    console = Console(width=160)
    table = Table(title="agnostic_losses / peer (ratio < 1: we are faster)")
    for column in (
        "loss",
        "peer",
        "backend",
        "size",
        "dtype",
        "mode",
        "ours",
        "peer t",
        "ratio",
        "mem ratio",
        "overhead",
        "note",
    ):
        table.add_column(column, overflow="fold")
    for r in results["rows"]:
        overhead = r["overhead_us"]
        table.add_row(
            r["loss"].replace("agnostic_losses.", ""),
            r["peer"],
            r["backend"],
            r["size"],
            r["dtype"],
            r["mode"],
            _fmt_time(r["ours_s"]),
            _fmt_time(r["peer_s"]),
            _fmt_ratio(r["ratio"]),
            _fmt_ratio(r["mem_ratio"], 1.25),
            f"{overhead:+.1f} us" if overhead is not None and r["size"] == "tiny" else "",
            r["note"],
        )
    console.print(table)
    if results["compile"]:
        ctable = Table(title="torch.compile (medium, float32): compiled ours / compiled native")
        for column in ("loss", "mode", "graph breaks ours/peer", "ours", "peer", "ratio", "note"):
            ctable.add_column(column, overflow="fold")
        for c in results["compile"]:
            ctable.add_row(
                c["loss"].replace("agnostic_losses.", ""),
                c["mode"],
                f"{c.get('ours_graph_breaks', '-')}/{c.get('peer_graph_breaks', '-')}",
                _fmt_time(c.get("ours_s")),
                _fmt_time(c.get("peer_s")),
                _fmt_ratio(c.get("ratio"), 1.1),
                c.get("note", ""),
            )
        console.print(ctable)
    big = results.get("dask_large")
    if big:
        if "peak_bytes" in big:
            console.print(
                f"Dask: {big['loss']} over {big['logits_bytes'] / 2**30:.2f} GiB of logits in "
                f"{big['chunk_bytes'] / 2**20:.0f} MiB chunks: {big['compute_s']:.1f} s, peak "
                f"{big['peak_bytes'] / 2**20:.0f} MiB traced ({big['note']})."
            )
        else:
            console.print(f"Dask large run: {big.get('note')}")
    meta = results["meta"]
    console.print(
        f"{meta['cpus']} CPUs, load average {meta['load_average']}, {meta['gpu']}; "
        f"{meta.get('elapsed_s', 0):.0f} s. Loaded machines give noisy numbers: re-run key rows."
    )


def to_markdown(results: dict[str, Any]) -> str:
    """A compact Markdown summary: one line per (loss, backend, dtype), one column per size and
    mode holding the ratio ours / peer; then torch.compile and the big Dask run."""
    sizes = [s for s in SIZES if any(r["size"] == s for r in results["rows"])]
    modes = ("fwd", "fwd+bwd")
    cells: dict[tuple[str, str, str], dict[tuple[str, str], str]] = {}
    overhead: dict[tuple[str, str, str], str] = {}
    for r in results["rows"]:
        key = (r["loss"].replace("agnostic_losses.", ""), r["backend"], r["dtype"])
        ratio = r["ratio"]
        cells.setdefault(key, {})[(r["size"], r["mode"])] = "-" if ratio is None else f"{ratio:.2f}"
        if r["size"] == "tiny" and r["mode"] == "fwd" and r["overhead_us"] is not None:
            overhead[key] = f"{r['overhead_us']:+.1f}"
    head = ["loss", "backend", "dtype"] + [f"{s} {m}" for s in sizes for m in modes]
    lines = ["| " + " | ".join([*head, "tiny overhead (us)"]) + " |"]
    lines.append("|" + "---|" * (len(head) + 1))
    for key in sorted(cells):
        row = [f"`{key[0]}`", key[1], key[2]]
        row += [cells[key].get((s, m), "") for s in sizes for m in modes]
        lines.append("| " + " | ".join([*row, overhead.get(key, "")]) + " |")
    out = "\n".join(lines) + "\n"
    if results["compile"]:
        out += "\n| torch.compile (medium, float32) | mode | graph breaks ours/peer | ratio |\n"
        out += "|---|---|---|---|\n"
        for c in results["compile"]:
            ratio = c.get("ratio")
            out += (
                f"| `{c['loss'].replace('agnostic_losses.', '')}` | {c['mode']} | "
                f"{c.get('ours_graph_breaks', '-')}/{c.get('peer_graph_breaks', '-')} | "
                f"{'-' if ratio is None else f'{ratio:.2f}'} |\n"
            )
    big = results.get("dask_large")
    if big and "peak_bytes" in big:
        out += (
            f"\nDask: `{big['loss'].replace('agnostic_losses.', '')}` over "
            f"{big['logits_bytes'] / 2**30:.2f} GiB of logits in "
            f"{big['chunk_bytes'] / 2**20:.0f} MiB chunks: {big['compute_s']:.1f} s, peak "
            f"{big['peak_bytes'] / 2**20:.0f} MiB traced.\n"
        )
    return out


def _target(row: dict[str, Any]) -> float | None:
    """The issue-11 target of a row: 1.1 against a torch kernel (a ``torch.nn`` peer or a twin
    that is one torch function) and against optax under ``jax.jit``; 1.5 against a torch
    composition; None for NumPy and Dask rows (their own targets live elsewhere)."""
    peer = row["peer"]
    if row["backend"] == "jax-jit":
        return 1.1
    if row["backend"] != "torch":
        return None
    kernel = peer.startswith("torch.nn") or (peer.startswith("torch: F.") and "+" not in peer)
    return 1.1 if kernel else 1.5


def targets_markdown(results: dict[str, Any], size: str = "medium") -> str:
    """Per backend, how many (loss, dtype, mode) rows at ``size`` meet their target ratio, and
    every row that misses it (a table: nothing is hidden behind a count)."""
    rows = [r for r in results["rows"] if r["size"] == size and _target(r) is not None]
    if not rows:
        return ""
    lines = [
        f"\nTargets at {size} (ours / peer; torch kernel and optax under jit 1.1, torch "
        "composition 1.5):\n",
        "| backend | rows | met | missed | not measured |",
        "|---|---|---|---|---|",
    ]
    misses = []
    for backend in sorted({r["backend"] for r in rows}):
        mine = [r for r in rows if r["backend"] == backend]
        measured = [r for r in mine if r["ratio"] is not None]
        missed = [r for r in measured if r["ratio"] > _target(r)]
        misses += missed
        lines.append(
            f"| {backend} | {len(mine)} | {len(measured) - len(missed)} | {len(missed)} | "
            f"{len(mine) - len(measured)} |"
        )
    if misses:
        lines += ["", "| missed | backend | dtype | mode | shape | peer | ratio | target |"]
        lines.append("|---|---|---|---|---|---|---|---|")
        for r in sorted(misses, key=lambda r: -r["ratio"]):
            lines.append(
                f"| `{r['loss'].replace('agnostic_losses.', '')}` | {r['backend']} | {r['dtype']} "
                f"| {r['mode']} | {tuple(r['shape'])} | {r['peer']} | {r['ratio']:.2f} | "
                f"{_target(r)} |"
            )
    return "\n".join(lines) + "\n"


# what _plan yields: each loss's peer's backend, and NumPy and Dask for the reference rows
BACKENDS = ("torch", "jax-jit", "numpy", "dask")


def _subset(parser: argparse.ArgumentParser, text: str, allowed: Any, what: str) -> tuple:
    """The comma-separated names of ``text``; a usage error names those not in ``allowed``."""
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in allowed]
    if unknown:
        parser.error(f"unknown {what} {unknown}; choose from {list(allowed)}")
    return names


def _parse(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny size, one repeat, no extras")
    parser.add_argument("--json", dest="json_path", metavar="PATH", help="write results as JSON")
    parser.add_argument(
        "--sizes", default=None, help=f"comma-separated subset of {','.join(SIZES)}"
    )
    parser.add_argument("--loss", nargs="+", default=(), metavar="NAME", help="loss names")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--budget", type=float, default=540.0, help="wall-clock budget (s)")
    parser.add_argument("--no-compile", action="store_true", help="skip torch.compile")
    parser.add_argument("--no-half", action="store_true", help="skip bfloat16")
    parser.add_argument(
        "--dask-gb", type=float, default=2.0, help="GB of logits in the big Dask run (0: skip)"
    )
    parser.add_argument("--markdown", dest="markdown_path", metavar="PATH", help="write a summary")
    parser.add_argument(
        "--targets", dest="targets_path", metavar="PATH", help="write the targets summary"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.add_argument(
        "--backends", default="", help=f"comma-separated subset of {','.join(BACKENDS)}"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch intra-op threads (0: torch's default). 1 by default: on a loaded machine a "
        "native kernel's parallel region waits for a descheduled worker (measured: 8 ms for "
        "F.cross_entropy on (8, 10)), which would flatter us",
    )
    ns = parser.parse_args(argv)
    default_sizes = "tiny" if ns.smoke else ",".join(SIZES)
    sizes = _subset(parser, ns.sizes or default_sizes, SIZES, "size(s)")
    backends = _subset(parser, ns.backends, BACKENDS, "backend(s)")
    names = set().union(*(_names(case) for case in losses().values()))
    unknown = [n for n in ns.loss if n not in names]
    if unknown:
        parser.error(f"unknown loss(es) {unknown}; see agnostic-losses list")
    if ns.repeats < 1 or ns.budget <= 0 or ns.dask_gb < 0 or ns.threads < 0:
        parser.error("--repeats must be >= 1, --budget > 0, --dask-gb and --threads >= 0")
    problem = unwritable(
        ("--json", ns.json_path), ("--markdown", ns.markdown_path), ("--targets", ns.targets_path)
    )
    if problem:
        parser.error(problem)
    return Options(
        sizes=sizes,
        losses=tuple(ns.loss),
        smoke=ns.smoke,
        repeats=1 if ns.smoke else ns.repeats,
        budget_s=ns.budget,
        compile=not ns.no_compile,
        dask_gb=0.0 if ns.smoke else ns.dask_gb,
        half=not ns.no_half,
        json_path=ns.json_path,
        markdown_path=ns.markdown_path,
        targets_path=ns.targets_path,
        quiet=ns.quiet,
        threads=ns.threads,
        backends=backends,
    )


def main(argv: Sequence[str] | None = None) -> int:
    opts = _parse(argv)
    results = run(opts, log=(lambda _m: None) if opts.quiet else print)
    render(results)
    if opts.json_path:
        with open(opts.json_path, "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=1, default=str)
    if opts.markdown_path:
        with open(opts.markdown_path, "w", encoding="utf-8") as handle:
            handle.write(to_markdown(results) + targets_markdown(results))
    if opts.targets_path:
        with open(opts.targets_path, "w", encoding="utf-8") as handle:
            handle.write(targets_markdown(results).lstrip("\n"))
    return 0
