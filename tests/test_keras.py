"""The keras surface: keras's class protocol (reductions, sample weights, masks, dtype,
configs, ``get``), argument-order errors, logit-space stability. Values and gradients of every
function and class against NumPy references and keras itself run in ``test_registry.py``."""

from __future__ import annotations

import importlib.util
import inspect
import os
from typing import Any

import numpy as np
import pytest
from array_api_extra.testing import lazy_xp_function

from agnostic_losses import keras as K
from agnostic_losses._docs import parameter_entries
from agnostic_losses._testing.backends import Backend, to_numpy

lazy_xp_function(K.binary_crossentropy)
lazy_xp_function(K.binary_focal_crossentropy)
lazy_xp_function(K.categorical_crossentropy)
lazy_xp_function(K.sparse_categorical_crossentropy)
lazy_xp_function(K.hinge)

CLASSES = [n for n in K.__all__ if n[:1].isupper() and n not in ("Loss", "LossFunctionWrapper")]
CLASSES = [n for n in CLASSES if isinstance(getattr(K, n), type)]


def _keras() -> Any:
    os.environ.setdefault("KERAS_BACKEND", "jax")
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "jax":
        pytest.skip("keras runs on another backend in this process")
    return keras


# --- the class protocol --------------------------------------------------------------------


class TestReductions:
    def test_each_reduction(self, make: Any, close: Any) -> None:
        y_true, y_pred = make([[0.0, 1.0], [0.0, 0.0]]), make([[1.0, 1.0], [1.0, 0.0]])
        per_sample = np.asarray([0.5, 0.5])
        weight = make([2.0, 0.0])
        expect = {
            "sum_over_batch_size": 0.5,  # (1 + 0) / 2 samples
            "mean": 0.5,
            "sum": 1.0,
            "mean_with_sample_weight": 0.5,  # 1 / sum(w) = 1 / 2
            "none": per_sample * [2.0, 0.0],
            None: per_sample * [2.0, 0.0],
        }
        for reduction, want in expect.items():
            out = K.MeanSquaredError(reduction=reduction)(y_true, y_pred, sample_weight=weight)
            close(out, np.asarray(want), check_dtype=False)

    def test_invalid_reduction_lists_the_allowed(self) -> None:
        # keras's wording (its own tests match the first words), then the allowed values
        with pytest.raises(
            ValueError,
            match=r"^Invalid value for argument `reduction`\. Expected one of "
            r"\('sum_over_batch_size'.*'mean_with_sample_weight'.*Received: reduction='auto'",
        ):
            K.MeanSquaredError(reduction="auto")

    def test_sample_weight_rank_rule(self, make: Any, close: Any) -> None:
        y_true, y_pred = make([[0.0], [1.0], [3.0]]), make([[1.0], [1.0], [1.0]])
        loss = K.MeanAbsoluteError(reduction="sum")
        # losses have shape (3,); weights (3, 1) lose their trailing axis, a scalar broadcasts
        close(
            loss(y_true, y_pred, sample_weight=make([[1.0], [1.0], [2.0]])),
            np.asarray(5.0),
            check_dtype=False,
        )
        close(loss(y_true, y_pred, sample_weight=2.0), np.asarray(6.0), check_dtype=False)

    def test_empty_weights_mean_is_zero(self, make: Any, close: Any) -> None:
        loss = K.MeanSquaredError(reduction="mean_with_sample_weight")
        out = loss(make([[1.0], [2.0]]), make([[0.0], [0.0]]), sample_weight=make([0.0, 0.0]))
        close(out, np.asarray(0.0), check_dtype=False)


