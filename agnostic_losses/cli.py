"""The ``agnostic-losses`` command (also ``python -m agnostic_losses``).

Subcommands
-----------
check      every registry case on every installed backend x dtype against its float64 NumPy
           reference (values, ULPs, gradients vs finite differences); ``--peers`` adds the peers.
list       the public losses: surface, name, family, the peer each mirrors.
backends   which backends and devices are available, with versions.

Exit status: 0 all good, 1 a check failed, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["build_parser", "main"]

_VERSIONED = {
    "numpy": "numpy",
    "array_api_strict": "array-api-strict",
    "jax": "jax",
    "torch": "torch",
    "dask": "dask",
    "cupy": "cupy",
}
_OTHER_PACKAGES = ("array-api-compat", "array-api-extra", "optax", "matplotlib", "rich")


class _UsageError(Exception):
    """Bad arguments found after parsing (unknown loss, backend not installed...): exit 2."""


def _half_precision_help() -> str:
    """Which backends run float16/bfloat16, read from the backend matrix (not hard-coded)."""
    from ._testing.backends import HALF_DTYPES, Backend

    parts = []
    for half in HALF_DTYPES:
        names = [b.value for b in Backend if half in b.dtypes]
        parts.append(f"{half} runs on {', '.join(names)}")
    return "; ".join(parts)


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="agnostic-losses",
        description="Check and list the Array API losses of agnostic_losses.",
    )
    parser.add_argument("--version", action="version", version=f"agnostic-losses {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="{check,list,backends}")
    sub.required = True

    check = sub.add_parser(
        "check",
        help="compare every loss with its float64 reference on every backend and dtype",
        description=(
            "Run every registry case on every installed backend x dtype: values against the "
            "float64 NumPy reference (evaluated on the dtype-rounded inputs), errors in ULPs, "
            "torch/JAX gradients against finite differences of the reference. Exit 1 if any "
            "check fails."
        ),
    )
    check.add_argument(
        "--loss",
        nargs="+",
        metavar="NAME",
        help="public name (cross_entropy), qualified name or case id; default: all",
    )
    check.add_argument("--family", nargs="+", metavar="FAMILY", help="only these families")
    check.add_argument(
        "--backend",
        nargs="+",
        metavar="NAME",
        help="numpy, array_api_strict, jax, jax-jit, torch, dask, cupy; default: every installed",
    )
    check.add_argument(
        "--dtype",
        nargs="+",
        metavar="DTYPE",
        help=f"float32 float64 (default); {_half_precision_help()}",
    )
    check.add_argument(
        "--peers",
        action="store_true",
        help=(
            "also compare values and gradients with the peer each case mirrors "
            "(optax, torch, keras)"
        ),
    )
    check.add_argument("--seed", type=int, default=None, help="input seed (default: the suite's)")
    check.add_argument("--json", metavar="PATH", help="write the full report as JSON")
    check.add_argument("--markdown", metavar="PATH", help="write the report as Markdown")
    check.add_argument(
        "--plot", metavar="PATH", help="write a heatmap of the errors (PNG; needs matplotlib)"
    )
    check.add_argument(
        "--per-dtype", action="store_true", help="one table line per dtype instead of per backend"
    )
    check.add_argument(
        "--failures-only", action="store_true", help="print only the failing lines of the table"
    )
    check.add_argument(
        "--jobs",
        "-j",
        type=int,
        default=None,
        metavar="N",
        help="worker processes (default: up to 2 when more than 8 cases, else 1)",
    )
    check.add_argument("--no-progress", action="store_true", help="no progress bar")

    lst = sub.add_parser("list", help="list the losses, their surface, family and peer")
    lst.add_argument(
        "--format", choices=("table", "markdown", "json"), default="table", help="output format"
    )
    lst.add_argument("--cases", action="store_true", help="one line per registry case (variant)")

    back = sub.add_parser("backends", help="show the available backends, devices and versions")
    back.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (0 ok, 1 a check failed, 2 bad arguments)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help / --version (0) or a usage error (2)
        return int(exc.code or 0)
    from rich.console import Console

    out = Console(highlight=False)
    if not out.is_terminal and not os.environ.get("COLUMNS"):
        # Files and pipes: wide enough for every column; COLUMNS, when set, still wins.
        out = Console(highlight=False, width=160)
    err = Console(stderr=True, highlight=False)
    try:
        if args.command == "check":
            return _check(args, out, err)
        if args.command == "list":
            return _list(args, out)
        return _backends(args, out)
    except _UsageError as exc:
        err.print(f"agnostic-losses {args.command}: error: {exc}", markup=False, soft_wrap=True)
        return 2


# --- check -----------------------------------------------------------------------------------


def _check(args: argparse.Namespace, out: Any, err: Any) -> int:
    from ._registry import CASES
    from ._testing.check import SEED, check_cases, select_cases, unwritable
    from ._testing.compare import parse_backends, parse_dtypes

    try:
        cases = select_cases(CASES, args.loss, args.family)
        backends = parse_backends(args.backend, argument="--backend")
        dtypes = parse_dtypes(args.dtype, argument="--dtype")
    except ValueError as exc:
        raise _UsageError(str(exc).replace("`", "")) from None
    if args.backend:
        missing = [
            f"{b.value} ({b.unavailable_reason()})" for b in backends if b.unavailable_reason()
        ]
        if missing:
            raise _UsageError(f"requested backend not available: {'; '.join(missing)}")
    else:
        backends = [b for b in backends if b.unavailable_reason() is None]
    runnable = [b for b in backends if any(d in b.dtypes for d in dtypes)]
    if not runnable:
        raise _UsageError(
            f"no selected backend has dtype {', '.join(dtypes)} ({_half_precision_help()})"
        )
    if args.plot:
        try:
            importlib.import_module("matplotlib")
        except ImportError:
            raise _UsageError(
                "--plot needs matplotlib, which is not installed; in the repository checkout: "
                'pip install -c requirements/constraints.txt -e ".[plot]"'
            ) from None
    if not cases:
        raise _UsageError("no registry case matches the filters")
    outputs = (("--json", args.json), ("--markdown", args.markdown), ("--plot", args.plot))
    problem = unwritable(*outputs)
    if problem:
        raise _UsageError(problem)

    seed = SEED if args.seed is None else args.seed
    if seed < 0:
        # NumPy's generators take non-negative seeds; every case would fail to make its inputs
        raise _UsageError(f"--seed must be a non-negative integer, got {seed}")
    if args.jobs is not None and args.jobs < 1:
        raise _UsageError(f"--jobs must be at least 1, got {args.jobs}")
    jobs = args.jobs or (min(2, os.cpu_count() or 1) if len(cases) > 8 else 1)
    total = len(cases) * len(backends)
    if args.no_progress:
        report = check_cases(cases, backends, dtypes, peers=args.peers, seed=seed, jobs=jobs)
    else:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        with Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        ) as progress:
            task = progress.add_task("checking", total=total)

            def advance(label: str) -> None:
                progress.update(task, advance=1, description=label[:60])

            report = check_cases(
                cases,
                backends,
                dtypes,
                peers=args.peers,
                seed=seed,
                jobs=jobs,
                on_progress=advance,
            )
    report.metadata["versions"] = _versions()
    report.print(out, per_dtype=args.per_dtype, failures_only=args.failures_only, show_case=True)
    for note in report.metadata.get("notes", []):
        out.print(f"note: {note}", markup=False)
    if args.json:
        report.to_json(args.json)
        out.print(f"wrote {args.json}", markup=False)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as f:
            f.write(report.to_markdown(per_dtype=args.per_dtype))
        out.print(f"wrote {args.markdown}", markup=False)
    if args.plot:
        _plot(report, args.plot)
        out.print(f"wrote {args.plot}", markup=False)
    return 0 if report.passed else 1


def _plot(report: Any, path: str) -> None:
    """Heatmap: cases x (backend, dtype, against), colour = log10 of the error in ULPs."""
    import math

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    def against(r: Any) -> str:
        # Peers share a column per library (``optax``, ``torch``), not one per peer function.
        if r.against in ("reference", "numpy-float64"):
            return "reference"
        return r.against.split(".", 1)[0]

    cases = list(dict.fromkeys(r.case for r in report.rows))
    columns = list(dict.fromkeys((r.backend, r.dtype, against(r)) for r in report.rows))
    grid = np.full((len(cases), len(columns)), np.nan)
    failed = np.zeros_like(grid, dtype=bool)
    for r in report.rows:
        i, j = cases.index(r.case), columns.index((r.backend, r.dtype, against(r)))
        if r.ulp_error is not None:
            value = r.ulp_error
            grid[i, j] = 12.0 if not math.isfinite(value) else math.log10(max(value, 0.1))
        failed[i, j] = r.status in ("FAIL", "ERROR")
    labels = [f"{b} {d}" if a == "reference" else f"{b} {d} vs {a}" for b, d, a in columns]
    # Size the figure from its text (7 pt labels are about 0.055 in a character) so that the
    # case names, the rotated column labels, the title and the colorbar label all fit.
    char = 0.055
    width = max(6.0, char * max(map(len, cases), default=10) + 0.32 * len(columns) + 1.8)
    height = max(3.5, 0.2 * len(cases) + char * 0.87 * max(map(len, labels), default=10) + 1.0)
    fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
    image = ax.imshow(
        grid, aspect="auto", cmap="viridis", vmin=-1, vmax=max(3.0, np.nanmax(grid, initial=0))
    )
    ax.set_xticks(range(len(columns)))
    ax.set_xticklabels(labels, rotation=60, ha="right", rotation_mode="anchor", fontsize=7)
    ax.set_yticks(range(len(cases)))
    ax.set_yticklabels(cases, fontsize=7)
    for i, j in zip(*np.nonzero(failed)):
        ax.text(j, i, "x", ha="center", va="center", color="red", fontsize=9, fontweight="bold")
    bar = fig.colorbar(image, ax=ax, fraction=0.08, pad=0.02)
    bar.set_label("log10(error in ULPs of the dtype)", fontsize=8)
    bar.ax.tick_params(labelsize=7)
    ax.set_title(
        "agnostic-losses check\nerror vs the float64 reference, or vs the peer named (x: FAIL)",
        fontsize=9,
        loc="left",
    )
    fig.savefig(path, dpi=110, bbox_inches="tight", pad_inches=0.1)
    plt.close(fig)


# --- list ------------------------------------------------------------------------------------


def _list(args: argparse.Namespace, out: Any) -> int:
    from ._registry import CASES, loss_table, losses

    entries: list[dict[str, Any]]
    if args.cases:
        entries = [
            {
                "id": c.id,
                "surface": c.surface,
                "name": c.name,
                "qualified_name": c.qualified_name,
                "family": c.family,
                "variant": c.variant,
                "mirrors": c.peer.label if c.peer is not None else None,
            }
            for c in CASES
        ]
    else:
        counts: dict[tuple[str, str], int] = {}
        for c in CASES:
            counts[(c.surface, c.name)] = counts.get((c.surface, c.name), 0) + 1
        entries = [
            {
                "surface": surface,
                "name": name,
                "qualified_name": c.qualified_name,
                "family": c.family,
                "mirrors": c.peer.label if c.peer is not None else None,
                "cases": counts[(surface, name)],
            }
            for (surface, name), c in losses().items()
        ]
    if args.format == "json":
        out.print_json(json.dumps(entries))
        return 0
    if args.format == "markdown" and not args.cases:
        out.print(loss_table(), markup=False, end="")
        return 0
    if args.format == "markdown":
        lines = ["| case | family | mirrors |", "|---|---|---|"]
        lines += [f"| `{e['id']}` | {e['family']} | {e['mirrors'] or '-'} |" for e in entries]
        out.print("\n".join(lines), markup=False)
        return 0
    from rich.table import Table

    table = Table(title=f"{len(entries)} {'cases' if args.cases else 'losses'}")
    # Under 110 columns the family (and case count) give way so that names stay whole.
    wide = out.width >= 110
    if args.cases:
        table.add_column("case", overflow="fold")
        if wide:
            table.add_column("family", no_wrap=True)
        table.add_column("mirrors", overflow="fold")
        for e in entries:
            family = [e["family"]] if wide else []
            table.add_row(e["id"], *family, e["mirrors"] or "-")
    else:
        table.add_column("surface", no_wrap=True)
        table.add_column("name", no_wrap=True)
        if wide:
            table.add_column("family", no_wrap=True)
        table.add_column("mirrors", overflow="fold")
        if wide:
            table.add_column("cases", justify="right", no_wrap=True)
        for e in entries:
            cells = [e["surface"], e["name"]]
            cells += [e["family"]] if wide else []
            cells.append(e["mirrors"] or "-")
            cells += [str(e["cases"])] if wide else []
            table.add_row(*cells)
    out.print(table)
    if not wide:
        out.print(f"not shown at {out.width} columns: family, cases (see --format json)")
    return 0


# --- backends --------------------------------------------------------------------------------


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _versions() -> dict[str, str | None]:
    from . import __version__

    names = ("numpy", "array-api-strict", "jax", "torch", "dask", "cupy", *_OTHER_PACKAGES)
    return {"agnostic-losses": __version__, **{n: _version(n) for n in names}}


def _devices(backend: Any) -> str:
    from ._testing.backends import Backend

    try:
        if backend.is_jax:
            import jax

            return ", ".join(str(d) for d in jax.devices())
        if backend.is_torch:
            import torch

            devices = ["cpu"]
            if torch.cuda.is_available():
                devices += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
            return f"{', '.join(devices)} (tests use {backend.device()})"
        if backend is Backend.CUPY:
            import cupy

            return ", ".join(f"cuda:{i}" for i in range(cupy.cuda.runtime.getDeviceCount()))
    except Exception as exc:  # a broken driver should not break the listing
        return f"? ({type(exc).__name__})"
    return "cpu"


def _backends(args: argparse.Namespace, out: Any) -> int:
    from ._testing.backends import Backend

    entries: list[dict[str, Any]] = []
    for backend in Backend:
        reason = backend.unavailable_reason()
        entries.append(
            {
                "backend": backend.value,
                "available": reason is None,
                "version": _version(_VERSIONED[backend.library]),
                "devices": _devices(backend) if reason is None else None,
                "dtypes": list(backend.dtypes),
                "reason": reason,
            }
        )
    extras = {n: _version(n) for n in _OTHER_PACKAGES}
    if args.json:
        out.print_json(json.dumps({"backends": entries, "packages": extras}))
        return 0
    from rich.table import Table

    table = Table(title="backends")
    for col in ("backend", "available", "version"):
        table.add_column(col, no_wrap=True)
    table.add_column("devices")
    table.add_column("dtypes")
    for e in entries:
        available = "[green]yes[/]" if e["available"] else "[yellow]no[/] (below)"
        table.add_row(
            e["backend"],
            available,
            e["version"] or "-",
            e["devices"] or "-",
            ", ".join(e["dtypes"]),
        )
    out.print(table)
    for e in entries:
        if not e["available"]:
            out.print(f"{e['backend']}: {e['reason']}", markup=False)
    listed = ", ".join(f"{n} {v or '(not installed)'}" for n, v in extras.items())
    out.print(f"other packages: {listed}", markup=False)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
