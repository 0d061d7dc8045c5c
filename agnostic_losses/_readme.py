"""Regenerate the generated parts of README.md: ``python -m agnostic_losses._readme --write``.

Run it from the repository checkout (it reads ``pyproject.toml``,
``requirements/constraints.txt`` and the committed benchmark results). Every number and
command output in README.md comes from here; ``tests/test_readme.py`` fails when README.md
differs from what this would write. The parts, each between ``<!-- NAME:start -->`` and
``<!-- NAME:end -->``:

install
    the install commands, with the versions pinned in ``requirements/constraints.txt``.
extras
    the table of the extras of ``pyproject.toml``.
check-output
    how many checks ``agnostic-losses check`` runs (counted from the registry) and the output of
    ``agnostic-losses check --loss cross_entropy --peers`` (run in a fresh interpreter).
loss-table
    the registry's loss table.
bench
    the benchmark tables, rendered from :data:`BENCH_RESULTS` (written by
    ``python -m benchmarks ... --json``; not re-measured here).
bench-registry, bench-dask
    the committed Markdown summaries :data:`REGISTRY_RESULTS` (every loss of the registry
    against its peer: the targets met and every miss) and :data:`DASK_RESULTS` (``python -m
    benchmarks dask``), verbatim.

and the output of every ```` ```python ```` block: the ```` ```text ```` block right after it
holds what the block prints, run in a fresh interpreter.

``--check`` prints a diff and exits 1 where README.md is stale; ``--write`` rewrites it;
``--part NAME`` limits either to some parts (``python`` for the blocks' outputs).
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path

__all__ = [
    "BENCH_RESULTS",
    "CHECK_ARGS",
    "DASK_RESULTS",
    "EXTRAS",
    "PARTS",
    "README_BACKENDS",
    "REGISTRY_RESULTS",
    "generate",
    "main",
    "python_blocks",
    "run_python_blocks",
]

ROOT = Path(__file__).resolve().parents[1]
BENCH_RESULTS = "benchmarks/results/readme.json"
REGISTRY_RESULTS = "benchmarks/results/registry_targets.md"
DASK_RESULTS = "benchmarks/results/dask.md"
# The backends of the test extras (the nox ``tests`` session): the check counts in README
# describe a machine with all of them installed.
README_BACKENDS = (
    "numpy",
    "array_api_strict",
    "jax",
    "jax-jit",
    "jax32",
    "jax32-jit",
    "torch",
    "dask",
)
CHECK_ARGS = ("check", "--loss", "cross_entropy", "--peers", "--no-progress")
# What each extra is for; every extra of pyproject.toml needs a line (the generator refuses
# to write a table with an undocumented extra).
EXTRAS = {
    "jax": "JAX backend (CPU wheel from PyPI; GPU: install jax's CUDA build first)",
    "torch": "PyTorch backend (on a CPU-only machine install the CPU wheel first, see above)",
    "dask": "Dask backend (`dask[array]`)",
    "cupy": "CuPy backend (CUDA 12 wheel; needs an NVIDIA GPU and driver)",
    "strict": "array-api-strict (already a dependency; kept so `.[strict]` still resolves)",
    "plot": "matplotlib, for `agnostic-losses check --plot`",
    "peers": "optax, braintools, brainpy and keras 3, the oracles of the top-level and keras "
    "losses in the tests and `check --peers` (pulls jax; keras runs on its JAX backend); torch's "
    "oracles come with the `torch` extra",
    "test": "pytest, pytest-xdist, array-api-extra, hypothesis, scipy, matplotlib: the test suite",
    "docs": "Sphinx, numpydoc, myst-parser, furo: the documentation (`nox -s docs`)",
}
# The pins README names (the tested versions); every one is in requirements/constraints.txt.
NAMED_PINS = ("numpy", "torch", "jax", "dask", "optax", "array-api-compat", "array-api-strict")
INSTALL_EXTRAS = "jax,torch,dask,peers,test"


def _fill(text: str) -> str:
    """A generated paragraph wrapped as README's hand-written ones are (100 columns)."""
    return textwrap.fill(text, width=96, break_long_words=False, break_on_hyphens=False)


class ReadmeError(RuntimeError):
    """The checkout lacks what a part is generated from."""


# --- sources ---------------------------------------------------------------------------------


