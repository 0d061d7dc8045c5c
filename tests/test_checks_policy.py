"""The value-check policy (``set_checks``, ``checks``, ``AGNOSTIC_LOSSES_CHECKS``) as users
run it: threads of a data loader or a serving pool, asyncio tasks, a mode set for the whole
process from the environment.

A ``checks(...)`` block belongs to its thread or task alone (a ``ContextVar``); ``set_checks``
is the process-wide default every thread sees. Each test runs on every eager backend of the
matrix (lazy ones never read values, whatever the policy).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import threading
from typing import Any

import numpy as np
import pytest

import agnostic_losses as al
from agnostic_losses._testing.backends import to_numpy

# nll_loss with class 2 of 2: ValueError where checks run, NaN where they do not
_LOG_P = [[np.log(0.5), np.log(0.5)]]
_OUT_OF_RANGE = [2]


@pytest.fixture(autouse=True)
def _restore_policy() -> Any:
    previous = al.set_checks("auto")
    yield
    al.set_checks(previous)


def _eager(backend: Any) -> None:
    if backend.lazy:
        pytest.skip("value checks need concrete arrays (jit tracers and Dask graphs have none)")


def _outcome(make: Any) -> str:
    """'raised' or 'nan': what an out-of-range label gives here, under the policy in force."""
    try:
        out = al.functional.nll_loss(make(_LOG_P), make(_OUT_OF_RANGE, dtype="int64"))
    except ValueError:
        return "raised"
    assert np.isnan(to_numpy(out)), to_numpy(out)
    return "nan"


def test_set_checks_returns_the_previous_mode_and_refuses_others(backend: Any, make: Any) -> None:
    _eager(backend)
    assert al.set_checks("never") == "auto"
    assert _outcome(make) == "nan"
    assert al.set_checks("always") == "never"
    assert _outcome(make) == "raised"
    with pytest.raises(ValueError, match=r"`mode` must be one of .*'auto'.*; got 'off'"):
        al.set_checks("off")
    assert al.get_checks() == "always"  # a refused mode changes nothing
    with pytest.raises(ValueError, match=r"`mode` must be one of .*; got 'off'"), al.checks("off"):
        pass


def test_a_block_nests_and_restores_on_error(backend: Any, make: Any) -> None:
    _eager(backend)
    with al.checks("never"):
        assert _outcome(make) == "nan"
        with al.checks("auto"):
            assert _outcome(make) == "raised"
        assert _outcome(make) == "nan"
    with pytest.raises(RuntimeError), al.checks("never"):
        raise RuntimeError
    assert al.get_checks() == "auto"
    assert _outcome(make) == "raised"


def test_a_block_belongs_to_its_thread(backend: Any, make: Any) -> None:
    # Two threads inside their blocks at the same time, each computing under its own mode; a
    # third thread, started inside one block, sees the process-wide mode (threads start with a
    # fresh context) and so does the main thread after both blocks end.
    _eager(backend)
    inside = threading.Barrier(3)
    outcomes: dict[str, list[str]] = {}
    errors: list[BaseException] = []

    def worker(name: str, mode: str) -> None:
        try:
            with al.checks(mode):
                inside.wait(timeout=60)
                outcomes[name] = [_outcome(make) for _ in range(5)]
                inside.wait(timeout=60)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
            inside.abort()

    threads = [
        threading.Thread(target=worker, args=("never", "never")),
        threading.Thread(target=worker, args=("always", "always")),
    ]
    for t in threads:
        t.start()
    inside.wait(timeout=60)  # both blocks entered
    outcomes["main"] = [al.get_checks(), _outcome(make)]
    inside.wait(timeout=60)
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert outcomes == {
        "never": ["nan"] * 5,
        "always": ["raised"] * 5,
        "main": ["auto", "raised"],
    }


def test_set_checks_reaches_every_thread(backend: Any, make: Any) -> None:
    _eager(backend)
    al.set_checks("never")
    seen: list[str] = []
    thread = threading.Thread(target=lambda: seen.append(_outcome(make)))
    thread.start()
    thread.join(timeout=60)
    assert seen == ["nan"]


def test_a_block_belongs_to_its_asyncio_task(backend: Any, make: Any) -> None:
    _eager(backend)

    async def task(mode: str | None, started: asyncio.Event, go: asyncio.Event) -> str:
        if mode is None:
            started.set()
            await go.wait()
            return _outcome(make)
        with al.checks(mode):
            started.set()
            await go.wait()  # the other task runs while this block is open
            return _outcome(make)

    async def main() -> list[str]:
        events = [asyncio.Event() for _ in range(3)]
        go = asyncio.Event()
        tasks = [
            asyncio.create_task(task(mode, event, go))
            for mode, event in zip(("never", None, "always"), events)
        ]
        for event in events:
            await event.wait()
        go.set()
        return list(await asyncio.gather(*tasks))

    assert asyncio.run(main()) == ["nan", "raised", "raised"]


@pytest.mark.parametrize(("mode", "expected"), [("never", "nan"), ("always", "raised")])
def test_the_environment_sets_the_default(mode: str, expected: str) -> None:
    script = textwrap.dedent(
        f"""
        import numpy as np
        import agnostic_losses as al
        assert al.get_checks() == {mode!r}, al.get_checks()
        try:
            out = al.functional.nll_loss(np.log([[0.5, 0.5]]), np.asarray([2]))
        except ValueError:
            print("raised")
        else:
            print("nan" if np.isnan(out) else out)
        """
    )
    env = {**os.environ, "AGNOSTIC_LOSSES_CHECKS": mode}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == expected


def test_a_bad_environment_value_fails_the_import_with_the_choices() -> None:
    env = {**os.environ, "AGNOSTIC_LOSSES_CHECKS": "off"}
    done = subprocess.run(
        [sys.executable, "-c", "import agnostic_losses"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode != 0
    assert "AGNOSTIC_LOSSES_CHECKS must be one of 'auto', 'always', 'never'; got 'off'" in (
        done.stderr
    )
