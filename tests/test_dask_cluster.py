"""Every registry case on a real ``dask.distributed`` cluster: a ``LocalCluster`` of 2 worker
processes (1 thread each), started once for this module and closed after it.

Inputs are chunked in two along the batch (the rule of ``agnostic_losses._testing.sharding``),
so both workers compute. Each graph is built with materialisation forbidden (``call`` of the
test backends); computing it then runs on the cluster, and the result must equal the case's
NumPy float64 reference.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from agnostic_losses._registry import CASES, Inputs, LossCase
from agnostic_losses._testing import backends as B
from agnostic_losses._testing.assertions import assert_close, default_tolerance
from agnostic_losses._testing.backends import Backend
from agnostic_losses._testing.sharding import BatchLayout, batch_layout

SEED = 20261123

# CTC's time recursion unrolls into long chains of small tasks on Dask (2.7k-5.7k tasks per case
# at T = 6-8); on the cluster each is a scheduler round trip (measured on this loaded 2-core
# machine: the 10 CTC cases took 81 s to compute there, the other 138 cases together 15 s).
# One case per CTC surface runs here; every CTC case runs on Dask's threaded scheduler in the
# main matrix (tests/test_registry.py).
CTC_ON_CLUSTER = ("top.ctc_loss[default]", "functional.ctc_loss[padded-mean]")


def _on_cluster(case: LossCase) -> bool:
    return case.family != "ctc" or case.id in CTC_ON_CLUSTER


# one worker runs this module (with --dist loadgroup, as nox does): one cluster, not one each
pytestmark = pytest.mark.xdist_group("dask_cluster")


def _requested() -> bool:
    names = os.environ.get("AGNOSTIC_LOSSES_BACKENDS", "").split(",")
    return "dask" in {n.strip() for n in names}


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """A 2-process LocalCluster and its Client (the default scheduler while the module runs).

    Skips where dask or dask.distributed is missing, and fails instead where the dask backend
    was requested (``AGNOSTIC_LOSSES_BACKENDS``): the ``dask`` extra installs both.
    """
    reason = Backend.DASK.unavailable_reason()
    if reason is None:
        try:
            import distributed
        except ImportError as exc:
            reason = f"dask.distributed is not installed ({exc})"
    if reason is not None:
        if _requested():
            pytest.fail(f"backend dask was requested but is unavailable: {reason}")
        pytest.skip(reason)
    with (
        distributed.LocalCluster(
            n_workers=2,
            processes=True,
            threads_per_worker=1,
            dashboard_address=":0",  # a free port: None still binds 8787, taken by a parallel run
            silence_logs=logging.ERROR,
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


def _to_dask(case: LossCase, inputs: Inputs) -> tuple[list[Any], dict[str, Any]]:
    """Float64 Dask arrays, batched arguments in two chunks along the batch."""
    import dask.array as da

    layout = batch_layout(case, inputs)
    axes = layout.axes if isinstance(layout, BatchLayout) else {}

    def convert(key: int | str, value: Any) -> Any:
        if not isinstance(value, np.ndarray):
            return value
        chunks = list(value.shape)
        if key in axes and value.shape[axes[key]] > 1:
            chunks[axes[key]] = -(-value.shape[axes[key]] // 2)
        return da.from_array(value, chunks=tuple(chunks))

    args = [convert(i, a) for i, a in enumerate(inputs.args)]
    kwargs = {k: convert(k, v) for k, v in inputs.kwargs.items()}
    return args, kwargs


@pytest.fixture(scope="module")
def computed(client: Any) -> dict[str, tuple[Any, Any]]:
    """case id -> (what building the graph returned or raised, the computed value or error).

    Every graph is built first, with materialisation forbidden, then all are computed in one
    ``dask.compute`` on the cluster: one scheduler round trip instead of one per case (CTC's
    graphs are long chains of small tasks; alone, each took 20-40 s of round trips here).
    """
    import dask

    built: dict[str, Any] = {}
    for case in filter(_on_cluster, CASES):
        args, kwargs = _to_dask(case, case.inputs(SEED))
        try:
            built[case.id] = B.call(Backend.DASK, case.func, *args, **kwargs)
        except Exception as exc:  # reported by the case's test
            built[case.id] = exc
    graphs = {k: v for k, v in built.items() if not isinstance(v, Exception)}
    try:
        values: dict[str, Any] = dict(zip(graphs, dask.compute(*graphs.values())))
    except Exception:  # find which case failed
        values = {}
        for key, graph in graphs.items():
            try:
                values[key] = graph.compute()
            except Exception as exc:
                values[key] = exc
    return {k: (built[k], values.get(k)) for k in built}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case_on_the_cluster(case: LossCase, computed: dict[str, tuple[Any, Any]]) -> None:
    import dask.array as da

    if not _on_cluster(case):
        pytest.skip(f"{case.id}: one CTC case per surface runs on the cluster (see CTC_ON_CLUSTER)")
    graph, value = computed[case.id]
    if isinstance(graph, Exception):
        raise graph
    assert isinstance(graph, da.Array), f"{case.id} returned {type(graph).__name__}, not a graph"
    if isinstance(value, Exception):
        raise value
    inputs = case.inputs(SEED)
    with np.errstate(all="ignore"):
        expected = np.asarray(case.reference(*inputs.args, **inputs.kwargs), dtype=np.float64)
    rtol, atol = default_tolerance("float64")
    assert_close(
        np.asarray(value), expected, rtol=rtol * case.rtol, atol=atol * case.rtol, err_msg=case.id
    )


def test_the_build_guard_holds_with_a_client(client: Any) -> None:
    """``call`` still forbids materialising while a distributed Client is the default scheduler,
    and ``.compute()`` outside it runs on the cluster's two worker processes."""
    import dask.array as da
    from distributed import get_task_stream

    x = da.ones((4, 3), chunks=2)
    with pytest.raises(AssertionError, match="materialised the Dask graph"):
        B.call(Backend.DASK, lambda a: float(a.sum()), x)
    with pytest.raises(AssertionError, match="materialised the Dask graph"):
        B.call(Backend.DASK, lambda a: a.sum().compute(), x)
    with get_task_stream(client) as stream:
        assert float(x.sum().compute()) == 12.0
    workers = {task["worker"] for task in stream.data}
    assert workers, "the computation did not run on the cluster"
    assert workers <= set(client.scheduler_info()["workers"])
    assert len(client.scheduler_info()["workers"]) == 2