class TestMasks:
    def test_masked_mean_divides_by_the_valid_count(self, make: Any, close: Any, xp: Any) -> None:
        y_true, y_pred = make([[1.0], [2.0], [3.0]]), make([[0.0], [0.0], [0.0]])
        mask = make(np.asarray([True, False, True]), "bool")
        out = K.MeanSquaredError()(y_true, y_pred, mask=mask)
        close(out, np.asarray((1.0 + 9.0) / 2), check_dtype=False)
        out = K.MeanSquaredError(reduction="sum")(y_true, y_pred, mask=mask)
        close(out, np.asarray(10.0), check_dtype=False)

    def test_nothing_valid_is_zero_with_a_finite_gradient(self, make: Any, grad: Any) -> None:
        y_true, y_pred = make([[1.0], [2.0]]), make([[0.0], [0.0]])
        mask = make(np.asarray([False, False]), "bool")
        value, (g,) = grad(lambda p: K.MeanSquaredError()(y_true, p, mask=mask), [y_pred])
        assert float(value) == 0.0
        assert np.all(np.isfinite(g))
        assert np.all(g == 0)

    def test_keras_mask_attribute_is_read(self) -> None:
        torch = pytest.importorskip("torch")
        y_pred = torch.zeros(3, 1, dtype=torch.float64)
        y_pred._keras_mask = torch.tensor([True, True, False])
        out = K.MeanSquaredError()(torch.tensor([[1.0], [3.0], [5.0]], dtype=torch.float64), y_pred)
        assert float(out) == pytest.approx(5.0)

    def test_ignore_class_averages_over_the_kept_labels(self, make: Any, close: Any) -> None:
        logits = make([[0.0, 0.0], [0.0, 0.0], [5.0, -5.0]])
        labels = make(np.asarray([0, -1, 1]), "int64")
        loss = K.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1)
        per = K.sparse_categorical_crossentropy(labels, logits, from_logits=True, ignore_class=-1)
        per = np.asarray(per.tolist() if hasattr(per, "tolist") else per, dtype=np.float64)
        assert per[1] == 0.0
        close(loss(labels, logits), np.asarray((per[0] + per[2]) / 2), check_dtype=False)
        all_ignored = make(np.asarray([-1, -1, -1]), "int64")
        close(loss(all_ignored, logits), np.asarray(0.0), check_dtype=False)

    @pytest.mark.parametrize("from_logits", [True, False])
    def test_an_ignored_row_gets_no_gradient_whatever_it_holds(
        self, backend: Any, make: Any, run: Any, request: pytest.FixtureRequest, from_logits: bool
    ) -> None:
        # an ignored row holding an infinite logit, or probabilities of 0 (0 / 0 when keras
        # normalises them), cost 0 with a zero gradient, as keras's; the loss was replaced by 0
        # after a NaN in that row, whose gradient 0 * NaN was NaN
        odd = [np.inf, 0.0, 0.0] if from_logits else [0.0, 0.0, 0.0]
        y_pred = np.asarray([[1.0, 2.0, 3.0], odd, [0.2, 0.3, 0.5]])
        labels = make(np.asarray([0, -1, 2]), "int64")
        kwargs = {"from_logits": from_logits, "ignore_class": -1}
        value = np.asarray(
            to_numpy(run(K.sparse_categorical_crossentropy, labels, make(y_pred), **kwargs))
        )
        assert value[1] == 0.0
        assert np.all(np.isfinite(value))
        if not backend.differentiable:
            return
        grad = request.getfixturevalue("grad")
        _, (g,) = grad(K.sparse_categorical_crossentropy, (labels, make(y_pred)), kwargs, (1,))
        assert np.all(np.isfinite(g))
        np.testing.assert_array_equal(g[1], 0.0)

    def test_circle_averages_over_positive_rows(self) -> None:
        e = np.asarray([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
        y = np.asarray([0, 1, 0])
        per = np.asarray(K.circle(y, e, gamma=1.0))
        assert per[1] == 0.0
        assert per[0] > 0
        assert float(K.Circle(gamma=1.0)(y, e)) == pytest.approx((per[0] + per[2]) / 2)


class TestDtype:
    def test_dtype_string_and_policy(self) -> None:
        y = np.asarray([[0.0, 1.0]])
        assert K.MeanSquaredError()(y, y).dtype == np.float64  # keras's None would be float32
        assert K.MeanSquaredError(dtype="float32")(y, y).dtype == np.float32
        half = y.astype(np.float16)
        assert K.MeanSquaredError()(half, half).dtype == np.float32  # keras's floatx()
        assert K.MeanSquaredError(dtype="float16")(half, half).dtype == np.float16

        class Policy:
            compute_dtype = "float32"

        assert K.MeanSquaredError(dtype=Policy())(y, y).dtype == np.float32
        with pytest.raises(ValueError, match="`dtype`"):
            K.MeanSquaredError(dtype="banana")
        # keras's own test passes NumPy arrays with dtype="bfloat16" (keras converts them to
        # its backend's tensors); NumPy has no bfloat16: a clear error, not an AttributeError
        with pytest.raises(TypeError, match="`dtype='bfloat16'`: numpy has no bfloat16"):
            K.MeanSquaredError(dtype="bfloat16")(y, y)

    def test_half_dtype_is_the_result_dtype(self) -> None:
        """keras reduces in the class's ``dtype``: the sparse cross entropy and CTC, which
        compute in float32, return a half ``dtype`` too (they returned float32)."""
        jnp = pytest.importorskip("jax.numpy")
        y, p = jnp.asarray([0, 2]), jnp.asarray([[1.0, 2.0, 3.0], [0.0, 0.0, 5.0]])
        labels, log_probs = jnp.asarray([[1, 2]]), jnp.zeros((1, 4, 3))
        for dtype in ("float16", "bfloat16"):
            out = K.SparseCategoricalCrossentropy(from_logits=True, dtype=dtype)(y, p)
            assert out.dtype == dtype
            assert K.CTC(dtype=dtype)(labels, log_probs).dtype == dtype

    def test_integer_predictions_become_float32(self, make: Any, run: Any, close: Any) -> None:
        """keras converts integer and boolean predictions to ``floatx()`` (float32), in its
        classes and its functions; so do ours, on every backend."""
        t, p = make([[0, 1], [1, 0]], "int64"), make([[1, 1], [1, 0]], "int64")
        for out, want in [
            (run(K.mean_squared_error, t, p), [0.5, 0.0]),
            (run(K.MeanSquaredError(), t, p), 0.25),
            (run(K.MeanAbsoluteError(), t, make([[True, True], [True, False]], "bool")), 0.25),
        ]:
            assert "float32" in str(out.dtype)
            close(out, np.asarray(want, dtype=np.float32))


class TestConfig:
    @pytest.mark.parametrize("name", CLASSES)
    def test_round_trip_keeps_every_argument(self, name: str) -> None:
        cls = getattr(K, name)
        params = [p for p in inspect.signature(cls).parameters.values() if p.name != "self"]
        loss = cls()
        config = loss.get_config()
        assert set(config) == {p.name for p in params}
        again = cls.from_config(config)
        assert again.get_config() == config
        assert repr(again) == repr(loss)

    def test_options_survive(self) -> None:
        loss = K.Huber(delta=2.5, reduction="sum", name="h")
        assert K.Huber.from_config(loss.get_config()).delta == 2.5  # keras 3.15 drops it
        assert "delta=2.5" in repr(loss)
        scce = K.SparseCategoricalCrossentropy(axis=0)
        assert K.SparseCategoricalCrossentropy.from_config(scce.get_config()).axis == 0

    def test_options_validated_at_construction(self) -> None:
        with pytest.raises(ValueError, match="`q`"):
            K.CategoricalGeneralizedCrossEntropy(q=1.5)
        with pytest.raises(ValueError, match="`label_smoothing`"):
            K.BinaryCrossentropy(label_smoothing=2.0)

    def test_deserialize_signature_is_keras(self) -> None:
        keras = _keras()
        assert inspect.signature(K.deserialize).parameters.keys() == (
            inspect.signature(keras.losses.deserialize).parameters.keys()
        )
        assert K.deserialize(name="mse") is K.mean_squared_error

    @pytest.mark.parametrize("name", CLASSES)
    def test_signature_is_keras(self, name: str) -> None:
        keras = _keras()
        theirs = inspect.signature(getattr(keras.losses, name).__init__).parameters
        theirs = [(p.name, p.default) for p in theirs.values() if p.name != "self"]
        ours = [
            (p.name, p.default) for p in inspect.signature(getattr(K, name)).parameters.values()
        ]
        assert ours == theirs

    @pytest.mark.parametrize("name", CLASSES)
    def test_docstring_documents_every_argument(self, name: str) -> None:
        # the Parameters section is generated from the function's: an option the function
        # does not document, or a stale default, shows here
        cls = getattr(K, name)
        entries = parameter_entries(cls.__doc__)
        for p in inspect.signature(cls).parameters.values():
            head = entries[p.name][0]
            if p.name in ("reduction", "name", "dtype"):
                assert head == "reduction, name, dtype"
                continue
            names, _, kind = head.partition(" : ")
            assert kind, head
            assert p.default is None or "," in names or f"default {p.default!r}" in kind, head
        assert "\nExamples\n--------\n>>> " in inspect.getdoc(cls)

    @pytest.mark.parametrize("name", CLASSES)
    def test_keras_accepts_our_config(self, name: str) -> None:
        keras = _keras()
        theirs = getattr(keras.losses, name).from_config(getattr(K, name)().get_config())
        assert theirs.name == getattr(K, name)().name


class TestGet:
    def test_names_aliases_configs(self) -> None:
        assert K.get("mse") is K.mean_squared_error
        assert K.get("BCE") is K.binary_crossentropy
        assert K.get("kl_divergence") is K.kl_divergence
        assert isinstance(K.get("CategoricalCrossentropy"), K.CategoricalCrossentropy)
        loss = K.get({"class_name": "BinaryCrossentropy", "config": {"from_logits": True}})
        assert loss.from_logits is True
        assert K.get(None) is None
        assert K.get(np.sum) is np.sum
        with pytest.raises(ValueError, match="Could not interpret loss identifier"):
            K.get("no_such_loss")

    def test_a_class_gives_an_instance(self) -> None:
        # keras.losses.get(keras.losses.Huber) is Huber(), not the class
        assert isinstance(K.get(K.Huber), K.Huber)
        assert K.get(K.Huber).get_config() == K.Huber().get_config()


def _every_object() -> list[Any]:
    found = [getattr(K, n) for n in K.__all__ if n not in ("get", "serialize", "deserialize")]
    out = []
    for obj in found:
        if isinstance(obj, type):
            if obj not in (K.Loss, K.LossFunctionWrapper):
                out.append(obj())
        elif obj not in out:
            out.append(obj)
    out.append(K.LossFunctionWrapper(K.huber, delta=0.5, reduction="sum"))
    out.append(K.CategoricalFocalCrossentropy(alpha=np.asarray([0.25, 0.75]), gamma=3.0))
    return out


class TestSerialize:
    def test_round_trip(self) -> None:
        for obj in _every_object():
            config = K.serialize(obj)
            back = K.deserialize(config)
            if isinstance(obj, K.Loss):
                assert type(back).__name__ == type(obj).__name__
                assert repr(back) == repr(obj)
                assert config["config"]["name"] == obj.name
            else:
                assert config["config"] == obj.__name__
                assert back is obj

    def test_same_config_as_keras(self) -> None:
        # keras.losses.serialize of our objects (registered as 'agnostic_losses>Name'), and
        # keras.losses.deserialize rebuilds our class from what we write
        keras = _keras()
        for obj in _every_object():
            config = K.serialize(obj)
            assert config == keras.losses.serialize(obj), obj
            if type(obj).__name__ in CLASSES:
                back = keras.losses.deserialize(config)
                assert isinstance(back, getattr(K, type(obj).__name__)), obj
                assert repr(back) == repr(obj)  # keras's own keeps '__numpy__' alpha as a dict

    def test_names_functions_custom_objects(self) -> None:
        assert K.serialize(None) is None
        assert K.deserialize(None) is None
        assert K.serialize("mse") == "mse"
        assert K.deserialize("mse") is K.mean_squared_error
        assert isinstance(K.deserialize("Huber"), K.Huber)
        function_form = {"class_name": "function", "config": "huber", "module": "builtins"}
        assert K.deserialize(function_form) is K.huber
        assert K.get(function_form) is K.huber

        class Cubic(K.Loss):
            def call(self, y_true: Any, y_pred: Any) -> Any:
                return (y_pred - y_true) ** 3

        config = K.serialize(Cubic(reduction="sum"))
        assert config["module"] == Cubic.__module__
        assert config["registered_name"] == "Cubic"
        back = K.deserialize(config, custom_objects={"Cubic": Cubic})
        assert isinstance(back, Cubic)
        assert back.reduction == "sum"

        # a subclass of one of ours is itself, not the class it derives from
        class Huber2(K.Huber):
            pass

        config = K.serialize(Huber2(delta=3.0))
        assert (config["class_name"], config["registered_name"]) == ("Huber2", "Huber2")
        assert K.deserialize(config, custom_objects={"Huber2": Huber2}).delta == 3.0
        with pytest.raises(ValueError, match="Could not interpret loss identifier: 'Cubic'"):
            K.deserialize("Cubic")
        with pytest.raises(ValueError, match="serialize: expected a loss object"):
            K.serialize(3)


class TestCustomLoss:
    def test_subclass_with_call_keeps_autograd(self) -> None:
        torch = pytest.importorskip("torch")

        class Cubic(K.Loss):
            def call(self, y_true: Any, y_pred: Any) -> Any:
                return (y_pred - y_true).abs().pow(3).mean(dim=-1)

        y_pred = torch.tensor([[2.0], [1.0]], dtype=torch.float64, requires_grad=True)
        out = Cubic()(torch.zeros(2, 1, dtype=torch.float64), y_pred, sample_weight=[1.0, 3.0])
        out.backward()
        assert float(out.detach()) == pytest.approx((8.0 + 3.0) / 2)
        assert y_pred.grad.tolist() == [[6.0], [4.5]]

    def test_subclass_gets_integer_targets_in_the_compute_dtype(self) -> None:
        # keras casts y_true to the loss's dtype before call(): int32 targets with float32
        # predictions give a float32 loss (NumPy alone promotes int32 - float32 to float64)
        class Squared(K.Loss):
            def call(self, y_true: Any, y_pred: Any) -> Any:
                return (y_true - y_pred) ** 2

        y_true = np.asarray([1, 0, 1, 0], dtype=np.int32)
        y_pred = np.asarray([0.1, 0.2, 0.3, 0.4], dtype=np.float32)
        weights = np.asarray([0.4, 0.3, 0.2, 0.1])
        loss = Squared()(y_true, y_pred, sample_weight=weights)
        assert loss.dtype == np.float32
        expected = np.sum(weights * (y_true - y_pred.astype(np.float64)) ** 2) / 4
        assert float(loss) == pytest.approx(expected, rel=1e-6)
        # our own losses read integer labels as they are
        probs = np.asarray([[0.9, 0.1], [0.2, 0.8]], dtype=np.float32)
        sparse = K.SparseCategoricalCrossentropy()(np.asarray([0, 1]), probs)
        assert float(sparse) == pytest.approx(-np.mean(np.log([0.9, 0.8])), rel=1e-6)

    def test_wrapper(self) -> None:
        loss = K.LossFunctionWrapper(K.huber, delta=0.5, reduction="sum")
        assert loss.get_config()["delta"] == 0.5
        y = np.asarray([[0.0, 0.0]])
        assert float(loss(y, np.asarray([[1.0, 0.25]]))) == pytest.approx(0.203125)


# --- numerics and errors -------------------------------------------------------------------


class TestLogitSpace:
    def test_binary_from_logits_is_not_clipped(self, make: Any, run: Any, close: Any) -> None:
        # keras's NumPy backend gives 16.118 (it clips sigmoid(-30)); its other backends 30
        out = run(K.binary_crossentropy, make([[1.0]]), make([[-30.0]]), from_logits=True)
        close(out, np.asarray([30.0]), check_dtype=False)

    @pytest.mark.parametrize(
        "fn", [K.binary_crossentropy, K.binary_focal_crossentropy, K.categorical_crossentropy]
    )
    def test_extreme_logits_finite_gradients(self, fn: Any, make: Any, grad: Any) -> None:
        y_true = make([[1.0, 0.0], [0.0, 1.0]])
        logits = make([[1e4, -1e4], [1e4, -1e4]])
        value, (g,) = grad(lambda x: fn(y_true, x, from_logits=True), [logits])
        assert np.all(np.isfinite(value))
        assert np.all(np.isfinite(g))

    def test_sparse_masked_logits(self, make: Any, run: Any, close: Any) -> None:
        logits = make([[0.0, -np.inf, 0.0]])
        out = run(
            K.sparse_categorical_crossentropy,
            make(np.asarray([0]), "int64"),
            logits,
            from_logits=True,
        )
        close(out, np.asarray([np.log(2.0)]), check_dtype=False)

    def test_probability_paths_clip_as_keras(self, make: Any, run: Any, close: Any) -> None:
        out = run(K.binary_crossentropy, make([[1.0]]), make([[0.0]]))
        close(out, np.asarray([-np.log(1e-7)]), factor=100, check_dtype=False)


class TestErrors:
    def test_swapped_class_labels_name_keras_order(self) -> None:
        with pytest.raises(ValueError, match=r"\(y_true, y_pred\)"):
            K.sparse_categorical_crossentropy(np.asarray([[0.5, 0.5]]), np.asarray([1]))

    def test_probability_targets_out_of_range_name_keras_order(self) -> None:
        logits, labels = np.asarray([[2.5, -1.0]]), np.asarray([[1.0, 0.0]])
        with pytest.raises(ValueError, match=r"\(y_true, y_pred\)"):
            K.binary_crossentropy(logits, labels, from_logits=True)
        with pytest.raises(ValueError, match=r"\(y_true, y_pred\)"):
            K.categorical_crossentropy(logits, labels)

    def test_shape_mismatch(self) -> None:
        with pytest.raises(ValueError, match="shape"):
            K.mean_squared_error(np.zeros((2, 3)), np.zeros((3, 2)))

    def test_rank_rule(self) -> None:
        out = K.mean_squared_error(np.asarray([1.0, 2.0]), np.asarray([[1.0], [0.0]]))
        np.testing.assert_allclose(out, [0.0, 4.0])

    def test_circle_checks_queries_and_references_alike(self) -> None:
        """keras.circle raises what circle_loss raises, named in keras's arguments."""
        e, y = np.eye(2), np.asarray([0, 1])
        with pytest.raises(ValueError, match=r"`y_pred` must be 2-d"):
            K.circle(y, np.ones(2))
        with pytest.raises(ValueError, match=r"`y_true` must have shape \(2,\)"):
            K.circle(np.asarray([0, 1, 1]), e)
        with pytest.raises(ValueError, match=r"`ref_embeddings` must have 2 features"):
            K.circle(y, e, ref_labels=y, ref_embeddings=np.ones((2, 3)))
        with pytest.raises(ValueError, match=r"`ref_labels` must have shape \(3,\)"):
            K.circle(y, e, ref_labels=y, ref_embeddings=np.ones((3, 2)))
        with pytest.raises(ValueError, match=r"`ref_embeddings` must be 2-d"):
            K.circle(y, e, ref_embeddings=np.ones(2))

    def test_label_out_of_range(self) -> None:
        with pytest.raises(ValueError, match="y_true"):
            K.sparse_categorical_crossentropy(np.asarray([3]), np.asarray([[0.5, 0.5]]))

    def test_mixed_libraries(self, foreign: Any, make: Any) -> None:
        with pytest.raises(TypeError, match=r"y_true|y_pred"):
            K.mean_squared_error(foreign([[1.0]]), make([[1.0]]))

    def test_numpy_labels_beside_backend_logits(
        self, backend: Backend, make: Any, run: Any
    ) -> None:
        out = run(
            K.sparse_categorical_crossentropy,
            np.asarray([1, 0]),
            make([[0.0, 1.0], [1.0, 0.0]]),
            from_logits=True,
        )
        assert type(out).__module__.split(".")[0] in (backend.library, "jaxlib")


# --- what keras users run: model.compile / model.fit ----------------------------------------

_FIT_CASES = {
    "CategoricalCrossentropy": ({"from_logits": True}, "one_hot"),
    "SparseCategoricalCrossentropy": ({"from_logits": True}, "labels"),
    "Huber": ({"delta": 0.5}, "one_hot"),
    "sparse_categorical_crossentropy": ({}, "labels"),
}


@pytest.mark.parametrize("name", list(_FIT_CASES))
def test_model_fit_matches_keras(name: str) -> None:
    """``model.compile(loss=ours)`` and ``fit`` with sample weights: the loss history of
    keras's own loss. keras hands a ``keras.losses.Loss`` the sample weights but wraps any
    other callable and weights its (already reduced) result, and it passes ``y_true`` as
    floats to loss functions: before, ours trained on other numbers and the sparse losses
    raised on the float labels."""
    keras = _keras()
    kwargs, target = _FIT_CASES[name]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 5)).astype("float32")
    labels = rng.integers(0, 3, size=48)
    y = labels if target == "labels" else np.eye(3, dtype="float32")[labels]
    weights = rng.uniform(size=48).astype("float32")

    def history(loss: Any) -> list[float]:
        keras.utils.set_random_seed(1)
        model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(3)])
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss=loss)
        fit = model.fit(x, y, sample_weight=weights, batch_size=16, epochs=2, verbose=0)
        return fit.history["loss"]

    ours, theirs = getattr(K, name), getattr(keras.losses, name)
    if isinstance(ours, type):
        ours, theirs = ours(**kwargs), theirs(**kwargs)
        assert isinstance(ours, keras.losses.Loss)
    np.testing.assert_allclose(history(ours), history(theirs), rtol=1e-5)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_model_fit_under_mixed_precision_matches_keras(policy: str) -> None:
    """Under a mixed-precision policy the model's output is half precision and keras's loss
    classes score it in float32 (their dtype None is floatx()). Ours kept float16 before: a
    squared error past 256 overflowed, and the history was [inf, inf] where keras's is
    finite; bfloat16 trained on other numbers."""
    keras = _keras()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 5)).astype("float32")
    y = (300 * rng.normal(size=(48, 3))).astype("float32")

    def history(loss: Any) -> list[float]:
        keras.utils.set_random_seed(1)
        model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(3)])
        model.compile(optimizer=keras.optimizers.SGD(1e-4), loss=loss)
        return model.fit(x, y, batch_size=16, epochs=2, verbose=0).history["loss"]

    before = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(policy)
    try:
        for name in ("MeanSquaredError", "Huber", "LogCosh"):
            ours, theirs = history(getattr(K, name)()), history(getattr(keras.losses, name)())
            assert np.all(np.isfinite(ours)), (name, ours)
            np.testing.assert_allclose(ours, theirs, rtol=1e-6, err_msg=name)
    finally:
        keras.mixed_precision.set_global_policy(before)