def _path(relative: str, root: Path = ROOT) -> Path:
    path = root / relative
    if not path.exists():
        msg = f"{relative} not found under {root}: run this from the repository checkout."
        raise ReadmeError(msg)
    return path


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(root: Path = ROOT) -> dict[str, str]:
    """``{normalised name: version}`` of requirements/constraints.txt."""
    out = {}
    for line in _path("requirements/constraints.txt", root).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            out[_normalise(name)] = version.strip()
    return out


def extras(root: Path = ROOT) -> dict[str, list[str]]:
    """The optional dependencies of pyproject.toml, in file order."""
    if sys.version_info < (3, 11):
        msg = "regenerating README needs Python >= 3.11 (tomllib)"
        raise ReadmeError(msg)
    import tomllib  # type: ignore[import-not-found,unused-ignore]  # 3.11+, checked above

    data = tomllib.loads(_path("pyproject.toml", root).read_text())
    return dict(data["project"]["optional-dependencies"])


# --- parts -----------------------------------------------------------------------------------


def install_part(root: Path = ROOT) -> str:
    pinned = pins(root)
    missing = [n for n in NAMED_PINS if n not in pinned]
    if missing:
        msg = f"requirements/constraints.txt does not pin {', '.join(missing)}"
        raise ReadmeError(msg)
    torch = pinned["torch"]
    named = ", ".join(f"{n} {pinned[n]}" for n in NAMED_PINS)
    note = _fill(
        f"`-c requirements/constraints.txt` installs the tested versions ({named}; every other "
        "dependency is pinned there too). Leave it out to take the newest releases instead. "
        "The minimum is `pip install -e .` (NumPy and array-api-strict); add the extras of the "
        "backends you use."
    )
    return f"""\
```bash
git clone <this repository> agnostic_losses && cd agnostic_losses
python -m venv .venv && . .venv/bin/activate
# CPU-only machine: the CPU build of torch first (PyPI's Linux torch is the CUDA build,
# gigabytes of nvidia-* wheels). Skip this line on a CUDA machine.
pip install torch=={torch} --index-url https://download.pytorch.org/whl/cpu
# The package, its backends and the test tools, at the versions the tests pin:
pip install -c requirements/constraints.txt -e ".[{INSTALL_EXTRAS}]"
```

{note}
"""


def extras_part(root: Path = ROOT) -> str:
    found = extras(root)
    undocumented = sorted(set(found) - set(EXTRAS))
    if undocumented:
        msg = f"extras without a description in _readme.EXTRAS: {', '.join(undocumented)}"
        raise ReadmeError(msg)
    lines = ["| extra | installs | for |", "|---|---|---|"]
    for name, requirements in found.items():
        packages = ", ".join(f"`{r}`" for r in requirements)
        lines.append(f"| `{name}` | {packages} | {EXTRAS[name]} |")
    return "\n".join(lines) + "\n"


def loss_table_part(root: Path = ROOT) -> str:
    from ._registry import loss_table

    return loss_table()


def check_totals() -> str:
    """The sentence counting the checks of a plain ``agnostic-losses check`` and ``--peers``."""
    from ._registry import CASES, losses
    from ._testing.backends import Backend
    from ._testing.check import count_checks
    from ._testing.compare import parse_dtypes
    from .cli import _half_precision_help

    backends = [Backend.parse(b) for b in README_BACKENDS]
    dtypes = parse_dtypes(None)
    plain = count_checks(CASES, backends, dtypes)
    with_peers = count_checks(CASES, backends, dtypes, peers=True)
    names = ", ".join(README_BACKENDS[:-1]) + f" and {README_BACKENDS[-1]}"
    return _fill(
        f"With every backend of the test extras installed ({names}), `agnostic-losses check` "
        f"runs {plain} checks: {len(CASES)} registry cases of {len(losses())} losses, on each "
        f"backend in {' and '.join(dtypes)}. `--peers` adds {with_peers - plain} comparisons "
        f"with optax, braintools, brainpy, keras and torch ({with_peers} in all). Half precision "
        f"is opt-in: `--dtype float16 bfloat16` ({_half_precision_help()})."
    )


