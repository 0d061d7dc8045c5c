"""Dask as a Dask user runs it: realistic chunks, threaded and distributed schedulers, out of core.

``python -m benchmarks dask --help`` (or ``python -m benchmarks.dask_scaling``).

In memory (``--in-memory``): cross entropy on float32 logits already in memory, timed as a user
calls it (build the graph, then ``.compute()``: the median of both together, after a warm-up
call), against ours on NumPy on the same arrays, back to back (``--repeats`` calls each, four
times as many below 64 MiB of logits, where a call takes milliseconds). Chunks hold whole rows
(the class axis in one chunk) and about ``--chunk-mib`` MiB of logits, capped at the whole
array: a 16 MiB input is one chunk, as ``da.from_array``'s default (128 MiB chunks) would make
it. Schedulers: ``threads`` (Dask's default, one thread per core) and ``distributed`` (a
``LocalCluster`` of 2 worker processes with 1 thread each; inputs persisted on the workers
first, as a cluster user loads data there rather than shipping NumPy arrays with every graph).
The old methodology of ``benchmarks/suite.py`` (4 row chunks whatever the size, threads) is kept
as one row per size for comparison. Each row also times Dask's floor on that layout and
scheduler: ``dx[:, :1].sum()`` built and computed, a task per chunk and a reduction with next to
no arithmetic, the fixed cost per call that no loss written on Dask goes below; ``(Dask - floor)
/ NumPy`` is what the loss adds beyond it.

Out of core (``--out-of-core 1,4,16``): GiB of float32 logits (1000 classes) and int64 labels
written to disk, read back through ``da.from_array`` in chunks of ``--chunk-mib`` MiB of whole
rows (a reader that opens the file per chunk and copies the rows out, as a zarr store returns
fresh arrays), the mean loss computed on the threaded scheduler. Peak memory is the process's
anonymous resident memory (``RssAnon``: Python, libraries and every array; file pages in the
page cache excluded), sampled every 5 ms during the compute, and its value just before. The
files are deleted afterwards.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import json
import logging
import os
import platform
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from agnostic_losses._testing.check import unwritable

from .measure import PeakRss, rss_anon

__all__ = ["FileArray", "main", "out_of_core", "realistic_rows", "run_in_memory"]

MIB = 2**20
GIB = 2**30
CLASSES_OOC = 1000

# name -> (rows, classes) of float32 logits
IN_MEMORY_SIZES: dict[str, tuple[int, int]] = {
    "medium": (4096, 1000),  # 16 MiB: the suite's medium
    "lm": (256, 32000),  # 31 MiB: the suite's lm
    "large": (131072, 1000),  # 500 MiB
    "lm-large": (4096, 32000),  # 500 MiB
}

LOSSES = ("functional.cross_entropy", "softmax_cross_entropy_with_integer_labels")


def _loss(name: str) -> Callable[[Any, Any], Any]:
    """The loss as a user calls it for a scalar: torch's mean, or optax's per-example mean."""
    import agnostic_losses
    import agnostic_losses.functional

    if name == "functional.cross_entropy":
        return agnostic_losses.functional.cross_entropy

    def mean_of_rows(x: Any, y: Any) -> Any:
        return agnostic_losses.softmax_cross_entropy_with_integer_labels(x, y).mean()

    return mean_of_rows


def realistic_rows(rows: int, classes: int, chunk_mib: float, itemsize: int = 4) -> int:
    """Rows per chunk: whole rows, about ``chunk_mib`` MiB of logits, at most every row."""
    return max(1, min(rows, int(chunk_mib * MIB) // (classes * itemsize)))


def _timed(
    fn: Callable[[], Any], repeats: int, cpu_clock: Callable[[], float] = time.process_time
) -> tuple[float, float]:
    """(median wall seconds per call, mean CPU seconds per call) after a warm-up call.

    ``cpu_clock`` is read around the whole batch (for a cluster it sums the workers' clocks
    through a round trip of its own, which stays outside the per-call wall times).
    """
    fn()
    samples = []
    cpu0 = cpu_clock()
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    cpu = (cpu_clock() - cpu0) / repeats
    return float(np.median(samples)), cpu


@contextlib.contextmanager
def _cluster() -> Iterator[Any]:
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2,
            processes=True,
            threads_per_worker=1,
            dashboard_address=":0",  # a free port (None still binds 8787)
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster, set_as_default=False) as client,
    ):
        yield client


def _compute(loss: Callable[[Any, Any], Any], dx: Any, dy: Any, client: Any) -> Any:
    """Build the graph and compute it: on ``client``'s cluster, or on Dask's threads."""
    import dask

    if client is not None:
        return client.compute(loss(dx, dy)).result()
    with dask.config.set(scheduler="threads"):
        return loss(dx, dy).compute()


def _touch(x: Any, y: Any) -> Any:
    """A graph of the loss's shape (a task per chunk, then a reduction) that does next to no
    arithmetic: one column of each chunk, summed."""
    return x[..., :1].sum()


def _time_pair(
    loss: Callable[[Any, Any], Any],
    x: np.ndarray,
    y: np.ndarray,
    dx: Any,
    dy: Any,
    client: Any,
    repeats: int,
) -> dict[str, float]:
    """NumPy and Dask (build + compute) timed back to back, twice, to share the machine's load:
    wall (median of medians) and CPU seconds per call; Dask's graph build alone and Dask's
    floor (:func:`_touch`). Batches, not calls in turn: a cluster's workers go on releasing a
    result after it arrived, which slowed a NumPy call made right after (measured: 2.5x)."""
    dask_clock: Callable[[], float] = time.process_time
    if client is not None:

        def dask_clock() -> float:
            # the scheduler runs in this process; the workers are processes of their own
            return time.process_time() + sum(client.run(time.process_time).values())

    numpy_runs, dask_runs = [], []
    for _ in range(2):
        numpy_runs.append(_timed(lambda: loss(x, y), repeats))
        dask_runs.append(_timed(lambda: _compute(loss, dx, dy, client), repeats, dask_clock))
    build_s, _ = _timed(lambda: loss(dx, dy), repeats)
    # Dask's own fixed cost per call on this layout and scheduler: a graph over the same
    # chunks that does no arithmetic to speak of, built and computed (no loss written on Dask
    # goes below it)
    floor_s, _ = _timed(lambda: _compute(_touch, dx, dy, client), repeats)
    return {
        "floor_s": floor_s,
        "numpy_s": float(np.median([r[0] for r in numpy_runs])),
        "dask_s": float(np.median([r[0] for r in dask_runs])),
        "numpy_cpu_s": float(np.median([r[1] for r in numpy_runs])),
        "dask_cpu_s": float(np.median([r[1] for r in dask_runs])),
        "build_s": build_s,
    }


def run_in_memory(
    sizes: Sequence[str], chunk_mib: float, repeats: int, log: Callable[[str], None]
) -> list[dict[str, Any]]:
    """Rows of ``{loss, size, scheduler, chunks, numpy_s, dask_s, ratio, build_s}``."""
    import dask.array as da

    rows: list[dict[str, Any]] = []
    rng = np.random.default_rng(0)
    try:
        import distributed
    except ImportError:
        distributed = None
    cluster, client = None, None
    if distributed is None:
        log("distributed scheduler skipped: dask.distributed is not installed")
    else:
        cluster = _cluster()
        client = cluster.__enter__()
    try:
        for size in sizes:
            n, c = IN_MEMORY_SIZES[size]
            x = rng.standard_normal((n, c), dtype=np.float32)
            y = rng.integers(0, c, size=n)
            realistic = realistic_rows(n, c, chunk_mib)
            layouts = {"threads": realistic, "old: 4 chunks, threads": max(1, n // 4)}
            if client is not None:
                layouts["distributed"] = realistic
            for name in LOSSES:
                loss = _loss(name)
                expected = float(loss(x, y))
                for scheduler, chunk_rows in layouts.items():
                    dx = da.from_array(x, chunks=(chunk_rows, c))
                    dy = da.from_array(y, chunks=(chunk_rows,))
                    if scheduler == "distributed":
                        assert client is not None
                        with warnings.catch_warnings():
                            # "sending large graph": the arrays go to the workers once, here
                            warnings.simplefilter("ignore", UserWarning)
                            dx, dy = client.persist([dx, dy])
                            with client.as_current():
                                distributed.wait([dx, dy])
                    times = _time_pair(
                        loss,
                        x,
                        y,
                        dx,
                        dy,
                        client if scheduler == "distributed" else None,
                        # calls of a few ms swing with the machine's load: more of them
                        repeats * 4 if n * c * 4 < 64 * MIB else repeats,
                    )
                    if not np.isclose(float(_compute(loss, dx, dy, client)), expected, rtol=1e-4):
                        msg = f"{name} {size} {scheduler}: Dask's value differs from NumPy's"
                        raise AssertionError(msg)
                    row = {
                        "loss": name,
                        "size": size,
                        "shape": [n, c],
                        "scheduler": scheduler,
                        "chunk_rows": chunk_rows,
                        "chunks": -(-n // chunk_rows),
                        "chunk_mib": chunk_rows * c * 4 / MIB,
                        **times,
                    }
                    row["ratio"] = row["dask_s"] / row["numpy_s"]
                    row["cpu_ratio"] = row["dask_cpu_s"] / row["numpy_cpu_s"]
                    rows.append(row)
                    log(
                        f"{name:42s} {size:8s} {scheduler:24s} {row['chunks']:4d} chunks  "
                        f"numpy {row['numpy_s'] * 1e3:8.1f} ms  dask {row['dask_s'] * 1e3:8.1f} ms"
                        f"  ratio {row['ratio']:.2f}  CPU ratio {row['cpu_ratio']:.2f}  "
                        f"(graph build {row['build_s'] * 1e3:.1f} ms, Dask's floor "
                        f"{row['floor_s'] * 1e3:.1f} ms)"
                    )
            del x, y
    finally:
        if cluster is not None:
            cluster.__exit__(None, None, None)
    return rows


@dataclasses.dataclass(frozen=True)
class FileArray:
    """A (rows, cols) array in a raw file, read a block at a time (what ``da.from_array`` needs:
    ``shape``, ``dtype``, ``ndim``, ``__getitem__``). Each read opens the file and copies the
    block out, so nothing stays mapped; it pickles as its path (distributed workers read it)."""

    path: str
    shape: tuple[int, ...]
    dtype: str

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __getitem__(self, index: Any) -> np.ndarray:
        mapped = np.memmap(self.path, dtype=self.dtype, mode="r", shape=self.shape)
        out = np.array(mapped[index])
        del mapped
        return out


def _write(directory: str, gib: float, chunk_rows: int) -> tuple[FileArray, FileArray]:
    rows = int(gib * GIB) // (4 * CLASSES_OOC) // chunk_rows * chunk_rows
    logits = os.path.join(directory, "logits.f32")
    labels = os.path.join(directory, "labels.i64")
    rng = np.random.default_rng(0)
    with open(logits, "wb") as fx, open(labels, "wb") as fy:
        for _ in range(rows // chunk_rows):
            rng.standard_normal((chunk_rows, CLASSES_OOC), dtype=np.float32).tofile(fx)
            rng.integers(0, CLASSES_OOC, size=chunk_rows).tofile(fy)
    return (
        FileArray(logits, (rows, CLASSES_OOC), "float32"),
        FileArray(labels, (rows,), "int64"),
    )


_rss_anon = rss_anon
_PeakSampler = PeakRss


def _graph_summary(out: Any, chunks: int) -> dict[str, Any]:
    """Layers, tasks (before and after Dask's optimisation), tasks per chunk, rechunks."""
    import dask

    layers = list(out.dask.layers)
    (optimized,) = dask.optimize(out)
    tasks = len(out.__dask_graph__())
    return {
        "layers": len(layers),
        "tasks": tasks,
        "tasks_per_chunk": tasks / chunks,
        "optimized_tasks": len(optimized.__dask_graph__()),
        "rechunk_layers": sum(n.startswith("rechunk") for n in layers),
    }


def out_of_core(
    gib: float, chunk_mib: float, directory: str, log: Callable[[str], None]
) -> list[dict[str, Any]]:
    """Both losses over ``gib`` GiB of logits on disk (threaded scheduler); files deleted after."""
    import dask
    import dask.array as da

    chunk_rows = realistic_rows(2**62, CLASSES_OOC, chunk_mib)
    work = tempfile.mkdtemp(prefix="agnostic-losses-ooc-", dir=directory)
    results = []
    try:
        t0 = time.perf_counter()
        fx, fy = _write(work, gib, chunk_rows)
        write_s = time.perf_counter() - t0
        rows = fx.shape[0]
        chunks = rows // chunk_rows
        for name in LOSSES:
            loss = _loss(name)
            x = da.from_array(fx, chunks=(chunk_rows, CLASSES_OOC), asarray=False)
            y = da.from_array(fy, chunks=(chunk_rows,), asarray=False)
            t0 = time.perf_counter()
            out = loss(x, y)
            build_s = time.perf_counter() - t0
            summary = _graph_summary(out, chunks)
            with _PeakSampler() as sampler, dask.config.set(scheduler="threads"):
                base = sampler.peak
                t0, cpu0 = time.perf_counter(), time.process_time()
                value = float(out.compute())
                compute_s = time.perf_counter() - t0
                cpu_s = time.process_time() - cpu0
            row = {
                "loss": name,
                "gib": fx.shape[0] * CLASSES_OOC * 4 / GIB,
                "rows": rows,
                "chunks": chunks,
                "chunk_mib": chunk_rows * CLASSES_OOC * 4 / MIB,
                "write_s": write_s,
                "build_s": build_s,
                "compute_s": compute_s,
                "cpu_s": cpu_s,
                "gib_per_s": fx.shape[0] * CLASSES_OOC * 4 / GIB / compute_s,
                "rss_anon_before": base,
                "peak_rss_anon": sampler.peak,
                "value": value,
                **summary,
            }
            results.append(row)
            log(
                f"{name:42s} {row['gib']:5.1f} GiB {chunks:5d} chunks: {compute_s:7.1f} s "
                f"(CPU {cpu_s:.1f} s) "
                f"({row['gib_per_s']:.2f} GiB/s), peak RssAnon {sampler.peak / MIB:.0f} MiB "
                f"(before {base / MIB:.0f}), "
                f"{summary['tasks_per_chunk']:.1f} tasks/chunk, "
                f"{summary['rechunk_layers']} rechunks"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return results


def to_markdown(results: dict[str, Any]) -> str:
    lines = []
    if results.get("in_memory"):
        lines += [
            "| loss | size | scheduler | chunks | NumPy | Dask | Dask / NumPy | CPU Dask / NumPy "
            "| graph build | Dask's floor | (Dask - floor) / NumPy |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in results["in_memory"]:
            floor = r.get("floor_s")
            floor_cells = (
                f"{floor * 1e3:.1f} ms | {(r['dask_s'] - floor) / r['numpy_s']:.2f}"
                if floor is not None
                else "- | -"
            )
            lines.append(
                f"| `{r['loss']}` | {r['size']} {tuple(r['shape'])} | {r['scheduler']} | "
                f"{r['chunks']} x {r['chunk_mib']:.1f} MiB | {r['numpy_s'] * 1e3:.1f} ms | "
                f"{r['dask_s'] * 1e3:.1f} ms | {r['ratio']:.2f} | {r['cpu_ratio']:.2f} | "
                f"{r['build_s'] * 1e3:.1f} ms | {floor_cells} |"
            )
    if results.get("out_of_core"):
        lines += [
            "",
            "| loss | logits on disk | chunks | compute (CPU) | GiB/s | peak RssAnon (before) "
            "| tasks/chunk | rechunks |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in results["out_of_core"]:
            lines.append(
                f"| `{r['loss']}` | {r['gib']:.1f} GiB | {r['chunks']} x {r['chunk_mib']:.0f} MiB"
                f" | {r['compute_s']:.1f} s ({r['cpu_s']:.1f} s) | {r['gib_per_s']:.2f} | "
                f"{r['peak_rss_anon'] / MIB:.0f} MiB ({r['rss_anon_before'] / MIB:.0f}) | "
                f"{r['tasks_per_chunk']:.1f} | {r['rechunk_layers']} |"
            )
    return "\n".join(lines) + "\n"


def _meta(argv: Sequence[str]) -> dict[str, Any]:
    versions = {}
    for name in ("numpy", "dask", "distributed"):
        with contextlib.suppress(ImportError):
            versions[name] = __import__(name).__version__
    return {
        "command": " ".join(["python -m benchmarks dask", *argv]),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "versions": versions,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks dask", description=__doc__)
    parser.add_argument("--in-memory", action="store_true", help="NumPy vs Dask, in memory")
    parser.add_argument(
        "--sizes",
        default="medium,lm,large,lm-large",
        help=f"in-memory sizes, among {','.join(IN_MEMORY_SIZES)}",
    )
    parser.add_argument("--out-of-core", default="", metavar="GIB", help="e.g. 1,4,16")
    parser.add_argument("--dir", default=tempfile.gettempdir(), help="where the files go")
    parser.add_argument("--chunk-mib", type=float, default=64.0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--smoke", action="store_true", help="medium, one repeat, 0.05 GiB in 4 MiB chunks"
    )
    parser.add_argument("--json", dest="json_path", metavar="PATH")
    parser.add_argument("--markdown", dest="markdown_path", metavar="PATH")
    argv = list(sys.argv[1:] if argv is None else argv)
    ns = parser.parse_args(argv)
    if ns.smoke:
        ns.in_memory, ns.sizes, ns.repeats = True, "medium", 1
        ns.out_of_core, ns.chunk_mib = "0.05", 4.0
    sizes = [s for s in ns.sizes.split(",") if s]
    unknown = [s for s in sizes if s not in IN_MEMORY_SIZES]
    if unknown:
        parser.error(f"unknown size(s) {unknown}; choose from {list(IN_MEMORY_SIZES)}")
    problem = unwritable(("--json", ns.json_path), ("--markdown", ns.markdown_path))
    if problem:
        parser.error(problem)
    results: dict[str, Any] = {"meta": _meta(argv), "in_memory": [], "out_of_core": []}
    # out of core first: its peak is the process's anonymous memory, and the in-memory runs
    # leave hundreds of MiB of freed arrays that the allocator keeps (measured: 497 -> 871 MiB)
    for gib in [float(g) for g in ns.out_of_core.split(",") if g]:
        results["out_of_core"] += out_of_core(gib, ns.chunk_mib, ns.dir, print)
    if ns.in_memory:
        results["in_memory"] = run_in_memory(sizes, ns.chunk_mib, ns.repeats, print)
    results["meta"]["load_average_after"] = os.getloadavg() if hasattr(os, "getloadavg") else None
    print(to_markdown(results))
    if ns.json_path:
        with open(ns.json_path, "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=1)
    if ns.markdown_path:
        with open(ns.markdown_path, "w", encoding="utf-8") as handle:
            handle.write(to_markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
