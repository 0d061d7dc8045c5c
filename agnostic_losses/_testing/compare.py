"""Comparison engine shared by ``agnostic_losses.testing.compare_backends`` and
``agnostic-losses check``.

One *subject* (a callable, its float64 NumPy inputs, a float64 NumPy reference and the arguments
to differentiate) is run on each backend x dtype. For every dtype the inputs are first rounded to
that dtype and the reference is evaluated on the rounded values, so a result is judged only on
the error it adds. Gradients (torch, JAX, JAX under jit) are compared with central finite
differences of the reference, computed once per subject and dtype.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Literal

import numpy as np

from .._dispatch import library_name
from .assertions import default_tolerance, dtype_name, error_stats
from .backends import (
    FLOAT_DTYPES,
    HALF_DTYPES,
    Backend,
    call,
    from_numpy,
    to_numpy,
    value_and_grad_arrays,
)

__all__ = [
    "DTYPES",
    "GRAD_TOLERANCES",
    "CheckRow",
    "ComparisonReport",
    "Subject",
    "finite_difference_grads",
    "installed_backends",
    "parse_backends",
    "parse_dtypes",
    "round_to_dtype",
    "run_matrix",
    "run_peer",
]

DTYPES = FLOAT_DTYPES + HALF_DTYPES

# (rtol, atol) of autodiff gradients against central finite differences of the float64
# reference at the same (rounded) point. The differences themselves are good to ~1e-9; the rest
# is the dtype's own rounding through the backward pass.
GRAD_TOLERANCES = {
    "float64": (1e-5, 1e-6),
    "float32": (2e-4, 2e-5),
    "float16": (2e-2, 4e-3),
    "bfloat16": (8e-2, 2e-2),
}

_FD_STEP = 1e-6


# --- dtype rounding and finite differences ---------------------------------------------------


def round_to_dtype(value: Any, dtype: str) -> Any:
    """A floating NumPy array rounded to ``dtype`` and returned as float64; others unchanged.

    bfloat16 (not a NumPy dtype) rounds the float32 bit pattern to nearest-even on its upper 16
    bits, as the libraries that have it do.
    """
    if not (isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.floating)):
        return value
    if dtype == "float64":
        return value.astype(np.float64)
    if dtype in ("float32", "float16"):
        return value.astype(dtype).astype(np.float64)
    if dtype == "bfloat16":
        single = np.ascontiguousarray(value, dtype=np.float32)
        bits = single.view(np.uint32).astype(np.uint64)
        rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000).astype(np.uint32)
        out = rounded.view(np.float32)
        return np.where(np.isnan(single), single, out).astype(np.float64)
    msg = f"`dtype` must be one of {', '.join(DTYPES)}, got {dtype!r}."
    raise ValueError(msg)


def _round_all(args: Sequence[Any], kwargs: dict[str, Any], dtype: str) -> tuple[tuple, dict]:
    return (
        tuple(round_to_dtype(a, dtype) for a in args),
        {k: round_to_dtype(v, dtype) for k, v in kwargs.items()},
    )


def finite_difference_grads(
    reference: Callable[..., Any],
    args: Sequence[Any],
    kwargs: dict[str, Any],
    argnums: Sequence[int],
    cotangent: np.ndarray,
) -> list[np.ndarray]:
    """Central differences of ``sum(cotangent * reference(*args, **kwargs))`` (float64)."""
    grads = []
    for i in argnums:
        x = np.asarray(args[i], dtype=np.float64)
        g = np.zeros_like(x)
        for j in np.ndindex(x.shape):
            h = _FD_STEP * max(1.0, abs(float(x[j])))
            values = []
            for step in (h, -h):
                point = x.copy()
                point[j] += step
                full = list(args)
                full[i] = point
                with np.errstate(all="ignore"):
                    out = np.asarray(reference(*full, **kwargs), dtype=np.float64)
                values.append(float(np.sum(cotangent * out)))
            g[j] = (values[0] - values[1]) / (2 * h)
        grads.append(g)
    return grads


# --- backends and dtypes ---------------------------------------------------------------------


def installed_backends() -> list[Backend]:
    """Backends that can run here, in :class:`Backend` order."""
    return [b for b in Backend if b.unavailable_reason() is None]


def parse_backends(names: Iterable[Any] | None, *, argument: str = "backends") -> list[Backend]:
    """Backends from names (``'jax-jit'``, ``'torch'``) or members; None: every installed one.

    Raises ValueError naming ``argument`` for an unknown name.
    """
    if names is None:
        return installed_backends()
    if isinstance(names, (str, Backend)):
        names = [names]
    out: list[Backend] = []
    for name in names:
        if isinstance(name, Backend):
            backend = name
        else:
            try:
                backend = Backend.parse(str(name))
            except ValueError:
                options = ", ".join(b.value for b in Backend)
                msg = f"`{argument}` contains unknown backend {name!r}; expected one of {options}."
                raise ValueError(msg) from None
        if backend not in out:
            out.append(backend)
    return out


def parse_dtypes(names: Iterable[str] | None, *, argument: str = "dtypes") -> list[str]:
    """Dtype names; None: ``['float32', 'float64']``. Raises ValueError for unknown names."""
    if names is None:
        return list(FLOAT_DTYPES)
    if isinstance(names, str):
        names = [names]
    out = []
    for name in names:
        name = dtype_name(name)
        if name not in DTYPES:
            msg = f"`{argument}` contains unknown dtype {name!r}; expected some of {DTYPES}."
            raise ValueError(msg)
        if name not in out:
            out.append(name)
    return out


# --- results ---------------------------------------------------------------------------------


@dataclasses.dataclass
class CheckRow:
    """One (subject, backend, dtype) comparison.

    ``against`` names what the result was compared with (``'reference'``, ``'numpy-float64'``
    or a peer). Errors are None where nothing was compared (an exception, a skip); ``grad_error``
    is None where no gradient was taken. ``grad_error`` is normwise: the largest absolute
    gradient error divided by the largest absolute reference gradient (at least its atol).
    """

    case: str
    backend: str
    dtype: str
    against: str
    max_abs_error: float | None = None
    max_rel_error: float | None = None
    ulp_error: float | None = None
    grad_error: float | None = None
    passed: bool = True
    message: str = ""
    exception: str | None = None
    skipped: str | None = None
    seconds: float = 0.0

    @property
    def status(self) -> str:
        """``'PASS'``, ``'FAIL'`` (a comparison failed), ``'ERROR'`` (it raised) or ``'SKIP'``."""
        if self.skipped is not None:
            return "SKIP"
        if self.exception is not None:
            return "ERROR"
        return "PASS" if self.passed else "FAIL"

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["status"] = self.status
        for key in ("max_abs_error", "max_rel_error", "ulp_error", "grad_error"):
            value = out[key]
            if value is not None and not math.isfinite(value):
                out[key] = str(value)  # JSON has no inf/nan
        return out


def _fmt(value: float | None, spec: str = ".1e") -> str:
    if value is None:
        return "-"
    if not math.isfinite(value):
        return str(value)
    if value == 0:
        return "0"
    return format(value, spec)


def _fmt_ulp(value: float | None) -> str:
    if value is None:
        return "-"
    if not math.isfinite(value):
        return str(value)
    return f"{value:.1f}" if value < 1e4 else f"{value:.1e}"


_SHORT = {"float64": "f64", "float32": "f32", "float16": "f16", "bfloat16": "bf16"}

_STYLE = {"PASS": "green", "FAIL": "bold red", "ERROR": "bold red", "SKIP": "yellow"}


# (key, header, justify) in display order. case, backend and result always show; the others
# are left out, in the order vs, max rel err, ulp, grad err, dtypes, where the width is short.
_COLUMNS: tuple[tuple[str, str, Literal["left", "right"]], ...] = (
    ("case", "case", "left"),
    ("backend", "backend", "left"),
    ("vs", "vs", "left"),
    ("dtypes", "dtypes", "left"),
    ("max_rel", "max rel err", "right"),
    ("ulp", "ulp", "right"),
    ("grad", "grad err", "right"),
    ("result", "result", "left"),
)
# The case column folds down to this width before other columns are left out.
_CASE_MIN = 32


def _short_peer(name: str) -> str:
    """The library of a peer (``torch`` for ``torch.nn.functional.cross_entropy``): the case
    column already names the loss, and the full path would double the table's width."""
    return name.split(".", 1)[0]