def _fresh_env(root: Path) -> dict[str, str]:
    """The environment of a fresh interpreter running this checkout: default width (no
    COLUMNS: a pipe gets 160), JAX on the CPU."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "COLUMNS")}
    env["PYTHONPATH"] = str(root)
    env.setdefault("JAX_PLATFORMS", "cpu")
    return env


def run_check_command(args: Sequence[str] = CHECK_ARGS, root: Path = ROOT) -> str:
    """What ``agnostic-losses ARGS`` prints to a pipe, run in a fresh interpreter (so no state
    of the calling process leaks in), trailing spaces removed."""
    result = subprocess.run(
        [sys.executable, "-m", "agnostic_losses", *args],
        capture_output=True,
        text=True,
        cwd=root,
        env=_fresh_env(root),
        timeout=900,
        check=False,
    )
    text = "\n".join(line.rstrip() for line in result.stdout.splitlines())
    if result.returncode != 0:
        msg = f"`agnostic-losses {' '.join(args)}` exited {result.returncode}:\n{text}"
        raise ReadmeError(msg + "\n" + result.stderr)
    return text


def check_output_part(root: Path = ROOT, *, output: str | None = None) -> str:
    output = run_check_command() if output is None else output
    shown = " ".join(a for a in CHECK_ARGS if a != "--no-progress")
    intro = _fill(
        f"`agnostic-losses {shown}` printed, on the machine that ran the tests (the rows of "
        "one loss; `reference` rows compare with the float64 NumPy reference, `torch` rows "
        "with torch):"
    )
    return f"""\
{check_totals()}

{intro}

```text
$ agnostic-losses {shown}
{output}
```
"""


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def bench_part(root: Path = ROOT) -> str:
    results = json.loads(_path(BENCH_RESULTS, root).read_text())
    meta = results["meta"]
    rows = results["rows"]
    order = ("tiny", "medium", "lm", "seg")
    sizes = [s for s in order if any(r["size"] == s for r in rows)]
    modes = ("fwd", "fwd+bwd")
    cells: dict[tuple[str, str, str], dict[tuple[str, str], str]] = {}
    overhead: dict[tuple[str, str, str], str] = {}
    for r in rows:
        key = (r["loss"].replace("agnostic_losses.", ""), r["backend"], r["dtype"])
        cells.setdefault(key, {})[(r["size"], r["mode"])] = _ratio(r["ratio"])
        if r["size"] == "tiny" and r["mode"] == "fwd" and r["overhead_us"] is not None:
            overhead[key] = f"{r['overhead_us']:+.1f}"
    head = ["loss", "backend", "dtype", *(f"{s} {m}" for s in sizes for m in modes)]
    lines = ["| " + " | ".join([*head, "tiny overhead (us)"]) + " |"]
    lines.append("|" + "---|" * (len(head) + 1))
    for key in sorted(cells):
        cols = [f"`{key[0]}`", key[1], key[2]]
        cols += [cells[key].get((s, m), "") for s in sizes for m in modes]
        lines.append("| " + " | ".join([*cols, overhead.get(key, "")]) + " |")
    shapes = ", ".join(f"{s} {tuple(meta['sizes'][s])}" for s in sizes if s in meta["sizes"])
    versions = ", ".join(f"{k} {v}" for k, v in meta["versions"].items() if v)
    load = meta.get("load_average")
    load_text = f" Load average {load[0]:.1f} at the start." if load else ""
    out = [
        _fill(
            f"Sizes: {shapes}. Measured {meta['date'][:10]} on {meta['cpus']} CPU cores "
            f"({meta['processor']}), GPU: {meta['gpu']}; torch on {meta['torch_threads']} "
            f"intra-op thread(s).{load_text} Versions: {versions}. The command"
            + ("" if BENCH_RESULTS in meta["command"] else f" (its JSON is {BENCH_RESULTS})")
            + ":"
        ),
        "",
        "```bash",
        meta["command"],
        "```",
        "",
        *lines,
    ]
    if results.get("compile"):
        out += [
            "",
            "| torch.compile (medium, float32) | mode | ratio compiled ours / compiled peer |",
            "|---|---|---|",
        ]
        for c in results["compile"]:
            loss = c["loss"].replace("agnostic_losses.", "")
            out.append(f"| `{loss}` | {c['mode']} | {_ratio(c.get('ratio'))} |")
        out += [
            "",
            _fill(
                "Graph breaks are not shown while they are re-measured: the benchmark counts "
                "them after an eager warm-up call, which can hide a break that a first call in "
                "a fresh process records."
            ),
        ]
    big = results.get("dask_large")
    if big and "peak_bytes" in big:
        out += [
            "",
            _fill(
                f"Dask: `{big['loss'].replace('agnostic_losses.', '')}` over "
                f"{big['logits_bytes'] / 2**30:.2f} GiB of logits in "
                f"{big['chunk_bytes'] / 2**20:.0f} MiB chunks: {big['compute_s']:.1f} s, peak "
                f"{big['peak_bytes'] / 2**20:.0f} MiB traced."
            ),
        ]
    return "\n".join(out) + "\n"


def _verbatim(name: str) -> Callable[..., str]:
    def part(root: Path = ROOT) -> str:
        return _path(name, root).read_text().strip("\n") + "\n"

    return part


PARTS: dict[str, Callable[..., str]] = {
    "install": install_part,
    "extras": extras_part,
    "check-output": check_output_part,
    "loss-table": loss_table_part,
    "bench": bench_part,
    "bench-registry": _verbatim(REGISTRY_RESULTS),
    "bench-dask": _verbatim(DASK_RESULTS),
}


# --- the Python blocks -----------------------------------------------------------------------

_BLOCK = re.compile(r"```python\n(.*?)```\n(?:\n```text\n(.*?)```\n)?", re.DOTALL)

_RUNNER = r"""
import contextlib, io, json, sys
blocks = json.load(sys.stdin)
outputs = []
for code in blocks:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        exec(compile(code, "<README block>", "exec"), {"__name__": "__main__"})
    outputs.append(buffer.getvalue())