@pytest.mark.parametrize("half", ["float16", "bfloat16"])
def test_classes_score_half_precision_in_float32_as_keras(half: str) -> None:
    """Every keras loss class on half-precision inputs: float32 out, keras's value."""
    keras = _keras()
    import jax.numpy as jnp

    rng = np.random.default_rng(3)
    probs = rng.uniform(0.05, 0.95, size=(4, 5))
    y_pred = jnp.asarray(probs / probs.sum(-1, keepdims=True), dtype=half)
    y_true = jnp.asarray(np.eye(5)[rng.integers(0, 5, size=4)], dtype=half)
    labels = jnp.asarray(rng.integers(0, 5, size=4))
    checked = 0
    for name in CLASSES:
        if name in ("CTC", "Circle", "CategoricalGeneralizedCrossEntropy"):
            continue  # other input layouts; the registry's half-precision cells cover them
        sparse = name == "SparseCategoricalCrossentropy"
        args = (labels if sparse else y_true, y_pred)
        ours, theirs = getattr(K, name)()(*args), getattr(keras.losses, name)()(*args)
        assert str(ours.dtype) == str(theirs.dtype) == "float32", name
        np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=2e-6, err_msg=name)
        checked += 1
    assert checked >= 15


def test_model_fit_with_keras_masks_matches_keras() -> None:
    """A padded sequence model (``Embedding(mask_zero=True)``): keras keeps the mask of a JAX
    array in a table by ``id`` (JAX arrays take no attributes); ours reads it there too and
    trains on keras's numbers (before, the padded steps counted on the JAX backend)."""
    keras = _keras()
    rng = np.random.default_rng(0)
    x = rng.integers(1, 10, size=(16, 6))
    x[:, 4:] = 0
    y = rng.integers(0, 3, size=(16, 6))

    def history(loss: Any) -> list[float]:
        keras.utils.set_random_seed(1)
        layers = keras.layers
        model = keras.Sequential(
            [
                keras.Input((6,), dtype="int32"),
                layers.Embedding(10, 4, mask_zero=True),
                layers.Dense(3),
            ]
        )
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss=loss)
        return model.fit(x, y, batch_size=8, epochs=2, verbose=0).history["loss"]

    ours = history(K.SparseCategoricalCrossentropy(from_logits=True))
    np.testing.assert_allclose(
        ours, history(keras.losses.SparseCategoricalCrossentropy(from_logits=True)), rtol=1e-5
    )


