"""Dask's namespace (``agnostic_losses._dask``): the blockwise ``take_along_axis`` against NumPy's
and against the generic one-hot gather, and the graphs it builds."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from agnostic_losses import _dispatch as D
from agnostic_losses._numerics import gather_labels
from agnostic_losses._testing.backends import Backend

# the conftest `backend` fixture: skip without Dask, fail where dask was requested and is missing
dask_only = pytest.mark.parametrize("backend", [Backend.DASK], ids=["dask"], indirect=True)


def _chunked(a: np.ndarray, chunks: Any) -> Any:
    import dask.array as da

    return da.from_array(a, chunks=chunks)


@dask_only
@pytest.mark.parametrize(
    ("x_chunks", "i_chunks"),
    [
        ((2, 5), (2, 1)),  # rows chunked, classes whole: the blockwise path
        ((3, 5), (2, 1)),  # misaligned row chunks: blockwise unifies them
        ((2, 2), (2, 1)),  # classes split over chunks: the one-hot path
    ],
    ids=["rows", "misaligned", "classes-split"],
)
def test_take_along_last_axis_matches_numpy(
    backend: Backend, x_chunks: tuple[int, int], i_chunks: tuple[int, int]
) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 5))
    idx = rng.integers(0, 5, size=(6, 1))
    xp = D.namespace(x=_chunked(x, x_chunks))
    got = xp.take_along_axis(_chunked(x, x_chunks), _chunked(idx, i_chunks), axis=-1)
    np.testing.assert_array_equal(got.compute(), np.take_along_axis(x, idx, axis=-1))


@dask_only
@pytest.mark.parametrize("axis", [0, 1, -2])
def test_take_along_other_axes_and_many_indices(backend: Backend, axis: int) -> None:
    """``(..., K)`` indices (margin's slot gather), leading axes, and broadcast index shapes."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 6, 5))
    idx = rng.integers(0, x.shape[axis], size=(4, 6, 5))
    idx = np.take(idx, [0, 1], axis=axis)
    xp = D.namespace(x=_chunked(x, (2, 3, 5)))
    got = xp.take_along_axis(_chunked(x, (2, 3, 5)), _chunked(idx, 2), axis=axis)
    np.testing.assert_array_equal(got.compute(), np.take_along_axis(x, idx, axis=axis))
    broadcast = idx[:1] if axis != 0 else idx[:, :1]
    got = xp.take_along_axis(_chunked(x, (2, 3, 5)), _chunked(broadcast, 2), axis=axis)
    np.testing.assert_array_equal(got.compute(), np.take_along_axis(x, broadcast, axis=axis))


@dask_only
def test_take_along_axis_errors_name_the_argument(backend: Backend) -> None:
    x = _chunked(np.zeros((2, 3)), 1)
    xp = D.namespace(x=x)
    with pytest.raises(ValueError, match="`indices` must have as many dimensions"):
        xp.take_along_axis(x, _chunked(np.zeros(2, dtype=np.int64), 1), axis=-1)
    with pytest.raises(ValueError, match="`axis`=2 is out of range"):
        xp.take_along_axis(x, _chunked(np.zeros((2, 1), dtype=np.int64), 1), axis=2)


@dask_only
@pytest.mark.parametrize("chunks", [(3, 7), (3, 3)], ids=["classes-whole", "classes-split"])
def test_gather_labels_take_equals_one_hot(backend: Backend, chunks: tuple[int, int]) -> None:
    """The two paths of ``gather_labels`` agree on Dask, including -inf entries."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((9, 7))
    x[0, :] = -np.inf
    labels = rng.integers(0, 7, size=9)
    dx, dl = _chunked(x, chunks), _chunked(labels, chunks[0])
    xp = D.namespace(x=dx)
    take = gather_labels(xp, dx, dl, use_take=True).compute()
    one_hot = gather_labels(xp, dx, dl, use_take=False).compute()
    np.testing.assert_array_equal(take, one_hot)
    np.testing.assert_array_equal(take, x[np.arange(9), labels])


@dask_only
def test_blockwise_gather_is_one_task_per_row_chunk(backend: Backend) -> None:
    """With the classes whole in each chunk, the gather adds one layer of one task per chunk and
    nothing of the (N, C) one-hot comparison."""
    x = _chunked(np.ones((8, 5)), (2, 5))
    labels = _chunked(np.zeros((8, 1), dtype=np.int64), (2, 1))
    xp = D.namespace(x=x)
    out = xp.take_along_axis(x, labels, axis=-1)
    new = set(out.dask.layers) - set(x.dask.layers) - set(labels.dask.layers)
    assert len(new) == 1, new
    assert len(out.dask.layers[new.pop()]) == x.numblocks[0]


def _row_reach(out: Any, inputs: list[Any]) -> tuple[dict[Any, Any], dict[Any, set[int]]]:
    """The low-level graph of ``out`` and, per task, the row chunks of ``inputs`` it reads."""
    from dask.core import flatten, get_dependencies, toposort

    graph = dict(out.__dask_graph__())
    row_of = {key: key[1] for arr in inputs for key in flatten(arr.__dask_keys__())}
    reach: dict[Any, set[int]] = {}
    for key in toposort(graph):
        if key in row_of:
            reach[key] = {row_of[key]}
        else:
            deps = get_dependencies(graph, key)
            reach[key] = set().union(*(reach[d] for d in deps)) if deps else set()
    return graph, reach


def _class_axis_last(name: str) -> bool:
    return name == "softmax_cross_entropy_with_integer_labels"


@dask_only
@pytest.mark.parametrize(
    ("name", "reduction"),
    [
        ("cross_entropy", "mean"),
        ("cross_entropy", "sum"),
        ("cross_entropy", "none"),
        ("softmax_cross_entropy_with_integer_labels", None),
    ],
)
def test_class_axis_in_one_chunk_is_one_blockwise_pass(
    backend: Backend, name: str, reduction: str | None
) -> None:
    """Logits chunked by rows, classes whole: every task reads one row chunk, except the final
    tree reduction to a scalar; no rechunk; the same tasks for every chunk."""
    import dask
    import dask.array as da

    import agnostic_losses
    import agnostic_losses.functional

    rows, classes, chunk = 64, 5, 8
    rng = np.random.default_rng(3)
    x = da.from_array(rng.standard_normal((rows, classes)), chunks=(chunk, classes))
    y = da.from_array(rng.integers(0, classes, size=rows), chunks=chunk)
    if _class_axis_last(name):
        out = agnostic_losses.softmax_cross_entropy_with_integer_labels(x, y)
    else:
        out = agnostic_losses.functional.cross_entropy(x, y, reduction=reduction)
    layers = list(out.dask.layers)
    assert not [n for n in layers if n.startswith(("rechunk", "concatenate"))], layers
    graph, reach = _row_reach(out, [x, y])
    values = dask.local.get_sync(graph, list(graph))
    shared = [k for k in graph if len(reach[k]) > 1]
    assert all(np.size(v) <= 1 for k, v in zip(graph, values) if k in shared)
    if reduction in (None, "none"):
        assert not shared, "an unreduced loss needs no task over several chunks"
    per_chunk = [sum(reach[k] == {i} for k in graph) for i in range(rows // chunk)]
    assert len(set(per_chunk)) == 1, per_chunk


def _ce_calls() -> list[tuple[str, Any, dict[str, Any]]]:
    """(name, function, options) of the cross-entropy calls that run through ``rowwise``."""
    import agnostic_losses
    from agnostic_losses import functional as F

    weight = np.asarray([0.5, 1.0, 2.0, 0.0, 1.5])
    return [
        ("index", F.cross_entropy, {}),
        ("index-none", F.cross_entropy, {"reduction": "none"}),
        (
            "index-weight-smooth-z",
            F.cross_entropy,
            {"weight": weight, "label_smoothing": 0.1, "z_loss": 1e-2, "ignore_index": 2},
        ),
        ("index-lse", F.cross_entropy, {"return_lse": True, "reduction": "sum"}),
        ("soft", F.cross_entropy, {"soft": True, "weight": weight, "label_smoothing": 0.2}),
        ("optax", agnostic_losses.softmax_cross_entropy_with_integer_labels, {}),
        (
            "optax-where-z",
            agnostic_losses.softmax_cross_entropy_with_integer_labels,
            {"where": True, "z_loss": 1e-3, "return_lse": True},
        ),
    ]


@dask_only
@pytest.mark.parametrize("call", _ce_calls(), ids=[c[0] for c in _ce_calls()])
@pytest.mark.parametrize("class_chunk", [5, 2], ids=["classes-whole", "classes-split"])
@pytest.mark.parametrize("kdim", [False, True], ids=["2d", "kdim"])
def test_rowwise_cross_entropy_matches_numpy(
    backend: Backend, call: tuple[str, Any, dict[str, Any]], class_chunk: int, kdim: bool
) -> None:
    """``_loops.rowwise`` on Dask (one task per row chunk, or the generic graph when the classes
    are split) gives ours on NumPy, for every option of the cross entropies that use it."""
    import dask.array as da

    name, fn, options = call
    options = dict(options)
    rng = np.random.default_rng(5)
    torch_layout = name != "optax" and not name.startswith("optax")
    shape = (12, 5, 3) if kdim else (12, 5)
    if not torch_layout and kdim:
        shape = (12, 3, 5)
    x = rng.standard_normal(shape)
    class_axis = 1 if torch_layout else x.ndim - 1
    label_shape = tuple(d for i, d in enumerate(shape) if i != class_axis)
    if options.pop("soft", False):
        y = np.moveaxis(rng.dirichlet(np.ones(5), size=label_shape), -1, class_axis)
    else:
        y = rng.integers(0, 5, size=label_shape)
        if "ignore_index" in options:
            y[::4] = options["ignore_index"]
    if options.get("where") is True:
        options["where"] = rng.random(shape) > 0.3
    chunks = tuple(
        4 if i == 0 else (class_chunk if i == class_axis else d) for i, d in enumerate(shape)
    )

    def dask_of(a: Any) -> Any:
        if not isinstance(a, np.ndarray) or (a.ndim == 1 and a.shape[0] == 5):
            return a
        return da.from_array(
            a,
            chunks=chunks[: a.ndim]
            if a.ndim == x.ndim
            else tuple(c for i, c in enumerate(chunks) if i != class_axis),
        )

    expected = fn(x, y, **options)
    got = fn(dask_of(x), dask_of(y), **{k: dask_of(v) for k, v in options.items()})
    for e, g in zip(
        expected if isinstance(expected, tuple) else (expected,),
        got if isinstance(got, tuple) else (got,),
    ):
        np.testing.assert_allclose(np.asarray(g.compute()), e, rtol=1e-12, atol=1e-12)


@dask_only
def test_rowwise_is_one_task_per_row_chunk(backend: Backend) -> None:
    """With the classes whole, the unreduced optax loss is the inputs, ONE blockwise layer with
    one task per row chunk, and the pick of its output: four layers (was 34)."""
    import agnostic_losses

    x = _chunked(np.ones((8, 5)), (2, 5))
    y = _chunked(np.zeros(8, dtype=np.int64), 2)
    out = agnostic_losses.softmax_cross_entropy_with_integer_labels(x, y)
    new = set(out.dask.layers) - set(x.dask.layers) - set(y.dask.layers)
    assert len(new) == 2, new  # the blockwise task per chunk and the pick of the loss
    assert all(len(out.dask.layers[name]) == x.numblocks[0] for name in new)


@dask_only
def test_blockwise_tasks_see_the_chunk_itself_not_a_copy(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The blockwise gather and the rowwise kernel get each chunk of the logits as it is (a
    view of the NumPy array under ``from_array``), not a copy: ``concatenate=True`` copied even
    a single class block, one more pass over every logit per call (measured on a one-chunk
    (256, 32000) ``softmax_cross_entropy_with_integer_labels``: 1.7x ours on NumPy before,
    0.9x after, threaded scheduler)."""
    import dask.array as da

    from agnostic_losses import _dask, _loops

    x = np.arange(40.0).reshape(8, 5)
    y = np.arange(8) % 5
    # chunks that are views of x (``from_array`` copies a NumPy array into its chunks)
    graph = {("x", 0, 0): x[:4], ("x", 1, 0): x[4:]}
    dx = da.Array(graph, "x", chunks=((4, 4), (5,)), dtype=x.dtype)
    dy = _chunked(y, 4)
    xp = D.namespace(x=dx)
    views: list[bool] = []
    whole = _dask._whole

    def recording(block: Any) -> Any:
        out = whole(block)
        if out.shape == (4, 5):
            views.append(np.shares_memory(out, x))
        return out

    monkeypatch.setattr(_dask, "_whole", recording)

    def fn(bxp: Any, logits: Any, labels: Any) -> tuple[Any, ...]:
        return (bxp.sum(logits, axis=-1) + labels,)

    (out,) = _loops.rowwise(xp, fn, (dx, dy), n_out=1)
    np.testing.assert_array_equal(out.compute(scheduler="sync"), x.sum(-1) + y)
    taken = xp.take_along_axis(dx, dy[:, None], axis=-1)
    np.testing.assert_array_equal(taken.compute(scheduler="sync")[:, 0], x[np.arange(8), y])
    assert views == [True] * 4  # two row chunks, two computations