sys.stdout.write(json.dumps(outputs))
"""


def python_blocks(text: str) -> list[tuple[str, str | None]]:
    """``(code, printed)`` of every ```` ```python ```` block; ``printed`` is the text of the
    ```` ```text ```` block right after it (one blank line between), or None."""
    return [(m.group(1), m.group(2)) for m in _BLOCK.finditer(text)]


def run_python_blocks(blocks: Sequence[str], root: Path = ROOT) -> list[str]:
    """What each block prints, run one after another in one fresh interpreter (a fresh
    namespace each), as a user running the checkout would see it."""
    result = subprocess.run(
        [sys.executable, "-c", _RUNNER],
        input=json.dumps(list(blocks)),
        capture_output=True,
        text=True,
        cwd=root,
        env=_fresh_env(root),
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        msg = f"a README Python block failed:\n{result.stderr}"
        raise ReadmeError(msg)
    return json.loads(result.stdout)


def _with_outputs(text: str, outputs: Sequence[str]) -> str:
    pieces = []
    last = 0
    for match, printed in zip(_BLOCK.finditer(text), outputs):
        pieces.append(text[last : match.start()])
        pieces.append(f"```python\n{match.group(1)}```\n")
        if printed:
            pieces.append(f"\n```text\n{printed}```\n")
        last = match.end()
    pieces.append(text[last:])
    return "".join(pieces)


# --- assembling ------------------------------------------------------------------------------


def replace_part(text: str, name: str, body: str) -> str:
    start, end = f"<!-- {name}:start -->\n", f"<!-- {name}:end -->"
    if start not in text or end not in text:
        msg = f"README.md has no {start.strip()} ... {end} markers"
        raise ReadmeError(msg)
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}{body}{end}{tail}"


def part(text: str, name: str) -> str:
    """The current body of part ``name`` in README text."""
    start, end = f"<!-- {name}:start -->\n", f"<!-- {name}:end -->"
    return text.split(start, 1)[1].split(end, 1)[0]


def generate(text: str, names: Sequence[str] | None = None, root: Path = ROOT) -> str:
    """README ``text`` with the parts ``names`` (default: all, and ``python``) regenerated."""
    names = [*PARTS, "python"] if names is None else list(names)
    for name in names:
        if name == "python":
            codes = [code for code, _ in python_blocks(text)]
            text = _with_outputs(text, run_python_blocks(codes, root))
        else:
            text = replace_part(text, name, PARTS[name](root))
    return text


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m agnostic_losses._readme",
        description="Regenerate the generated parts of README.md (run from the checkout).",
    )
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="rewrite README.md")
    mode.add_argument("--check", action="store_true", help="exit 1 with a diff if it is stale")
    parser.add_argument(
        "--part",
        nargs="+",
        choices=[*PARTS, "python"],
        help="only these parts (default: all)",
    )
    args = parser.parse_args(argv)
    readme = _path("README.md")
    old = readme.read_text(encoding="utf-8")
    try:
        new = generate(old, args.part)
    except ReadmeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.write:
        if new != old:
            readme.write_text(new, encoding="utf-8")
        print("README.md " + ("rewritten" if new != old else "already current"))
        return 0
    if new == old:
        print("README.md is current")
        return 0
    sys.stdout.writelines(
        difflib.unified_diff(
            old.splitlines(keepends=True), new.splitlines(keepends=True), "README.md", "generated"
        )
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
