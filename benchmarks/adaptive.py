"""Adaptive softmax, forward + backward: ours against torch's ``nn.AdaptiveLogSoftmaxWithLoss``.

``python -m benchmarks adaptive [--tokens N] [--features D] [--classes V] [--cutoffs C ...]
[--div-value F] [--repeats R] [--threads T] [--json PATH]``

One torch layer (float32, torch's initialisation under seed 0) and Zipf-distributed targets
(class ``r`` drawn with probability proportional to ``1 / (r + 1)``, as word frequencies are:
most targets in the shortlist, few in the last cluster). The mean loss and its gradients
w.r.t. the input and every weight, timed as the median of ``--repeats`` batches after a
warm-up:

- ``torch``: torch's own layer (each tail evaluated on its cluster's rows only);
- ``ours``: ``agnostic_losses.AdaptiveLogSoftmaxWithLoss`` with the layer's weights (on eager
  CPU tensors: torch's ``forward`` on our weights, the dispatch layer's route);
- ``ours, generic``: the same inside ``_native.disabled()``: every tail on every row, selected
  (the static-shape path that ``jax.jit``, ``torch.compile``, accelerators and Dask take);
- ``ours, jax.jit``: ``adaptive_log_softmax_with_loss`` under ``jax.jit(value_and_grad)``
  on the same weights (XLA's own threads: not comparable with a one-thread torch figure).

Each way's batches are timed interleaved with torch's (:func:`benchmarks.measure.
paired_median_times`), and its ratio is ``way / torch`` of that pair; torch's time in the
table is the median over the pairs.
"""

from __future__ import annotations

import argparse
import json
import platform
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from agnostic_losses._testing.check import unwritable

from .measure import paired_median_times

__all__ = ["main", "run"]


def run(
    tokens: int = 4096,
    features: int = 256,
    classes: int = 20000,
    cutoffs: Sequence[int] = (1000, 5000),
    div_value: float = 4.0,
    repeats: int = 5,
    threads: int = 1,
) -> dict[str, Any]:
    """Time every way; returns ``{"meta": ..., "rows": [{"way", "loss", "seconds", "ratio"}]}``."""
    import torch

    import agnostic_losses as al
    from agnostic_losses import _native

    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    layer = torch.nn.AdaptiveLogSoftmaxWithLoss(features, classes, list(cutoffs), div_value)
    ours = al.AdaptiveLogSoftmaxWithLoss(features, classes, list(cutoffs), div_value)
    ours.load_state_dict(layer.state_dict())
    rng = np.random.default_rng(0)
    p = 1.0 / np.arange(1, classes + 1)
    y_np = rng.choice(classes, size=tokens, p=p / p.sum())
    x_np = rng.normal(size=(tokens, features)).astype(np.float32)
    y = torch.as_tensor(y_np)
    x = torch.tensor(x_np, requires_grad=True)

    def torch_step(module: Any) -> Callable[[], float]:
        def step() -> float:
            out = module(x, y)
            torch.autograd.grad(out.loss, [x, *module.parameters()])
            return float(out.loss.detach())

        return step

    ways: dict[str, Callable[[], float]] = {
        "torch": torch_step(layer),
        "ours": torch_step(ours),
    }
    generic = torch_step(ours)

    def generic_step() -> float:
        with _native.disabled():
            return generic()

    ways["ours, generic"] = generic_step
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:  # pragma: no cover - JAX is a test dependency
        jax = None
    if jax is not None:

        def as_jax(t: Any) -> Any:
            return jnp.asarray(t.detach().numpy())

        tails = [(as_jax(a.weight), as_jax(b.weight)) for a, b in layer.tail]
        weights = (as_jax(layer.head.weight), tails)
        xj, yj = jnp.asarray(x_np), jnp.asarray(y_np.astype(np.int32))

        def loss(x: Any, head: Any, tails: Any) -> Any:
            return al.adaptive_log_softmax_with_loss(x, yj, head, tails).loss

        grad = jax.jit(jax.value_and_grad(loss, argnums=(0, 1, 2)))

        def jax_step() -> float:
            value, grads = grad(xj, *weights)
            jax.block_until_ready(grads)
            return float(value)

        ways["ours, jax.jit"] = jax_step
    losses = {name: step() for name, step in ways.items()}
    rows = [{"way": "torch", "loss": losses["torch"], "seconds": None, "ratio": 1.0}]
    torch_seconds = []
    for name, step in ways.items():
        if name == "torch":
            continue
        # each way's batches interleaved with torch's: both see the same machine load
        mine, theirs = paired_median_times(step, ways["torch"], repeats=repeats)
        torch_seconds.append(theirs)
        rows.append({"way": name, "loss": losses[name], "seconds": mine, "ratio": mine / theirs})
    rows[0]["seconds"] = float(np.median(torch_seconds))
    meta = {
        "tokens": tokens,
        "features": features,
        "classes": classes,
        "cutoffs": list(cutoffs),
        "div_value": div_value,
        "torch_threads": torch.get_num_threads(),
        "shortlist_targets": float(np.mean(y_np < cutoffs[0])),
        "torch": torch.__version__,
        "machine": f"{platform.machine()}, {platform.python_version()}",
    }
    return {"meta": meta, "rows": rows}


def markdown(result: dict[str, Any]) -> str:
    """The result as a Markdown table."""
    m = result["meta"]
    lines = [
        f"AdaptiveLogSoftmaxWithLoss fwd+bwd, N={m['tokens']}, D={m['features']}, "
        f"V={m['classes']}, cutoffs {m['cutoffs']}, div_value {m['div_value']}, Zipf targets "
        f"({m['shortlist_targets']:.0%} in the shortlist), torch {m['torch']} on "
        f"{m['torch_threads']} thread(s) ({m['machine']}).",
        "",
        "| way | loss | time (ms) | way / torch |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {r['way']} | {r['loss']:.6f} | {1e3 * r['seconds']:.1f} | {r['ratio']:.2f} |"
        for r in result["rows"]
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks adaptive", description=__doc__)
    parser.add_argument("--tokens", type=int, default=4096)
    parser.add_argument("--features", type=int, default=256)
    parser.add_argument("--classes", type=int, default=20000)
    parser.add_argument("--cutoffs", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--div-value", type=float, default=4.0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (0: default)")
    parser.add_argument("--json", help="write the result as JSON")
    args = parser.parse_args(argv)
    problem = unwritable(("--json", args.json))
    if problem:
        parser.error(problem)
    result = run(
        args.tokens,
        args.features,
        args.classes,
        args.cutoffs,
        args.div_value,
        args.repeats,
        args.threads,
    )
    print(markdown(result))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=1)
    return 0
