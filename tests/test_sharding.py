"""JAX arrays sharded over the batch on 8 CPU devices: every registry case and a data-parallel
training step (the checks: ``agnostic_losses/_testing/sharding.py``).

``--xla_force_host_platform_device_count`` only acts before JAX starts and the rest of the suite
runs on one device, so each test runs the checks in one fresh Python subprocess and reads back
their JSON record.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import agnostic_losses
from agnostic_losses._testing import sharding
from agnostic_losses._testing.backends import Backend

# the conftest `backend` fixture: skip without JAX, fail where jax was requested and is missing
jax_only = pytest.mark.parametrize("backend", [Backend.JAX], ids=["jax"], indirect=True)


def _run_checks(tmp_path: Path, mode: str) -> dict[str, Any]:
    out = tmp_path / "sharding.json"
    env = dict(os.environ)
    # backend optimisation level 0: LLVM's codegen effort only (the SPMD partitioning and its
    # collectives are HLO passes before it); 34 s -> 24 s of CPU for the registry here
    xla_flags = (
        f"--xla_force_host_platform_device_count={sharding.DEVICES}",
        "--xla_backend_optimization_level=0",
    )
    env["XLA_FLAGS"] = " ".join([env.get("XLA_FLAGS", ""), *xla_flags]).strip()
    env["JAX_PLATFORMS"] = "cpu"
    # the subprocess imports the same agnostic_losses as this process
    root = str(Path(agnostic_losses.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join([root, *filter(None, [env.get("PYTHONPATH")])])
    command = [sys.executable, "-m", "agnostic_losses._testing.sharding", "--json", str(out)]
    done = subprocess.run(
        [*command, mode], env=env, capture_output=True, text=True, timeout=900, check=False
    )
    assert done.returncode == 0, (
        f"sharding checks crashed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    return json.loads(out.read_text())


@jax_only
def test_registry_cases_sharded_over_the_batch(backend: Backend, tmp_path: Path) -> None:
    """Every case with a batch axis: the unsharded value, an unreduced output sharded like the
    input, no collective that moves the input; the exclusions are exactly the documented ones.
    And inside ``jax.shard_map``, each shard's value and gradient."""
    results = _run_checks(tmp_path, "--cases-only")
    records = {r["case"]: r for r in results["cases"]}
    failed = {
        case: r.get("problems") or r.get("reason")
        for case, r in records.items()
        if r["status"] in ("fail", "error")
    }
    assert not failed, json.dumps(failed, indent=1)
    excluded = {case for case, r in records.items() if r["status"] == "excluded"}
    assert excluded == set(sharding.EXPECTED_EXCLUDED), "update EXPECTED_EXCLUDED"
    unbatched = {case for case, r in records.items() if r["status"] == "no-batch"}
    assert all("unbatched" in c or "[1d]" in c for c in unbatched), unbatched
    ran = [r for r in records.values() if r["status"] == "ok"]
    assert len(ran) >= len(records) - len(excluded) - len(unbatched)
    # the checks saw both kinds of output and the all-reduce of a mean
    assert any(r["unreduced"] for r in ran)
    assert any(r["all_reduce"] for r in ran)
    # inside jax.shard_map: each shard's value and gradient (scan carries and custom_vjp
    # cotangents typed by the mesh axes they vary over)
    mapped = {c: r["shard_map"] for c, r in records.items() if "shard_map" in r}
    not_ok = {c: m for c, m in mapped.items() if m != "ok" and not m.startswith("skipped")}
    assert not not_ok, json.dumps(not_ok, indent=1)
    assert sum(m == "ok" for m in mapped.values()) >= len(ran) - 1
    explicit_fails = {c for c, r in records.items() if r.get("explicit", "ok") != "ok"}
    assert explicit_fails == set(sharding.EXPLICIT_MODE_FAILS), {
        c: records[c]["explicit"] for c in explicit_fails
    }


@jax_only
def test_data_parallel_training_step(backend: Backend, tmp_path: Path) -> None:
    """SGD on a linear model with ``functional.cross_entropy``: params replicated, batch sharded
    over 8 devices; losses and params equal to the single-device step, params stay replicated,
    only all-reduces cross devices."""
    step = _run_checks(tmp_path, "--training-only")["training_step"]
    assert not step["problems"], step
    assert step["all_reduce"] >= 1, "a sharded mean needs at least one all-reduce"
