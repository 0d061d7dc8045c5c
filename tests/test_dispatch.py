"""Dispatch layer: namespace resolution, errors, dtype/device helpers, reductions."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from agnostic_losses import _dispatch as D
from agnostic_losses._reductions import check_reduction, keras_reduce, legacy_reduction, reduce
from agnostic_losses._testing.backends import (
    JaxProtocolHolder,
    dtype_of,
    to_numpy,
    value_and_grad,
)


def test_namespace_resolves_and_skips_scalars(xp: Any, make: Any, backend: Any) -> None:
    x = make([1.0, 2.0])
    got = D.namespace(a=x, b=None, c=3.0, d=x)
    assert got.__name__.split(".")[-1] in (
        "numpy",
        "_fastpath_torch",
        "array",
        "array_api_strict",
        "cupy",
    )
    assert D.library_name(x) == backend.library


def test_namespace_rejects_lists_and_tuples(make: Any) -> None:
    with pytest.raises(TypeError, match=r"`target` must be an array, got a Python list"):
        D.namespace(input=make([1.0]), target=[1.0])
    with pytest.raises(TypeError, match=r"`input` must be an array, got a Python tuple"):
        D.namespace(input=(1.0,))


def test_namespace_needs_an_array() -> None:
    with pytest.raises(TypeError, match=r"at least one of `input`, `target` must be an array"):
        D.namespace(input=1.0, target=None)


def test_namespace_rejects_unknown_objects() -> None:
    with pytest.raises(TypeError, match=r"`input` must be an array of a library"):
        D.namespace(input=object())


def test_jax_array_protocol_is_unwrapped() -> None:
    jnp = pytest.importorskip("jax.numpy")
    inner = jnp.asarray([1.0, 2.0])
    xp, args = D.resolve({"logits": JaxProtocolHolder(inner), "labels": np.asarray([0.0, 1.0])})
    assert args["logits"] is inner
    assert D.library_name(args["labels"]) == "jax"  # converted beside the unwrapped primary
    assert xp is D.namespace(x=inner)
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match=r"`logits` is a jax array but `labels` is a torch"):
        D.resolve({"logits": JaxProtocolHolder(inner), "labels": torch.zeros(2)})


def test_brainpy_arrays_and_variables() -> None:
    pytest.importorskip("brainpy")
    import brainpy.math as bm

    import agnostic_losses as al

    x, t = np.asarray([[1.0, -2.0, 0.5]]), np.asarray([[0.0, 1.0, 0.0]])
    expected = al.softmax_cross_entropy(x, t)
    for wrap in (bm.asarray, bm.Variable):
        got = al.softmax_cross_entropy(wrap(x), t)
        assert D.library_name(got) == "jax"
        np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-6)


def test_jax_array_protocol_must_give_a_jax_array() -> None:
    # what __jax_array__ returns is used only when it is a JAX array
    msg = r"`input` must be an array of a library .* got JaxProtocolHolder"
    with pytest.raises(TypeError, match=msg):
        D.resolve({"input": JaxProtocolHolder(np.asarray([1.0]))})


def test_mixed_libraries_name_both(backend: Any, make: Any) -> None:
    if backend.library == "numpy":
        pytest.skip("needs a library other than numpy")
    msg = rf"`logits` is a {backend.library} array but `labels` is a numpy array"
    with pytest.raises(TypeError, match=msg):
        D.namespace(logits=make([1.0]), labels=np.asarray([1.0]))


def test_namespace_is_cached_per_type(make: Any) -> None:
    x = make([1.0])
    first = D.namespace(x=x)
    assert type(x) in D._NAMESPACE_CACHE
    assert D.namespace(x=x) is first


def test_is_lazy(backend: Any, make: Any, run: Any) -> None:
    x = make([1.0])
    seen = []
    run(lambda v: seen.append(D.is_lazy(v)) or v, x)
    assert seen == [backend.lazy]


def test_compute_dtype_promotes_half_only(xp: Any, half_dtype: str) -> None:
    assert D.compute_dtype(xp, dtype_of(xp, half_dtype)) == xp.float32
    assert D.compute_dtype(xp, xp.float64) == xp.float64
    assert D.compute_dtype(xp, xp.int64) == xp.int64


def test_cast_is_identity_for_same_dtype(backend: Any, xp: Any, make: Any, dtype: str) -> None:
    x = make([1.0])
    assert D.cast(xp, x, getattr(xp, dtype)) is x
    other = "float64" if dtype == "float32" else "float32"
    if other not in backend.dtypes:
        pytest.skip(f"{backend.value} has no {other}")
    assert D.cast(xp, x, getattr(xp, other)).dtype == getattr(xp, other)


def test_cast_keeps_torch_gradient() -> None:
    torch = pytest.importorskip("torch")
    import array_api_compat.torch as txp

    x = torch.ones(2, requires_grad=True)
    assert D.cast(txp, x, torch.float32) is x
    assert D.cast(txp, x, torch.float64).requires_grad


def test_stop_gradient_keeps_value_drops_derivative(make: Any, run: Any, backend: Any) -> None:
    x = make([1.0, -2.0])
    np.testing.assert_array_equal(to_numpy(run(D.stop_gradient, x)), [1.0, -2.0])
    if backend.differentiable:
        # d/dx [x * x + stop(x * x)] = 2x: the stopped term contributes nothing
        _, (g,) = value_and_grad(backend, lambda z: z * z + D.stop_gradient(z * z), (x,))
        np.testing.assert_allclose(g, [2.0, -4.0])


def test_scalar_like_matches_dtype_and_device(xp: Any, make: Any, dtype: str) -> None:
    x = make([1.0, 2.0])
    c = D.scalar_like(xp, 2.5, x)
    assert c.dtype == x.dtype
    assert D.device_of(c) == D.device_of(x)


def test_check_axis() -> None:
    assert D.check_axis("axis", -1, 3) == 2
    with pytest.raises(D.AxisError, match=r"`axis`=3 is out of range for an input with 2 dim"):
        D.check_axis("axis", 3, 2)
    with pytest.raises(IndexError):
        D.check_axis("axis", -3, 2)
    with pytest.raises(TypeError, match=r"`axis` must be an int, got 1.5"):
        D.check_axis("axis", 1.5, 2)


def test_check_dtype_helpers(xp: Any, make: Any) -> None:
    with pytest.raises(TypeError, match=r"`labels` must have an integer dtype .* use f\(\)"):
        D.check_integer(xp, "labels", make([1.0]), "use f()")
    with pytest.raises(TypeError, match=r"`logits` must have a real floating dtype"):
        D.check_floating(xp, "logits", make([1], dtype="int64"))


def test_check_same_shape(make: Any) -> None:
    with pytest.raises(ValueError, match=r"`a` and `b` must have the same shape; got \(2,\)"):
        D.check_same_shape("a", make([1.0, 2.0]), "b", make([[1.0], [2.0]]))


def test_check_reduction_lists_allowed_values() -> None:
    assert check_reduction("sum") == "sum"
    with pytest.raises(ValueError, match=r"`reduction` must be one of 'none', 'mean', 'sum'; got"):
        check_reduction("elementwise_mean")


@pytest.mark.parametrize(
    ("size_average", "reduce", "expected"),
    [(None, None, "sum"), (True, None, "mean"), (False, None, "sum"), (None, False, "none")],
)
def test_legacy_reduction(size_average: Any, reduce: Any, expected: str) -> None:
    assert legacy_reduction(size_average, reduce, "sum") == expected


def test_reduce_named_divisors(xp: Any, make: Any, run: Any, close: Any) -> None:
    loss = make([[1.0, 2.0, 6.0], [0.0, 0.0, 3.0]])
    close(run(reduce, xp, loss, "mean"), np.asarray(2.0), check_dtype=False)
    close(run(reduce, xp, loss, "sum"), np.asarray(12.0), check_dtype=False)
    close(run(reduce, xp, loss, "mean", divisor="batch"), np.asarray(6.0), check_dtype=False)
    close(run(reduce, xp, loss, "mean", axis=0), np.asarray([0.5, 1.0, 4.5]), check_dtype=False)
    w = make([[1.0, 1.0, 0.0], [0.0, 0.0, 2.0]])
    got = run(reduce, xp, loss * w, "mean", divisor="weight_sum", weights=w)
    close(got, np.asarray(9.0 / 4.0), check_dtype=False)
    assert run(reduce, xp, loss, "none") is not None


def test_weight_sum_mean_all_zero_weights(xp: Any, make: Any, run: Any) -> None:
    zeros = make([0.0, 0.0])
    out = run(reduce, xp, zeros, "mean", divisor="weight_sum", weights=zeros, fill=float("nan"))
    assert np.isnan(to_numpy(out))
    out = run(reduce, xp, zeros, "mean", divisor="weight_sum", weights=zeros)
    assert to_numpy(out) == 0.0


def test_keras_reduce(xp: Any, make: Any, run: Any, close: Any) -> None:
    values = make([1.0, 2.0, 6.0, 3.0])
    mask = make(np.asarray([True, True, False, False]), "bool")
    w = make([[2.0], [0.0], [1.0], [1.0]])  # keras's rank rule drops the trailing axis
    close(
        run(keras_reduce, xp, values, "sum", sample_weight=w), np.asarray(11.0), check_dtype=False
    )
    got = run(keras_reduce, xp, values, "mean_with_sample_weight", sample_weight=w)
    close(got, np.asarray(11.0 / 4.0), check_dtype=False)
    got = run(keras_reduce, xp, values, "sum_over_batch_size", mask=mask)
    close(got, np.asarray(1.5), check_dtype=False)  # the mean over the two valid entries
    nothing = make(np.asarray([False] * 4), "bool")
    got = run(keras_reduce, xp, values, "sum_over_batch_size", mask=nothing)
    close(got, np.asarray(0.0), check_dtype=False)


def test_value_errors_on_tensors_recording_a_gradient_do_not_warn() -> None:
    """An error message that quotes values reads them detached: ``float`` of a tensor that
    records a gradient warns ("Converting a tensor with requires_grad=True to a scalar")
    before the error, and under ``-W error`` replaces it."""
    torch = pytest.importorskip("torch")
    import warnings

    import agnostic_losses as al
    from agnostic_losses import functional as F

    def leaf(values: Any) -> Any:
        return torch.tensor(values, requires_grad=True)

    x = leaf([[0.5, 0.5], [0.2, 0.3]])
    calls = [
        (lambda: al.sigmoid_binary_cross_entropy(x, leaf([[0.5, 2.0], [0.0, 1.0]])), "labels"),
        (lambda: F.gaussian_nll_loss(x, x.detach(), leaf([[-1.0, 1.0], [1.0, 1.0]])), "var"),
        (lambda: al.mean_squared_log_error(leaf([[-2.0, 1.0]]), leaf([[0.0, 0.0]])), "predicts"),
        (lambda: al.dice_loss(x, leaf([[1.0, 0.0], [0.0, 1.0]]), apply_softmax=False), "rows"),
    ]
    for call, match in calls:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(ValueError, match=match):
                call()


def test_tensorflow_tensors_get_the_keras_backend_hint() -> None:
    """keras 3 defaults to TensorFlow, which has no Array API namespace: the error says which
    keras backends work (a stand-in class from a ``tensorflow`` module; TensorFlow itself is
    not a test dependency)."""
    from agnostic_losses.keras import mean_squared_error

    class EagerTensor:
        shape = (2, 2)

    EagerTensor.__module__ = "tensorflow.python.framework.ops"
    with pytest.raises(TypeError, match=r"`y_true` must be .* got EagerTensor\. TensorFlow .*"):
        mean_squared_error(EagerTensor(), EagerTensor())


def test_exporting_with_a_torch_that_cannot_say(monkeypatch: pytest.MonkeyPatch) -> None:
    """An old torch (2.4: no ``torch.compiler.is_exporting``) imported beside a NumPy or JAX
    call is not exporting anything; the call must not fail on it."""
    import sys
    import types

    old = types.ModuleType("torch")
    old.compiler = types.SimpleNamespace(is_compiling=lambda: False)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "torch", old)
    assert D.exporting() is False
    h, w = np.ones((4, 3)), np.ones((5, 3))
    from agnostic_losses import linear_cross_entropy

    assert linear_cross_entropy(h, w, np.zeros(4, dtype=np.int64)).shape == ()
