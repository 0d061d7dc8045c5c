"""Parameter prose shared by many docstrings, substituted by :func:`fill_doc`, and the
``Parameters`` sections of the class surfaces, generated from their functions' docstrings by
:func:`with_parameters`."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., object])

SNIPPETS = {
    "reduction": """reduction : {'mean', 'sum', 'none'}, default 'mean'
        ``'none'``: no reduction; ``'mean'``: the mean over all elements; ``'sum'``: the sum.""",
    "legacy": """size_average, reduce : bool, optional
        Deprecated torch flags; when either is given it overrides ``reduction`` as in torch.""",
    "where": """where : array of bool, optional
        Elements (along ``axis``) to include; excluded ones neither contribute nor receive a
        gradient. A row with nothing included gives 0.""",
    "axis": """axis : int, default -1
        Axis holding the classes.""",
    "class_axes": """axis : int, tuple of ints or None, default -1
        Axis holding the classes; a tuple is flattened into one class axis (in the order
        given), None takes every axis, as in optax.""",
    "backends": """Works on any Array API library (NumPy, CuPy, JAX, PyTorch, Dask,
    array-api-strict): the result has the input's library, dtype and device. Half-precision
    inputs are accumulated in float32 and returned in their own dtype.""",
}


def fill_doc(func: F) -> F:
    """Replace ``{name}`` tokens of :data:`SNIPPETS` in ``func.__doc__`` (other braces stay)."""
    doc = func.__doc__
    if doc:
        for key, text in SNIPPETS.items():
            doc = doc.replace("{" + key + "}", text)
        func.__doc__ = doc
    return func


def parameter_entries(doc: str | None) -> dict[str, list[str]]:
    """The entries of a numpydoc ``Parameters`` section, each under every name it documents
    (``size_average, reduce : ...`` under both): name -> its lines, dedented."""
    lines = inspect.cleandoc(doc or "").splitlines()
    if "Parameters" not in lines:
        return {}
    entries: dict[str, list[str]] = {}
    current: list[str] = []
    for line in lines[lines.index("Parameters") + 2 :]:
        if not line:
            break
        if not line[0].isspace():
            names = line.partition(" : ")[0]
            if not all(n.strip().isidentifier() for n in names.split(",")):
                break  # the next section's title
            current = []
            for name in names.split(","):
                entries[name.strip()] = current
        current.append(line)
    return entries


def with_parameters(
    doc: str | None,
    function: Callable[..., Any],
    options: Sequence[str],
    defaults: dict[str, Any],
    tail: Sequence[str] = (),
) -> str:
    """``doc`` with a ``Parameters`` section inserted before its ``Examples``: each of
    ``options`` as ``function`` documents it (a single-name entry shows the class's default
    from ``defaults``), then the lines of ``tail``. The options are documented once, where the
    function is. A docstring that has its own ``Parameters`` section is kept as it is."""
    text = inspect.cleandoc(doc or "")
    if "\nParameters\n----------\n" in text:
        return text
    entries = parameter_entries(function.__doc__)
    section = ["Parameters", "----------"]
    done: list[list[str]] = []
    for name in options:
        entry = entries.get(name) or [name]
        if any(entry is seen for seen in done):
            continue
        done.append(entry)
        head, *rest = entry
        names, _, kind = head.partition(" : ")
        if "," not in names and not (defaults[name] is None and kind.endswith("optional")):
            kind = re.sub(r",? *default .*$", "", kind).strip()
            kind = f"{kind}, default {defaults[name]!r}" if kind else f"default {defaults[name]!r}"
        section += [f"{names} : {kind}" if kind else names, *rest]
    section += tail
    head, marker, examples = text.partition("\nExamples\n")
    body = "\n".join(section)
    return f"{head.rstrip()}\n\n{body}\n{marker}{examples}" if marker else f"{text}\n\n{body}\n"