def test_classes_are_keras_losses_only_once_keras_is_imported(monkeypatch: Any) -> None:
    import copy
    import pickle
    import sys

    keras = _keras()
    loss = K.Huber(0.5, reduction="sum")
    assert isinstance(loss, K.Huber)
    assert isinstance(loss, keras.losses.Loss)
    assert type(loss).__name__ == "Huber"
    for clone in (pickle.loads(pickle.dumps(loss)), copy.deepcopy(loss)):
        assert type(clone) is type(loss)
        assert clone.get_config() == loss.get_config()
    y, p = np.zeros((2, 2)), np.ones((2, 2))
    assert float(loss(y, p)) == float(keras.losses.Huber(0.5, reduction="sum")(y, p))
    # never imported by us (that would fix keras's backend before the user sets it)
    monkeypatch.delitem(sys.modules, "keras")
    plain = K.Huber(0.5)
    assert not isinstance(plain, keras.losses.Loss)
    assert float(plain(y, p)) == float(K.Huber(0.5)(y, p))


# keras's own saving code (3.15) converts arrays with a NumPy 1 style __array__
@pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")
@pytest.mark.parametrize("which", ["sparse", "focal-alpha-array"])
def test_saved_model_loads_without_custom_objects(tmp_path: Any, which: str) -> None:
    """The classes are registered with keras's serialization (``'agnostic_losses>Name'``):
    a model compiled with one of ours reloads as one compiled with keras's own does, an
    array option included (keras writes it as ``'__numpy__'``; keras's own focal loss gets
    that dictionary back as its ``alpha``)."""
    keras = _keras()
    x = np.ones((4, 5), dtype="float32")
    if which == "sparse":
        loss = K.SparseCategoricalCrossentropy(from_logits=True)
        y = np.asarray([0, 1, 2, 0])
    else:
        loss = K.CategoricalFocalCrossentropy(alpha=np.asarray([0.2, 0.3, 0.5]), from_logits=True)
        y = np.eye(3, dtype="float32")[[0, 1, 2, 0]]
    assert keras.saving.get_registered_name(type(loss)) == f"agnostic_losses>{type(loss).__name__}"
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(3)])
    model.compile(optimizer="sgd", loss=loss)
    path = str(tmp_path / "model.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded.loss).__name__ == type(loss).__name__
    assert isinstance(loaded.loss, K.Loss)
    assert repr(loaded.loss) == repr(loss)
    np.testing.assert_allclose(loaded.evaluate(x, y, verbose=0), model.evaluate(x, y, verbose=0))


def test_float_class_labels_are_cast_as_keras_casts_them() -> None:
    """keras casts float class labels to int32 (its ``Loss.__call__`` delivers labels as
    floats); ours does the same and gives keras's numbers."""
    keras = _keras()
    rng = np.random.default_rng(3)
    logits = rng.normal(size=(4, 3)).astype("float32")
    labels = np.asarray([2, 0, 1, 1])
    floats = labels.astype("float32")
    for name, kw in [
        ("sparse_categorical_crossentropy", {"from_logits": True}),
        ("sparse_categorical_crossentropy", {"from_logits": True, "ignore_class": 1}),
        ("categorical_generalized_cross_entropy", {"q": 0.5}),
    ]:
        probs = logits if kw.get("from_logits") else np.asarray(keras.ops.softmax(logits))
        want = getattr(keras.losses, name)(floats, probs, **kw)
        got = getattr(K, name)(floats, probs, **kw)
        np.testing.assert_allclose(got, want, rtol=1e-5, err_msg=name)
        np.testing.assert_allclose(got, getattr(K, name)(labels, probs, **kw), rtol=1e-6)
    embeddings = rng.normal(size=(4, 2)).astype("float32")
    want = keras.losses.circle(floats, embeddings)
    np.testing.assert_allclose(K.circle(floats, embeddings), want, rtol=1e-5, atol=1e-6)
    sequences = np.log(np.full((2, 4, 3), 1 / 3, dtype="float32"))
    targets = np.asarray([[1, 2], [2, 0]])
    want = keras.losses.ctc(targets.astype("float32"), sequences)
    np.testing.assert_allclose(K.ctc(targets.astype("float32"), sequences), want, rtol=1e-5)
    with pytest.raises(TypeError, match="y_true"):
        K.sparse_categorical_crossentropy(floats.astype("complex64"), logits)


_INTEGER_PREDICTIONS = [
    "mean_squared_error",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error",
    "huber",
    "log_cosh",
    "hinge",
    "squared_hinge",
    "categorical_hinge",
    "cosine_similarity",
    "kl_divergence",
    "poisson",
    "binary_crossentropy",
    "categorical_crossentropy",
    "binary_focal_crossentropy",
    "categorical_focal_crossentropy",
    "dice",
    "tversky",
]


@pytest.mark.parametrize("name", _INTEGER_PREDICTIONS)
def test_integer_predictions_as_keras_converts_them(name: str) -> None:
    """Integer predictions (keras's own tests pass them): the class gives keras's class's
    values in float32; the function the same, where keras's function computes in integers
    (its ``huber``, ``log_cosh``, percentage error are wrong there, ``hinge`` fails)."""
    keras = _keras()
    rng = np.random.default_rng(5)
    y_true = rng.integers(0, 2, size=(4, 3))
    y_pred = rng.integers(0, 3, size=(4, 3))
    want = getattr(keras.losses, name)(y_true.astype("float32"), y_pred.astype("float32"))
    got = getattr(K, name)(y_true, y_pred)
    assert got.dtype == np.float32, name
    np.testing.assert_allclose(got, np.asarray(want), rtol=1e-6, atol=1e-6, err_msg=name)
    (cls,) = [c for c in CLASSES if getattr(K, c).function is getattr(K, name)]
    want = getattr(keras.losses, cls)()(y_true, y_pred)
    got = getattr(K, cls)()(y_true, y_pred)
    assert got.dtype == np.float32, cls
    np.testing.assert_allclose(got, np.asarray(want), rtol=1e-6, atol=1e-6, err_msg=cls)


# --- keras's NumPy backend as a second oracle ---------------------------------------------------

_OTHER_BACKEND_SCRIPT = r"""
import json, os, sys
import numpy as np
import keras
backend = keras.backend.backend()
assert backend == os.environ["KERAS_BACKEND"], backend
keras.config.set_floatx("float64")
from agnostic_losses._registry import CASES

if backend == "torch":
    import torch

    def convert(a, grad=False):
        if not isinstance(a, np.ndarray):
            return a
        t = torch.asarray(a)
        return t.requires_grad_() if grad and t.is_floating_point() else t

    def listed(t):
        return t.detach().numpy().tolist()
else:
    def convert(a, grad=False):
        return a

    def listed(t):
        return np.asarray(t, dtype=np.float64).tolist()

def run(fn, case, inputs):
    # keras's order: y_pred is the second positional argument; its gradient on torch
    args = [convert(a, grad=i == 1) for i, a in enumerate(inputs.args)]
    kwargs = {k: convert(v) for k, v in inputs.kwargs.items()}
    value = fn(*args, **kwargs)
    grad = None
    if backend == "torch" and getattr(args[1], "requires_grad", False):
        (g,) = torch.autograd.grad(value.sum(), args[1], allow_unused=True)
        grad = None if g is None else listed(g)
    return [listed(value), grad]

out = {}
for case in CASES:
    if not case.surface.startswith("keras"):
        continue
    inputs = case.inputs(20261123)
    theirs = getattr(keras.losses, case.peer.label.rsplit(".", 1)[1])
    if case.surface == "keras_class":  # options build the class; sample_weight is positional
        peer = lambda *args, **options: theirs(dtype="float64", **options)(*args)
    else:
        peer = theirs
    try:
        want = run(peer, case, inputs)
    except Exception as exc:
        out[case.id] = f"{type(exc).__name__}: {exc}"
        continue
    # fresh inputs: keras 3.15 on torch rescales a sample_weight of its own dtype in place
    # (ignore_class), and torch.asarray shares the NumPy buffers
    out[case.id] = [want, run(case.func, case, case.inputs(20261123))]
json.dump(out, sys.stdout)
"""


@pytest.mark.parametrize("keras_backend", ["numpy", "torch"])
def test_matches_keras_other_backend(keras_backend: str) -> None:
    """Every keras registry case against keras on its NumPy and torch backends (a process of
    its own: keras picks one backend per process; the rest of the suite runs keras on JAX),
    ours called on that backend's arrays as a keras-on-torch user calls it. Values, and on
    torch the gradient w.r.t. ``y_pred``; float32 tolerance, as keras's reductions accumulate
    in float32."""
    import json
    import subprocess
    import sys

    if importlib.util.find_spec("keras") is None:
        pytest.skip("keras is not installed")
    if keras_backend == "torch" and importlib.util.find_spec("torch") is None:
        pytest.skip("torch is not installed")
    env = {**os.environ, "KERAS_BACKEND": keras_backend, "JAX_PLATFORMS": "cpu"}
    done = subprocess.run(
        [sys.executable, "-c", _OTHER_BACKEND_SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout)
    assert len(results) >= 50
    failed = {k: v for k, v in results.items() if isinstance(v, str)}
    assert failed == _KERAS_OTHER_BACKEND_FAILS[keras_backend], failed
    for case_id, result in results.items():
        if case_id not in failed:
            (theirs, their_grad), (ours, our_grad) = result
            np.testing.assert_allclose(ours, theirs, rtol=2e-5, atol=1e-6, err_msg=case_id)
            if their_grad is not None:
                assert our_grad is not None, case_id
                np.testing.assert_allclose(
                    our_grad, their_grad, rtol=2e-5, atol=1e-6, err_msg=f"{case_id} gradient"
                )


# keras 3.15's other backends themselves fail these (ours run): case id -> keras's error. Its
# NumPy normalize() reads axis=0 as -1 on NumPy arrays (`axis = axis or -1`).
_KERAS_OTHER_BACKEND_FAILS: dict[str, dict[str, str]] = {
    "numpy": {
        "keras.cosine_similarity[axis0]": (
            "ValueError: operands could not be broadcast together with shapes (4,3) (3,1) "
        ),
    },
    "torch": {},
}