class ComparisonReport:
    """Rows of :class:`CheckRow`; prints as a table, converts to dict / JSON / Markdown.

    ``passed`` is True when no row failed or raised (skipped rows do not count).
    """

    def __init__(
        self, rows: Sequence[CheckRow], *, title: str = "", metadata: dict[str, Any] | None = None
    ) -> None:
        self.rows = list(rows)
        self.title = title
        self.metadata = dict(metadata or {})

    @property
    def passed(self) -> bool:
        return all(r.status in ("PASS", "SKIP") for r in self.rows)

    @property
    def failures(self) -> list[CheckRow]:
        return [r for r in self.rows if r.status in ("FAIL", "ERROR")]

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[CheckRow]:
        return iter(self.rows)

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        counts = self.counts()
        parts = ", ".join(f"{counts[k]} {k.lower()}" for k in ("PASS", "FAIL", "ERROR", "SKIP"))
        return f"<ComparisonReport {self.title!r}: {parts}; passed={self.passed}>"

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(("PASS", "FAIL", "ERROR", "SKIP"), 0)
        for r in self.rows:
            counts[r.status] += 1
        return counts

    # -- conversions --
    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "passed": self.passed,
            "counts": self.counts(),
            "metadata": self.metadata,
            "rows": [r.to_dict() for r in self.rows],
        }

    def to_json(self, path: Any = None, *, indent: int = 2) -> str:
        """The report as JSON text; also written to ``path`` when given."""
        text = json.dumps(self.to_dict(), indent=indent)
        if path is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text + "\n")
        return text

    def grouped(self) -> list[dict[str, Any]]:
        """One summary per (case, backend, against), worst over its dtypes."""
        groups: dict[tuple[str, str, str], list[CheckRow]] = {}
        for r in self.rows:
            groups.setdefault((r.case, r.backend, r.against), []).append(r)
        out = []
        for (case, backend, against), rows in groups.items():
            statuses = [r.status for r in rows]
            status = next((s for s in ("ERROR", "FAIL", "PASS") if s in statuses), "SKIP")
            ulp_rows = [r for r in rows if r.ulp_error is not None]
            worst_ulp = max(ulp_rows, key=lambda r: float(r.ulp_error or 0.0), default=None)
            out.append(
                {
                    "case": case,
                    "backend": backend,
                    "against": against,
                    "dtypes": [r.dtype for r in rows],
                    "max_rel_error": _max(r.max_rel_error for r in rows),
                    "ulp_error": None if worst_ulp is None else worst_ulp.ulp_error,
                    "ulp_dtype": None if worst_ulp is None else worst_ulp.dtype,
                    "grad_error": _max(r.grad_error for r in rows),
                    "status": status,
                    "messages": [
                        f"{r.dtype}: {r.message}" for r in rows if r.message and r.status != "PASS"
                    ],
                }
            )
        return out

    def to_markdown(self, *, per_dtype: bool = False) -> str:
        """A Markdown table (one line per case x backend, or per dtype) and the failures."""
        lines = []
        if self.title:
            lines += [f"## {self.title}", ""]
        header = "| case | backend | vs | dtype | max rel error | ulp | grad error | result |"
        lines += [header, "|---|---|---|---|---:|---:|---:|---|"]
        if per_dtype:
            for r in self.rows:
                lines.append(
                    f"| `{r.case}` | {r.backend} | {r.against} | {r.dtype} | "
                    f"{_fmt(r.max_rel_error)} | {_fmt_ulp(r.ulp_error)} | {_fmt(r.grad_error)} | "
                    f"{r.status} |"
                )
        else:
            for g in self.grouped():
                ulp = _fmt_ulp(g["ulp_error"])
                if g["ulp_dtype"] is not None:
                    ulp += f" ({g['ulp_dtype']})"
                lines.append(
                    f"| `{g['case']}` | {g['backend']} | {g['against']} | "
                    f"{', '.join(g['dtypes'])} | {_fmt(g['max_rel_error'])} | {ulp} | "
                    f"{_fmt(g['grad_error'])} | {g['status']} |"
                )
        counts = self.counts()
        lines += [
            "",
            f"{counts['PASS']} passed, {counts['FAIL']} failed, {counts['ERROR']} errors, "
            f"{counts['SKIP']} skipped: **{'PASS' if self.passed else 'FAIL'}**",
        ]
        failures = self.failures
        if failures:
            lines += ["", "### Failures", ""]
            for r in failures:
                text = r.exception or r.message
                lines.append(f"- `{r.case}` on {r.backend} {r.dtype} vs {r.against}: {text}")
        skipped = [r for r in self.rows if r.status == "SKIP"]
        if skipped:
            lines += ["", "### Skipped", ""]
            lines += [f"- `{r.case}` on {r.backend} {r.dtype}: {r.skipped}" for r in skipped]
        return "\n".join(lines) + "\n"

    # -- rich rendering --
    def _entries(self, per_dtype: bool) -> list[dict[str, Any]]:
        if not per_dtype:
            return self.grouped()
        return [
            {
                "case": r.case,
                "backend": r.backend,
                "against": r.against,
                "dtypes": [r.dtype],
                "max_rel_error": r.max_rel_error,
                "ulp_error": r.ulp_error,
                "ulp_dtype": None,
                "grad_error": r.grad_error,
                "status": r.status,
            }
            for r in self.rows
        ]

    def _layout(
        self,
        *,
        per_dtype: bool | None,
        failures_only: bool,
        show_case: bool | None,
        width: int | None,
    ) -> tuple[Any, list[str]]:
        """The table, and the headers of the columns left out because ``width`` is too narrow.

        case, backend and result always show (the case column folds when it must); the other
        columns are added in order of usefulness while the case column keeps at least
        ``_CASE_MIN`` characters.
        """
        from rich.markup import escape
        from rich.table import Table

        if per_dtype is None:
            per_dtype = len({r.case for r in self.rows}) == 1
        single_case = len({r.case for r in self.rows}) == 1 if show_case is None else not show_case
        has_vs = len({r.against for r in self.rows}) > 1
        entries = [
            g
            for g in self._entries(per_dtype)
            if not (failures_only and g["status"] in ("PASS", "SKIP"))
        ]
        cells: dict[str, list[str]] = {key: [] for key, *_ in _COLUMNS}
        for g in entries:
            ulp = _fmt_ulp(g["ulp_error"])
            if g["ulp_dtype"] is not None and len(g["dtypes"]) > 1:
                ulp += f" {_SHORT.get(g['ulp_dtype'], g['ulp_dtype'])}"
            cells["case"].append(g["case"])
            cells["backend"].append(g["backend"])
            cells["vs"].append(_short_peer(g["against"]))
            cells["dtypes"].append(
                ",".join(g["dtypes"])
                if per_dtype
                else ",".join(_SHORT.get(d, d) for d in g["dtypes"])
            )
            cells["max_rel"].append(_fmt(g["max_rel_error"]))
            cells["ulp"].append(ulp)
            cells["grad"].append(_fmt(g["grad_error"]))
            cells["result"].append(g["status"])

        headers = {key: header for key, header, _ in _COLUMNS}
        headers["dtypes"] = "dtype" if per_dtype else "dtypes"
        natural = {key: max([len(headers[key]), *(len(c) for c in cells[key])]) for key in headers}
        shown = ([] if single_case else ["case"]) + ["backend", "result"]
        optional = (["vs"] if has_vs else []) + ["max_rel", "ulp", "grad", "dtypes"]
        hidden: list[str] = []
        if width is None:
            shown += optional
        else:

            def needed(keys: list[str]) -> int:
                # Each column: its text, one space of padding either side, one border line.
                total = 1 + sum(natural[k] + 3 for k in keys)
                if "case" in keys:
                    total -= natural["case"] - min(natural["case"], _CASE_MIN)
                return total

            for key in optional:
                if needed([*shown, key]) <= width:
                    shown.append(key)
                else:
                    hidden.append(headers[key])

        case_min = _CASE_MIN
        if width is not None and "case" in shown:
            room = width - 1 - sum(natural[k] + 3 for k in shown if k != "case") - 3
            case_min = max(8, min(_CASE_MIN, room))
            # Too narrow for an id: the variant goes on a second line rather than being cut.
            cells["case"] = [
                c.replace("[", "\n[", 1) if len(c) > room else c for c in cells["case"]
            ]
        table = Table(title=self.title or None, show_lines=False)
        keys = [key for key, *_ in _COLUMNS if key in shown]
        for key in keys:
            justify = next(j for k, _, j in _COLUMNS if k == key)
            if key == "case":
                table.add_column(headers[key], overflow="fold", min_width=case_min)
            else:
                table.add_column(headers[key], justify=justify, no_wrap=True)
        for i, g in enumerate(entries):
            row = []
            for key in keys:
                if key == "result":
                    row.append(f"[{_STYLE[g['status']]}]{g['status']}[/]")
                else:
                    row.append(escape(cells[key][i]))
            table.add_row(*row)
        return table, hidden

    def table(
        self,
        *,
        per_dtype: bool | None = None,
        failures_only: bool = False,
        show_case: bool | None = None,
        width: int | None = None,
    ) -> Any:
        """A :class:`rich.table.Table`; per dtype by default when there is a single case.

        The case column is shown when there are several cases (or ``show_case=True``). With a
        ``width`` (in characters), columns other than case, backend and result are left out
        when they would not fit, so that every row still shows those three.
        """
        table, _ = self._layout(
            per_dtype=per_dtype, failures_only=failures_only, show_case=show_case, width=width
        )
        return table

    def __rich__(self) -> Any:
        return self.table()

    def render(
        self,
        *,
        width: int = 120,
        per_dtype: bool | None = None,
        failures_only: bool = False,
        show_case: bool | None = None,
    ) -> str:
        """Plain text: the table, a summary line and the failure messages."""
        from rich.console import Console

        buffer = io.StringIO()
        console = Console(file=buffer, width=width, color_system=None, force_terminal=False)
        self.print(console, per_dtype=per_dtype, failures_only=failures_only, show_case=show_case)
        return buffer.getvalue()

    def summary(self, *, markup: bool = False) -> str:
        """The totals line: ``'84 passed, 0 failed, 0 errors, 0 skipped: PASS'``.

        ``markup=True`` colours the verdict with rich markup.
        """
        counts = self.counts()
        verdict = "PASS" if self.passed else "FAIL"
        if markup:
            verdict = "[green]PASS[/]" if self.passed else "[bold red]FAIL[/]"
        return (
            f"{counts['PASS']} passed, {counts['FAIL']} failed, {counts['ERROR']} errors, "
            f"{counts['SKIP']} skipped: {verdict}"
        )

    def print(
        self,
        console: Any = None,
        *,
        per_dtype: bool | None = None,
        failures_only: bool = False,
        show_case: bool | None = None,
    ) -> None:
        """Print the table, a summary line and the failure messages on a rich console.

        The table fits the console's width (see :meth:`table`); a line names the columns left
        out. With ``failures_only`` and nothing failing, only the summary line is printed.
        """
        from rich.console import Console
        from rich.markup import escape

        console = console or Console()
        summary = self.summary(markup=True)
        if failures_only and not self.failures:
            console.print(f"no failures: {summary}", highlight=False)
            return
        table, hidden = self._layout(
            per_dtype=per_dtype,
            failures_only=failures_only,
            show_case=show_case,
            width=console.width,
        )
        console.print(table)
        if hidden:
            console.print(
                f"not shown at {console.width} columns: {', '.join(hidden)} "
                "(see --json, --markdown)",
                highlight=False,
                markup=False,
            )
        console.print(summary, highlight=False)
        for r in self.failures:
            console.print(
                f"[bold red]{r.status}[/] {escape(r.case)} on {r.backend} {r.dtype} vs "
                f"{escape(r.against)}: {escape(r.exception or r.message)}",
                highlight=False,
                markup=True,
                soft_wrap=True,
            )

    def __str__(self) -> str:
        return self.render()


