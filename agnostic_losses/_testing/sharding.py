"""Registry cases on JAX arrays sharded over the batch: values, output sharding, collectives.

Run ``python -m agnostic_losses._testing.sharding`` with
``XLA_FLAGS=--xla_force_host_platform_device_count=8`` (``tests/test_sharding.py`` does, in a
subprocess: the flag must be set before JAX starts, and the rest of the suite keeps one
device). JAX is imported only inside the functions, so this module imports without it.

Which axis is the batch (:func:`batch_layout`)
----------------------------------------------
The batch is axis 0 of the first argument (the predictions), except:

- torch's CTC layout, ``log_probs`` of shape (T, N, C): axis 1;
- a case whose ``axis`` keyword is 0 (its class or feature axis is 0): axis 1;
- no batch at all where the first argument is one example: torch's unbatched ``(C,)`` input, an
  unbatched CTC call, ``ranking_softmax_loss`` on a single 1-D list (variants ``unbatched`` and
  ``1d``). These cases are reported as ``no-batch``.

Every other array argument is batched along the same axis if it has the first argument's shape,
along axis 0 if its leading length is the batch size (labels, lengths, per-sample variances,
CTC's padded targets), and replicated otherwise (class weights, ``pos_weight``, a reference set,
CTC's concatenated targets, which are ragged along the batch).

The case's inputs are small (batch 2 to 8), so the sharded batch is 8 of them (seeds 0..7)
concatenated along the batch: divisible by the 8 devices, and every shard holds different data.
Replicated arguments come from seed 0; CTC's concatenated targets are concatenated like the
batch they describe.

What is checked, per case
-------------------------
On a mesh with automatic axes (the compiler propagates the input sharding):

1. ``jax.jit`` of the loss on the sharded inputs gives the unsharded answer: the case's NumPy
   float64 reference on the same inputs, at float64 tolerance (every case has a reference, and
   the main suite ties it to ``jax.jit`` on one device, so each case compiles only once here).
2. An output that keeps the batch (leading length = the sharded batch) is itself sharded over
   the batch: each device holds its own examples' losses.
3. The compiled HLO does not move the input between devices: no ``all-gather``, ``all-to-all``,
   ``collective-permute``, ``reduce-scatter`` or ``collective-broadcast`` whose operand is
   computed from a sharded floating argument. An ``all-reduce`` (a mean's sum and count, a
   per-class sum) is the data-parallel pattern and is allowed; moving a small integer argument
   is allowed only where :data:`ALLOWED_GATHERS` says why.

4. Inside ``jax.shard_map`` over the same mesh (each device computes the loss of its own
   examples), each shard's value is the reference on that shard's inputs and the gradient
   with respect to the first floating argument is the one-device gradient (per shard, or
   summed over the shards for a replicated argument): :func:`shard_map_check`. Skipped for
   CTC's concatenated targets, which no shard can own.

Cases that need the whole batch on every device are listed in :data:`EXPECTED_EXCLUDED` with
the reason. On a mesh with explicit axes (``jax.make_mesh``'s default) each case is traced too;
:data:`EXPLICIT_MODE_FAILS` lists those that do not trace there.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from agnostic_losses._registry import CASES, Inputs, LossCase

__all__ = [
    "ALLOWED_GATHERS",
    "DEVICES",
    "EXPECTED_EXCLUDED",
    "EXPLICIT_MODE_FAILS",
    "BatchLayout",
    "batch_layout",
    "check_case",
    "collectives",
    "combined",
    "main",
    "place_arrays",
    "shard_map_check",
    "training_step_check",
]

DEVICES = 8
MESH_AXIS = "batch"

# Cases whose kernel needs examples of other shards: expected to fail the collective check and
# reported as excluded. Each reason says why the communication is inherent, not an accident.
EXPECTED_EXCLUDED: dict[str, str] = {
    "top.ntxent[default]": (
        "contrastive over the whole batch: every embedding is compared with every other "
        "(the N x N similarity matrix), so shards exchange embeddings"
    ),
    "top.circle_loss[default]": (
        "pairs are formed within the batch (every same-label / other-label pair), so shards "
        "exchange embeddings"
    ),
    **dict.fromkeys(
        _KERAS_CIRCLE := (
            "keras.circle[default]",
            "keras.circle[keep-diagonal]",
            "keras_class.Circle[weighted-sum]",
            "keras_class.Circle[mask-sum]",
        ),
        "keras's circle loss: pairs are formed within the batch, as `circle_loss`'s",
    ),
}

# Cases that move a small integer argument (not the predictions) between devices, because its
# format is defined over the whole batch: case id -> (why, the arguments it may move).
ALLOWED_GATHERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "functional.ctc_loss[concatenated-sum]": (
        "all-gathers `target_lengths` (N integers): example i's labels start at the sum of the "
        "lengths before it in the concatenated `targets`; the log-probabilities stay sharded",
        ("3",),
    ),
}

# Cases that do not trace on a mesh with explicit axes (``jax.make_mesh``'s default), where an
# operation whose result would be sharded twice over the batch, or a reduction over the sharded
# axis of an integer array, is a ShardingTypeError: case id -> why.
EXPLICIT_MODE_FAILS: dict[str, str] = {
    "top.ntxent[default]": "the (N, N) similarity of the sharded embeddings with themselves",
    "top.circle_loss[default]": "the (N, N) similarity of the sharded embeddings with themselves",
    **dict.fromkeys(_KERAS_CIRCLE, "the (N, N) similarity of the sharded embeddings"),
    "functional.ctc_loss[concatenated-sum]": "a cumulative sum of `target_lengths` over the batch",
}

_DATA_MOVING = (
    "all-gather",
    "all-to-all",
    "ragged-all-to-all",
    "collective-permute",
    "reduce-scatter",
    "collective-broadcast",
)
_COLLECTIVE = re.compile(
    r"^\s*(?:ROOT\s+)?%?(?P<name>[\w.\-]+)\s*=\s*(?P<shape>.*?)\s"
    r"(?P<op>all-gather|all-to-all|ragged-all-to-all|collective-permute|reduce-scatter|"
    r"collective-broadcast|all-reduce)(?:-start)?\((?P<operands>[^)]*)\)"
)
_INSTRUCTION = re.compile(
    r"^\s*(?:ROOT\s+)?%?(?P<name>[\w.\-]+)\s*=\s*.*?\s(?P<op>[\w\-]+)\((?P<operands>[^)]*)\)"
)
_TORCH_CTC = ("ctc_loss", "CTCLoss")


@dataclasses.dataclass(frozen=True)
class BatchLayout:
    """Where the batch is in a case's arguments.

    ``axes`` maps an argument key (``0``, ``1``... positional, ``'name'`` keyword) to its batch
    axis; arguments absent from it are replicated. ``concatenated`` lists arguments that are
    replicated but grow with the batch (CTC's concatenated targets).
    """

    axes: dict[int | str, int]
    concatenated: tuple[int | str, ...] = ()


def _is_array(v: Any) -> bool:
    return isinstance(v, np.ndarray)


def _items(inputs: Inputs) -> list[tuple[int | str, Any]]:
    return list(enumerate(inputs.args)) + list(inputs.kwargs.items())


def batch_layout(case: LossCase, inputs: Inputs) -> BatchLayout | str:
    """The case's :class:`BatchLayout`, or why it has no batch axis (see the module docstring)."""
    first: Any = inputs.args[0] if inputs.args else None
    if not _is_array(first) or first.ndim == 0:
        return "the first argument is not an array with an axis"
    torch_ctc = case.name in _TORCH_CTC and case.surface != "top"
    one_example = case.variant.split("-")[0] in ("unbatched", "1d")
    if one_example or (torch_ctc and first.ndim < 3):
        return "one example, no batch axis (the 1-D input is the class/list/time axis)"
    axis = 1 if torch_ctc or inputs.kwargs.get("axis") == 0 else 0
    size = first.shape[axis]
    axes: dict[int | str, int] = {}
    concatenated: list[int | str] = []
    for key, value in _items(inputs):
        if not _is_array(value) or value.ndim == 0:
            continue
        if value.shape == first.shape:
            axes[key] = axis
        elif value.shape[0] == size:
            axes[key] = 0
        elif torch_ctc and key == 1 and value.ndim == 1:
            concatenated.append(key)
    return BatchLayout(axes, tuple(concatenated))


def combined(case: LossCase, layout: BatchLayout, copies: int) -> Inputs:
    """``copies`` seeded inputs concatenated along the batch (replicated arguments: seed 0)."""
    parts = [case.inputs(seed) for seed in range(copies)]
    first = parts[0]

    def merge(key: int | str, value: Any) -> Any:
        values = [p.args[key] if isinstance(key, int) else p.kwargs[key] for p in parts]
        if key in layout.axes:
            return np.concatenate(values, axis=layout.axes[key])
        if key in layout.concatenated:
            return np.concatenate(values, axis=0)
        return value

    args = tuple(merge(i, a) for i, a in enumerate(first.args))
    kwargs = {k: merge(k, v) for k, v in first.kwargs.items()}
    return Inputs(args, kwargs)


def collectives(hlo: str) -> list[dict[str, Any]]:
    """Collective instructions of compiled HLO text.

    Each: ``op``, result ``shape``, and ``params``: the numbers of the entry computation's
    parameters that an operand is computed from (through any chain of instructions).
    """
    defs: dict[str, list[str]] = {}
    entry_params: dict[str, int] = {}
    in_entry = False
    for line in hlo.splitlines():
        if line.startswith("ENTRY"):
            in_entry = True
        elif line.startswith("}"):
            in_entry = False
        m = _INSTRUCTION.match(line)
        if m is None:
            continue
        defs[m["name"]] = re.findall(r"%([\w.\-]+)", m["operands"])
        if in_entry and m["op"] == "parameter":
            entry_params[m["name"]] = int(m["operands"])

    def reached(names: list[str]) -> list[int]:
        seen: set[str] = set()
        found: set[int] = set()
        stack = list(names)
        while stack:
            n = stack.pop()
            if n in entry_params:
                found.add(entry_params[n])
            if n not in seen:
                seen.add(n)
                stack.extend(defs.get(n, []))
        return sorted(found)

    out = []
    for line in hlo.splitlines():
        m = _COLLECTIVE.match(line)
        if m is None:
            continue
        operands = re.findall(r"%([\w.\-]+)", m["operands"])
        shape = m["shape"].strip()
        out.append({"op": m["op"], "shape": shape[:120], "params": reached(operands)})
    return out


def _mesh(kind: str) -> Any:
    """A 1-D mesh of :data:`DEVICES` devices; ``kind`` is ``'auto'`` (sharding propagated by the
    compiler, ``Mesh``'s default) or ``'explicit'`` (sharding in the types: ``jax.make_mesh``'s
    default since JAX 0.7)."""
    import jax
    from jax.sharding import AxisType

    axis_type = AxisType.Auto if kind == "auto" else AxisType.Explicit
    return jax.make_mesh((DEVICES,), (MESH_AXIS,), axis_types=(axis_type,))


def check_case(case: LossCase, copies: int = DEVICES) -> dict[str, Any]:
    """Run one case sharded over :data:`DEVICES` devices; a JSON-ready record of what held.

    The unsharded answer is the case's NumPy float64 reference on the same concatenated inputs
    (every case has one; the main suite ties it to ``jax.jit`` on one device at float64
    tolerance), so each case compiles once. ``explicit`` records whether the call also traces
    on a mesh with explicit axes (informational: not a failure).
    """
    import jax
    from jax.sharding import NamedSharding
    from jax.sharding import PartitionSpec as P

    from .assertions import default_tolerance

    record: dict[str, Any] = {"case": case.id}
    small = case.inputs(0)
    layout = batch_layout(case, small)
    if isinstance(layout, str):
        record.update(status="no-batch", reason=layout)
        return record
    inputs = combined(case, layout, copies)
    dynamic = [(k, v) for k, v in _items(inputs) if _is_array(v)]

    def call(values: list[Any]) -> Any:
        args, kwargs = place_arrays(inputs, [key for key, _ in dynamic], values)
        return case.func(*args, **kwargs)

    def put(mesh: Any) -> list[Any]:
        out = []
        for key, value in dynamic:
            parts: list[str | None] = [None] * value.ndim
            if key in layout.axes:
                parts[layout.axes[key]] = MESH_AXIS
            out.append(jax.device_put(value, NamedSharding(mesh, P(*parts))))
        return out

    batch = inputs.args[0].shape[layout.axes[0]]
    record["batch"] = batch
    record["sharded_args"] = [str(k) for k in layout.axes]
    sharded = put(_mesh("auto"))
    try:
        # keep_unused: the compiled entry's parameter(i) is then the i-th array argument
        compiled = jax.jit(call, keep_unused=True).lower(sharded).compile()
        out = compiled(sharded)
    except Exception as exc:  # a failure to run sharded is a result to report
        record.update(status="error", reason=f"{type(exc).__name__}: {exc}"[:400])
        return record
    try:
        jax.jit(call).trace(put(_mesh("explicit")))
        record["explicit"] = "ok"
    except Exception as exc:
        record["explicit"] = f"{type(exc).__name__}: {exc}"[:300]
    record["shard_map"] = shard_map_check(case, layout, inputs, copies)
    got = np.asarray(out)
    problems = []
    with np.errstate(all="ignore"):
        ref = np.asarray(_reference(case)(*inputs.args, **inputs.kwargs), dtype=np.float64)
    rtol, atol = default_tolerance("float64")
    if got.shape != ref.shape:
        problems.append(f"sharded result has shape {got.shape}, the reference {ref.shape}")
    elif not np.allclose(got, ref, rtol=rtol * case.rtol, atol=atol * case.rtol, equal_nan=True):
        problems.append(f"sharded value differs from the reference by {_max_diff(got, ref):.3g}")
    record["out_shape"] = list(got.shape)
    keeps_batch = got.ndim >= 1 and got.shape[0] == batch
    record["unreduced"] = keeps_batch
    if keeps_batch:
        local = out.sharding.shard_shape(out.shape)[0]
        record["out_shard_rows"] = local
        if local != batch // DEVICES:
            problems.append(
                f"unreduced output is not sharded over the batch: each device holds {local} "
                f"of {batch} rows ({out.sharding})"
            )
    found = collectives(compiled.as_text())
    record["all_reduce"] = sum(c["op"] == "all-reduce" for c in found)
    moving = []
    for c in found:
        if c["op"] in _DATA_MOVING:
            keys = [dynamic[i][0] for i in c["params"] if i < len(dynamic)]
            moving.append({**c, "args": [str(k) for k in keys]})
    record["data_moving"] = moving
    gathered = {a for c in moving for a in c["args"]}
    inputs_moved = sorted(
        a
        for a in gathered
        for key, value in dynamic
        if str(key) == a and key in layout.axes and np.issubdtype(value.dtype, np.floating)
    )
    allowed = ALLOWED_GATHERS.get(case.id, ("", ()))[1]
    if inputs_moved:
        ops = sorted({c["op"] for c in moving})
        problems.append(f"moves the input between devices: {', '.join(ops)} of {inputs_moved}")
    elif moving and not gathered <= set(allowed):
        problems.append(f"moves batch data between devices: {moving}")
    elif moving:
        record["note"] = ALLOWED_GATHERS[case.id][0]
    record["problems"] = problems
    if not problems:
        record["status"] = "ok"
    elif case.id in EXPECTED_EXCLUDED and all("moves the input" in p for p in problems):
        record.update(status="excluded", reason=EXPECTED_EXCLUDED[case.id])
    else:
        record["status"] = "fail"
    return record


def shard_map_check(case: LossCase, layout: BatchLayout, inputs: Inputs, copies: int) -> str:
    """The case inside ``jax.shard_map`` over the batch (JAX's default ``check_vma=True``):
    ``"ok"``, ``"skipped: ..."`` or what differed.

    Each device computes the loss of its own examples, so the expected value per shard is the
    case's NumPy reference on that shard's inputs (one seed's), and the gradient with respect
    to the first floating argument is that of the same call under ``jax.jit`` on one device:
    concatenated over the shards for a sharded argument, summed for a replicated one (JAX types
    a replicated input's gradient as invariant: the sum over the shards).
    """
    import jax
    import jax.numpy as jnp
    from jax.sharding import PartitionSpec as P

    from .assertions import default_tolerance

    if layout.concatenated:
        return "skipped: a replicated argument that grows with the batch (ragged targets)"
    keys = [k for k, v in _items(inputs) if _is_array(v)]
    values = [inputs.args[k] if isinstance(k, int) else inputs.kwargs[k] for k in keys]
    floating = [i for i, v in enumerate(values) if np.issubdtype(v.dtype, np.floating)]

    def call(*arrays: Any) -> Any:
        args, kwargs = place_arrays(inputs, keys, arrays)
        return case.func(*args, **kwargs)

    def batched(out: Any, first: Any) -> bool:  # an unreduced output: one row per example
        return out.ndim >= 1 and out.shape[0] == first.shape[layout.axes[keys[0]]]

    def shard(i: int, s: int) -> Any:
        key, value = keys[i], values[i]
        if key not in layout.axes:
            return value
        axis = layout.axes[key]
        size = value.shape[axis] // copies
        return np.take(value, np.arange(s * size, (s + 1) * size), axis=axis)

    def total(*arrays: Any) -> Any:
        return jnp.sum(call(*arrays))

    def local(*arrays: Any) -> Any:
        out = call(*arrays)
        value = out if batched(out, arrays[0]) else jnp.reshape(out, (1, *out.shape))
        if not floating:
            return (value,)
        i = floating[0]
        grad = jax.grad(lambda a: total(*arrays[:i], a, *arrays[i + 1 :]))(arrays[i])
        return value, grad

    specs = tuple(
        P(
            *[
                MESH_AXIS if (k in layout.axes and d == layout.axes[k]) else None
                for d in range(v.ndim)
            ]
        )
        for k, v in zip(keys, values)
    )
    out_specs: tuple[Any, ...] = (P(MESH_AXIS),)
    if floating:
        out_specs += (specs[floating[0]],)
    mesh = _mesh("auto")
    try:
        mapped = jax.jit(jax.shard_map(local, mesh=mesh, in_specs=specs, out_specs=out_specs))
        got = [np.asarray(o) for o in mapped(*values)]
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"[:400]
    rtol, atol = default_tolerance("float64")
    rtol, atol = rtol * case.rtol, atol * case.rtol
    shards = [[shard(i, s) for i in range(len(values))] for s in range(copies)]
    refs = []
    for sh in shards:
        args, kwargs = place_arrays(inputs, keys, sh)
        with np.errstate(all="ignore"):
            ref = np.asarray(_reference(case)(*args, **kwargs), dtype=np.float64)
        refs.append(ref if batched(ref, sh[0]) else ref[None])
    want = np.concatenate(refs)
    if got[0].shape != want.shape or not np.allclose(
        got[0], want, rtol=rtol, atol=atol, equal_nan=True
    ):
        return f"shard_map value differs from the per-shard reference: {got[0]} vs {want}"[:400]
    if floating:
        i = floating[0]
        grad = jax.jit(jax.grad(total, argnums=i))
        parts = [np.asarray(grad(*sh)) for sh in shards]
        sharded_arg = keys[i] in layout.axes
        if sharded_arg:
            want_grad = np.concatenate(parts, axis=layout.axes[keys[i]])
        else:
            want_grad = np.sum(parts, axis=0)
        if not np.allclose(got[1], want_grad, rtol=rtol, atol=atol, equal_nan=True):
            return f"shard_map gradient differs by {_max_diff(got[1], want_grad):.3g}"
    return "ok"


def place_arrays(
    inputs: Inputs, keys: Sequence[int | str], values: Sequence[Any]
) -> tuple[list[Any], dict[str, Any]]:
    """``inputs``' arguments with those at ``keys`` (a position or a keyword) replaced by
    ``values``: ``(args, kwargs)``."""
    args, kwargs = list(inputs.args), dict(inputs.kwargs)
    for key, value in zip(keys, values):
        if isinstance(key, int):
            args[key] = value
        else:
            kwargs[key] = value
    return args, kwargs


def _reference(case: LossCase) -> Callable[..., Any]:
    if case.reference is None:  # every registry case has one (test_every_case_has_an_oracle)
        msg = f"{case.id} has no NumPy reference"
        raise ValueError(msg)
    return case.reference


def _max_diff(a: np.ndarray, b: np.ndarray) -> float:
    with np.errstate(all="ignore"):
        diff = np.abs(a.astype(np.float64) - b.astype(np.float64))
    return float(np.nanmax(diff)) if diff.size else 0.0


def training_step_check(steps: int = 3) -> dict[str, Any]:
    """A data-parallel SGD step (linear model, ``functional.cross_entropy``, ``jax.grad``): params
    replicated, batch sharded over the devices; equal to the same step on one device."""
    import jax
    from jax.sharding import NamedSharding
    from jax.sharding import PartitionSpec as P

    from agnostic_losses.functional import cross_entropy

    rng = np.random.default_rng(0)
    batch, features, classes = 64, 12, 7
    x = rng.standard_normal((batch, features))
    y = rng.integers(0, classes, size=batch)
    y[::9] = -100  # ignored targets: the mean's divisor is a cross-shard sum
    params = {"w": rng.standard_normal((features, classes)) * 0.1, "b": np.zeros(classes)}

    def loss_fn(p: dict[str, Any], xb: Any, yb: Any) -> Any:
        return cross_entropy(xb @ p["w"] + p["b"][None, :], yb, label_smoothing=0.1)

    @jax.jit
    def step(p: dict[str, Any], xb: Any, yb: Any) -> tuple[dict[str, Any], Any]:
        value, grads = jax.value_and_grad(loss_fn)(p, xb, yb)
        return jax.tree.map(lambda a, g: a - 0.5 * g, p, grads), value

    mesh = _mesh("auto")
    replicated = NamedSharding(mesh, P())
    p_sh = jax.device_put(params, replicated)
    x_sh = jax.device_put(x, NamedSharding(mesh, P(MESH_AXIS, None)))
    y_sh = jax.device_put(y, NamedSharding(mesh, P(MESH_AXIS)))
    one = jax.devices()[0]
    p_one = jax.device_put(params, one)
    x_one, y_one = jax.device_put(x, one), jax.device_put(y, one)
    hlo = step.lower(p_sh, x_sh, y_sh).compile().as_text()
    record: dict[str, Any] = {"losses_sharded": [], "losses_single": [], "problems": []}
    for _ in range(steps):
        p_sh, l_sh = step(p_sh, x_sh, y_sh)
        p_one, l_one = step(p_one, x_one, y_one)
        record["losses_sharded"].append(float(l_sh))
        record["losses_single"].append(float(l_one))
    for name in params:
        a, b = np.asarray(p_sh[name]), np.asarray(p_one[name])
        if not np.allclose(a, b, rtol=1e-12, atol=1e-13):
            record["problems"].append(f"param {name} differs by {_max_diff(a, b):.3g}")
        if not p_sh[name].sharding.is_fully_replicated:
            record["problems"].append(f"param {name} is not replicated after the step")
    if not np.allclose(record["losses_sharded"], record["losses_single"], rtol=1e-12):
        record["problems"].append("losses differ")
    if record["losses_single"][-1] >= record["losses_single"][0]:
        record["problems"].append("the loss did not decrease: the step is not a training step")
    found = collectives(hlo)
    record["all_reduce"] = sum(c["op"] == "all-reduce" for c in found)
    moving = [c for c in found if c["op"] in _DATA_MOVING]
    if moving:
        record["problems"].append(f"moves batch data: {sorted({c['op'] for c in moving})}")
    return record


def run(cases: Sequence[LossCase] = CASES, training: bool = True) -> dict[str, Any]:
    """Every case in ``cases``, then (``training``) the training step; JSON-ready."""
    import jax

    jax.config.update("jax_enable_x64", True)
    devices = jax.devices()
    if len(devices) < DEVICES:
        msg = (
            f"need {DEVICES} JAX devices, found {len(devices)}: set "
            f"XLA_FLAGS=--xla_force_host_platform_device_count={DEVICES} before JAX starts."
        )
        raise RuntimeError(msg)
    start = time.perf_counter()
    records = [check_case(case) for case in cases]
    return {
        "devices": [str(d) for d in devices[:DEVICES]],
        "jax": jax.__version__,
        "cases": records,
        "training_step": training_step_check() if training else None,
        "elapsed_s": time.perf_counter() - start,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """``--json PATH`` writes the records, a summary is printed; ``--training-only`` runs only the
    training step, ``--cases-only`` only the registry."""
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    training_only = "--training-only" in argv
    results = run(() if training_only else CASES, training="--cases-only" not in argv)
    if "--json" in argv:
        with open(argv[argv.index("--json") + 1], "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=1)
    for r in results["cases"]:
        detail = r.get("reason") or "; ".join(r.get("problems", []))
        print(f"{r['status']:9s} {r['case']:60s} {detail}")
    counts: dict[str, int] = {}
    for r in results["cases"]:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    step = results["training_step"]
    print(counts, "training step:", "not run" if step is None else step["problems"] or "ok")
    print(f"{results['elapsed_s']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