def _max(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    if not present:
        return None
    return max(present, key=lambda v: math.inf if math.isnan(v) else v)


# --- running ---------------------------------------------------------------------------------


@dataclasses.dataclass
class Subject:
    """A callable under test with float64 NumPy inputs and a float64 NumPy reference.

    ``reference`` takes the same arguments as NumPy float64 arrays; ``against`` labels it in the
    report. ``tol_scale`` multiplies every tolerance.
    """

    name: str
    func: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    reference: Callable[..., Any]
    against: str = "reference"
    argnums: tuple[int, ...] = ()
    tol_scale: float = 1.0


def _to_backend(backend: Backend, args: Sequence[Any], kwargs: dict[str, Any], dtype: str):
    return (
        [from_numpy(backend, a, dtype) for a in args],
        {k: from_numpy(backend, v, dtype) for k, v in kwargs.items()},
    )


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


def _metadata_problem(backend: Backend, out: Any, dtype: str, first_input: Any) -> str | None:
    """Why the result's library, dtype or device is wrong, or None."""
    if isinstance(out, np.generic) and backend is Backend.NUMPY:
        # NumPy reductions return NumPy scalars, not 0-d arrays: the library's own convention.
        library = "numpy"
    elif isinstance(out, (bool, int, float)) or out is None:
        return f"returned a Python {type(out).__name__}, not a {backend.library} array"
    else:
        library = library_name(out)
    if library != backend.library:
        return f"returned a {library} array on the {backend.library} backend"
    if dtype_name(out) != dtype:
        return f"returned dtype {dtype_name(out)} for {dtype} inputs"
    if backend.is_torch and first_input is not None:
        in_device = getattr(first_input, "device", None)
        if in_device is not None and out.device != in_device:
            return f"returned an array on {out.device} for inputs on {in_device}"
    return None


def _value_tolerance(dtype: str, desired: np.ndarray, scale: float) -> tuple[float, float]:
    rtol, atol = default_tolerance(dtype)
    if dtype in HALF_DTYPES:
        finite = np.abs(desired[np.isfinite(desired)])
        atol *= max(1.0, float(np.max(finite, initial=0.0)))
    return rtol * scale, atol * scale


def _compare_values(
    row: CheckRow,
    actual: np.ndarray,
    desired: np.ndarray,
    scale: float,
    precision: str | None = None,
) -> None:
    """``precision``: the dtype whose tolerance applies when it is narrower than the row's (a
    peer that computes float64 in float32)."""
    if actual.shape != desired.shape:
        row.passed = False
        row.message = f"shape {actual.shape}, expected {desired.shape}"
        return
    stats = error_stats(actual, desired, row.dtype)
    row.max_abs_error, row.max_rel_error, row.ulp_error = (
        stats.max_abs,
        stats.max_rel,
        stats.max_ulp,
    )
    narrower = precision if precision and row.dtype == "float64" else row.dtype
    rtol, atol = _value_tolerance(narrower, desired, scale)
    ok = np.isclose(actual, desired, rtol=rtol, atol=atol, equal_nan=True)
    if not bool(np.all(ok)):
        bad = error_stats(actual, desired, row.dtype, among=~ok)
        where = np.unravel_index(bad.worst_flat, desired.shape) if desired.ndim else ()
        row.passed = False
        row.message = (
            f"value: {int(np.count_nonzero(~ok))} of {desired.size} elements beyond "
            f"rtol={rtol:.1g}, atol={atol:.1g}; worst at {tuple(int(i) for i in where)}: "
            f"got {float(actual.ravel()[bad.worst_flat])!r}, "
            f"expected {float(desired.ravel()[bad.worst_flat])!r}"
        )


def _compare_grads(
    row: CheckRow,
    grads: Sequence[np.ndarray],
    expected: Sequence[np.ndarray],
    argnums: Sequence[int],
    scale: float,
) -> None:
    rtol, atol = GRAD_TOLERANCES[row.dtype]
    worst = 0.0
    problems = []
    for i, got, want in zip(argnums, grads, expected):
        got = np.asarray(got, dtype=np.float64)
        if got.shape != want.shape:
            problems.append(f"d/d(arg {i}) has shape {got.shape}, expected {want.shape}")
            worst = math.inf
            continue
        # Where the reference itself is not finite its differences carry no information.
        known = np.isfinite(want)
        magnitude = float(np.max(np.abs(want[known]), initial=0.0))
        with np.errstate(invalid="ignore"):
            diff = np.where(known, np.abs(got - want), 0.0)
        diff = np.where(np.isnan(diff), np.inf, diff)
        worst = max(worst, float(np.max(diff, initial=0.0)) / max(magnitude, atol))
        tol_atol = atol * max(1.0, magnitude) * scale
        ok = ~known | np.isclose(got, want, rtol=rtol * scale, atol=tol_atol)
        if not bool(np.all(ok)):
            j = int(np.argmax(np.where(ok, -1.0, diff).ravel()))
            where = np.unravel_index(j, want.shape) if want.ndim else ()
            problems.append(
                f"d/d(arg {i}): {int(np.count_nonzero(~ok))} of {want.size} elements beyond "
                f"rtol={rtol * scale:.1g}, atol={tol_atol:.1g} of finite differences; worst at "
                f"{tuple(int(k) for k in where)}: got {float(got.ravel()[j])!r}, "
                f"expected {float(want.ravel()[j])!r}"
            )
    row.grad_error = worst
    if problems:
        row.passed = False
        row.message = "; ".join([row.message, *problems]) if row.message else "; ".join(problems)


def _grad_dtype_problem(grads: Sequence[Any], dtype: str) -> str | None:
    for g in grads:
        if dtype_name(g) != dtype:
            return f"gradient has dtype {dtype_name(g)} for {dtype} inputs"
    return None


def run_matrix(
    subjects: Sequence[Subject],
    backends: Sequence[Backend],
    dtypes: Sequence[str],
    *,
    grad: bool = True,
    seed: int = 0,
    on_progress: Callable[[str], None] | None = None,
) -> list[CheckRow]:
    """Run every subject on every backend x dtype (half dtypes only where the backend has them).

    ``on_progress(label)`` is called once per (subject, backend). Unavailable backends give
    SKIP rows with the reason.
    """
    rows: list[CheckRow] = []
    reasons = {b: b.unavailable_reason() for b in backends}
    rng = np.random.default_rng(seed)
    for subject in subjects:
        states = {}
        for dtype in dtypes:
            states[dtype] = _prepare(subject, dtype, rng, grad and bool(subject.argnums), backends)
        for backend in backends:
            for dtype in dtypes:
                if dtype not in backend.dtypes:
                    continue
                row = CheckRow(subject.name, backend.value, dtype, subject.against)
                if reasons[backend] is not None:
                    row.skipped = reasons[backend]
                else:
                    _run_one(row, subject, backend, dtype, states[dtype], grad)
                rows.append(row)
            if on_progress is not None:
                on_progress(f"{subject.name} on {backend.value}")
    return rows


def _prepare(
    subject: Subject, dtype: str, rng: np.random.Generator, want_grad: bool, backends: Sequence
) -> dict[str, Any]:
    """Rounded inputs, the reference value and (if needed) finite-difference gradients."""
    state: dict[str, Any] = {}
    args, kwargs = _round_all(subject.args, subject.kwargs, dtype)
    state["args"], state["kwargs"] = args, kwargs
    try:
        with np.errstate(all="ignore"):
            reference = subject.reference(*args, **kwargs)
        if isinstance(reference, (tuple, list, dict)):
            # NumPy would stack a tuple into one array and pass; other libraries cannot
            state["error"] = (
                f"the function returned a {type(reference).__name__}; it must return one array "
                "(compare each output with a function of its own)"
            )
            return state
        desired = np.asarray(to_numpy(reference), dtype=np.float64)
    except Exception as exc:
        state["error"] = f"the reference raised {_describe(exc)}"
        return state
    state["desired"] = desired
    if want_grad and any(b.differentiable for b in backends):
        cotangent = rng.uniform(0.5, 1.5, size=desired.shape)
        state["cotangent"] = cotangent
        try:
            state["fd"] = finite_difference_grads(
                subject.reference, args, kwargs, subject.argnums, cotangent
            )
        except Exception as exc:
            state["error"] = f"finite differences of the reference raised {_describe(exc)}"
    return state


def _run_one(
    row: CheckRow,
    subject: Subject,
    backend: Backend,
    dtype: str,
    state: dict[str, Any],
    grad: bool,
) -> None:
    start = time.perf_counter()
    try:
        if "error" in state:
            row.exception = state["error"]
            row.passed = False
            return
        args, kwargs = _to_backend(backend, state["args"], state["kwargs"], dtype)
        first = args[0] if args else None
        differentiate = grad and backend.differentiable and "fd" in state
        if differentiate:
            out, grads = value_and_grad_arrays(
                backend,
                subject.func,
                args,
                kwargs,
                argnums=subject.argnums,
                cotangent=state["cotangent"],
            )
        else:
            out, grads = call(backend, subject.func, *args, **kwargs), []
        problem = _metadata_problem(backend, out, dtype, first) or _grad_dtype_problem(grads, dtype)
        actual = np.asarray(to_numpy(out), dtype=np.float64)
        _compare_values(row, actual, state["desired"], subject.tol_scale)
        if differentiate:
            _compare_grads(
                row,
                [to_numpy(g) for g in grads],
                state["fd"],
                subject.argnums,
                subject.tol_scale,
            )
        if problem is not None:
            row.passed = False
            row.message = f"{problem}; {row.message}" if row.message else problem
    except Exception as exc:
        row.passed = False
        row.exception = _describe(exc)
    finally:
        row.seconds = time.perf_counter() - start


def run_peer(
    subject: Subject,
    peer_fn: Callable[..., Any],
    peer_label: str,
    backend: Backend,
    dtypes: Sequence[str],
    *,
    grad: bool = True,
    precision: str | None = None,
) -> list[CheckRow]:
    """Ours against the peer on the peer's own library: values and (if any) gradients.

    ``precision``: the peer's working precision where narrower than float64 (``Peer.precision``).
    """
    rows = []
    for dtype in dtypes:
        if dtype not in FLOAT_DTYPES:
            continue
        row = CheckRow(subject.name, backend.value, dtype, peer_label)
        start = time.perf_counter()
        try:
            backend.namespace()  # JAX: enables float64
            args, kwargs = _to_backend(
                backend, *_round_all(subject.args, subject.kwargs, dtype), dtype
            )
            argnums = subject.argnums if grad else ()
            if argnums:
                out, grads = value_and_grad_arrays(
                    backend, subject.func, args, kwargs, argnums=argnums
                )
                peer_out, peer_grads = value_and_grad_arrays(
                    backend, peer_fn, args, kwargs, argnums=argnums
                )
            else:
                out, grads = subject.func(*args, **kwargs), []
                peer_out, peer_grads = peer_fn(*args, **kwargs), []
            desired = np.asarray(to_numpy(peer_out), dtype=np.float64)
            _compare_values(
                row,
                np.asarray(to_numpy(out), dtype=np.float64),
                desired,
                subject.tol_scale,
                precision,
            )
            if argnums:
                # The peer's gradient is computed in the same dtype: hold it to the value's
                # tolerance, not to the finite-difference one.
                value_message = row.message
                errors = []
                for i, got, want in zip(argnums, grads, peer_grads):
                    g = np.asarray(to_numpy(got), dtype=np.float64)
                    w = np.asarray(to_numpy(want), dtype=np.float64)
                    sub = CheckRow(row.case, row.backend, dtype, row.against)
                    _compare_values(sub, g, w, subject.tol_scale, precision)
                    errors.append(sub.max_rel_error if sub.max_rel_error is not None else math.inf)
                    if not sub.passed:
                        row.passed = False
                        value_message = "; ".join(
                            m for m in (value_message, f"d/d(arg {i}) {sub.message}") if m
                        )
                row.grad_error = max(errors, default=None)
                row.message = value_message
        except Exception as exc:
            row.passed = False
            row.exception = _describe(exc)
        row.seconds = time.perf_counter() - start
        rows.append(row)
    return rows
