"""Linear cross-entropy (issue 11): chunking invariance, memory, extremes, the hand backward,
errors. Values and gradients of the registered cases against the materialised reference and
torch's own ``F.linear_cross_entropy`` run in ``test_registry.py``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from array_api_extra.testing import lazy_xp_function

from agnostic_losses import linear_cross_entropy, linear_cross_entropy_backward
from agnostic_losses._kernels import linear_ce as K
from agnostic_losses._testing import backends as B
from agnostic_losses._testing.backends import Backend
from agnostic_losses.functional import cross_entropy
from agnostic_losses.functional import linear_cross_entropy as f_linear_cross_entropy

lazy_xp_function(linear_cross_entropy)
lazy_xp_function(f_linear_cross_entropy)


def _torch_with_linear_ce() -> Any:
    """torch, skipping where it has no ``linear_cross_entropy`` of its own (added in torch
    2.13; ``nox -s minimum`` runs an older torch)."""
    torch = pytest.importorskip("torch")
    if not hasattr(torch.nn.functional, "linear_cross_entropy"):
        pytest.skip(f"torch {torch.__version__} has no linear_cross_entropy")
    return torch


def _problem(seed: int = 0, n: int = 6, d: int = 4, v: int = 11) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    h = rng.normal(size=(n, d))
    w = rng.normal(size=(v, d))
    b = rng.normal(size=(v,))
    y = rng.integers(0, v, size=(n,))
    y[1] = -100
    y[3] = y[4]
    return h, w, b, y


def _materialised(h: Any, w: Any, b: Any, y: Any, **kwargs: Any) -> Any:
    return cross_entropy(h @ w.T + b[None, :], y, **kwargs)


@pytest.mark.parametrize("chunk_size", [1, 3, 4, 11, 64])
def test_chunk_size_does_not_change_values_or_gradients(
    chunk_size: int, make: Any, grad: Any, close: Any
) -> None:
    h, w, b, y = _problem()
    args = (make(h), make(w), make(y), make(b))
    kwargs = {"label_smoothing": 0.1, "z_loss": 1e-3, "chunk_size": chunk_size}
    value, grads = grad(linear_cross_entropy, args, kwargs, argnums=(0, 1, 3))

    def reference(hh: Any, ww: Any, yy: Any, bb: Any, **kw: Any) -> Any:
        kw.pop("chunk_size")
        return _materialised(hh, ww, bb, yy, **kw)

    want_value, want_grads = grad(reference, args, kwargs, argnums=(0, 1, 3))
    close(value, want_value)
    for g, want in zip(grads, want_grads):
        close(g, want, factor=4.0)


def test_default_chunk_is_constant_between_powers_of_two() -> None:
    """The default chunk depends on the token count only through its power-of-two bucket (a
    range guard, not a recompile per batch size, under torch.compile's dynamic shapes), and a
    block of logits stays within twice the default size."""
    for n in (1, 3, 100, 1000, 1024, 1025, 2047, 8192, 10_000):
        chunk = K.default_chunk_size(n, 131072)
        low = 1 << (n.bit_length() - 1)
        assert (
            chunk == K.default_chunk_size(low, 131072) == K.default_chunk_size(2 * low - 1, 131072)
        )
        assert n * chunk <= max(2 * K.DEFAULT_CHUNK_ELEMENTS, 128 * n)
    assert K.default_chunk_size(4096, 100) == 100


def test_default_chunk_under_torch_export(monkeypatch: pytest.MonkeyPatch) -> None:
    """torch.export unrolls the chunk loop and turns a comparison of the token count into a
    guard: the default chunk there ignores the count (8192 tokens' chunk) and the vocabulary
    takes at most MAX_EXPORTED_CHUNKS chunks."""
    monkeypatch.setattr(K, "exporting", lambda: True)
    assert K.default_chunk_size(object(), 100) == 100  # the count is never looked at
    for classes in (1000, 8192, 131072, 262144):
        chunk = K.default_chunk_size(3, classes)
        assert chunk == K.default_chunk_size(1 << 20, classes)
        assert -(-classes // chunk) <= K.MAX_EXPORTED_CHUNKS
        assert chunk >= min(classes, K.DEFAULT_CHUNK_ELEMENTS // K.ASSUMED_TOKENS)


def test_matches_materialised_on_every_backend(xp: Any, make: Any, run: Any, close: Any) -> None:
    h, w, b, y = _problem(1)
    out = run(linear_cross_entropy, make(h), make(w), make(y), make(b), chunk_size=4)
    want = _materialised(h, w, b, y)
    close(B.to_numpy(out), np.asarray(want), check_dtype=False)


def test_extreme_and_masked_logits_stay_finite(make: Any, grad: Any) -> None:
    # logits of +-1e4 and a vocabulary entry masked by a -inf bias: finite value and
    # gradients; the masked class gets exactly zero gradient.
    h = np.asarray([[100.0, 0.0], [-100.0, 0.0], [0.0, 0.0]])
    w = np.asarray([[100.0, 0.0], [-100.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    b = np.asarray([0.0, 0.0, 0.0, -np.inf])
    y = np.asarray([0, 1, 2])
    value, (gh, gw, gb) = grad(
        linear_cross_entropy,
        (make(h), make(w), make(y), make(b)),
        {"chunk_size": 3},
        argnums=(0, 1, 3),
    )
    assert np.all(np.isfinite(value))
    for g in (gh, gw, gb):
        assert np.all(np.isfinite(g)), g
    np.testing.assert_array_equal(gw[3], 0.0)
    assert gb[3] == 0.0


def test_every_token_ignored_is_nan_with_zero_gradient(make: Any, grad: Any) -> None:
    # torch's 'mean' over no kept token: NaN, and no gradient leaks into the weights.
    h, w, b, _ = _problem()
    y = np.full((6,), -100)
    value, (gh, gw) = grad(
        linear_cross_entropy,
        (make(h), make(w), make(y), make(b)),
        {"chunk_size": 4},
        argnums=(0, 1),
    )
    assert np.isnan(value)
    np.testing.assert_array_equal(gh, 0.0)
    np.testing.assert_array_equal(gw, 0.0)


def test_return_lse_is_the_log_partition(make: Any, run: Any, close: Any) -> None:
    h, w, b, y = _problem(2)
    loss, lse = run(
        linear_cross_entropy,
        make(h),
        make(w),
        make(y),
        make(b),
        reduction="none",
        return_lse=True,
        chunk_size=4,
    )
    logits = h @ w.T + b
    m = logits.max(axis=1)
    close(B.to_numpy(lse), m + np.log(np.exp(logits - m[:, None]).sum(axis=1)), check_dtype=False)
    assert B.to_numpy(loss)[1] == 0.0  # the ignored token


def test_hand_backward_matches_autodiff() -> None:
    torch = pytest.importorskip("torch")
    h, w, b, y = _problem(3)
    y[1] = 0
    keep = np.ones(6)
    g_lse = keep / keep.sum()
    gh, gw, gb = linear_cross_entropy_backward(
        h, w, y, b, grad_lse=g_lse, grad_target_logit=-g_lse, chunk_size=4
    )
    th, tw, tb = (torch.tensor(a, requires_grad=True) for a in (h, w, b))
    torch.nn.functional.cross_entropy(th @ tw.T + tb, torch.tensor(y)).backward()
    for got, want in ((gh, th), (gw, tw), (gb, tb)):
        np.testing.assert_allclose(got, want.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_second_order_matches_materialised() -> None:
    """Hessian-vector products through the custom backward: torch double backward, JAX
    forward over reverse (``jax.hessian``) and reverse over reverse, in float64. (JAX's pure
    forward mode, ``jax.jvp`` of the loss itself, is what a ``custom_vjp`` cannot give.)"""
    h, w, b, y = _problem(5)
    v = np.random.default_rng(1).normal(size=h.shape)
    options = {"label_smoothing": 0.1, "z_loss": 1e-3}
    torch = pytest.importorskip("torch")

    def torch_hvp(loss: Any) -> list[np.ndarray]:
        th, tw, tb = (torch.tensor(a, requires_grad=True) for a in (h, w, b))
        (gh,) = torch.autograd.grad(loss(th, tw, tb), th, create_graph=True)
        return [g.numpy() for g in torch.autograd.grad((gh * torch.tensor(v)).sum(), (th, tw))]

    def materialised_torch(th: Any, tw: Any, tb: Any) -> Any:
        logits = th @ tw.T + tb
        keep = torch.tensor(y) != -100
        lse = torch.logsumexp(logits, -1)
        z = (torch.where(keep, lse, 0.0) ** 2).sum() / keep.sum()
        return cross_entropy(logits, torch.tensor(y), label_smoothing=0.1) + 1e-3 * z

    ty = torch.tensor(y)
    ours = torch_hvp(
        lambda th, tw, tb: linear_cross_entropy(th, tw, ty, tb, chunk_size=4, **options)
    )
    for got, want in zip(ours, torch_hvp(materialised_torch)):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    if Backend.JAX.unavailable_reason():
        return
    import jax
    import jax.numpy as jnp

    Backend.JAX.namespace()  # float64
    jh, jw, jb, jy, jv = (jnp.asarray(a) for a in (h, w, b, y, v))
    ours_j = jax.grad(lambda x: linear_cross_entropy(x, jw, jy, jb, chunk_size=4, **options))
    want = np.asarray(ours[0])  # torch's materialised HVP w.r.t. hidden, checked above
    hessian = jax.hessian(lambda x: linear_cross_entropy(x, jw, jy, jb, chunk_size=4, **options))
    got = np.einsum("ijkl,kl->ij", np.asarray(hessian(jh)), v)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    reverse = jax.grad(lambda x: jnp.vdot(ours_j(x), jv))(jh)
    np.testing.assert_allclose(np.asarray(reverse), want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"label_smoothing": 0.1, "z_loss": 1e-2},
        {"weight": True, "label_smoothing": 0.2},
        {"logit_softcap": 2.0, "reduction": "none"},
        {"weight": True, "reduction": "sum", "z_loss": 1e-3},
    ],
    ids=["plain", "smoothing-z_loss", "weight-smoothing", "softcap-none", "weight-sum-z_loss"],
)
def test_forward_mode_on_torch_matches_materialised(options: dict[str, Any]) -> None:
    """torch.func.jvp (tangents on hidden, weight, bias and the class weight at once),
    jacfwd and forward-over-reverse hessian through the chunked statistics, against the
    materialised loss in float64. Before the jvp rule they raised NotImplementedError."""
    torch = pytest.importorskip("torch")
    h, w, b, y = _problem(7)
    rng = np.random.default_rng(8)
    cw = rng.uniform(0.5, 1.5, size=w.shape[0])
    primals = tuple(torch.tensor(a) for a in (h, w, b, cw))
    tangents = tuple(torch.tensor(rng.normal(size=a.shape)) for a in (h, w, b, cw))
    ty = torch.tensor(y)
    use_weight = options.get("weight", False)
    softcap = options.get("logit_softcap")
    kw = {k: v for k, v in options.items() if k not in ("weight", "logit_softcap")}

    def ours(th: Any, tw: Any, tb: Any, tcw: Any) -> Any:
        weight = tcw if use_weight else None
        return f_linear_cross_entropy(
            th, tw, ty, linear_bias=tb, weight=weight, chunk_size=4, logit_softcap=softcap, **kw
        )

    def materialised(th: Any, tw: Any, tb: Any, tcw: Any) -> Any:
        z = th @ tw.T + tb
        if softcap is not None:
            z = softcap * torch.tanh(z / softcap)
        return cross_entropy(z, ty, weight=tcw if use_weight else None, **kw)

    got = torch.func.jvp(ours, primals, tangents)
    want = torch.func.jvp(materialised, primals, tangents)
    for g, e in zip(got, want):
        np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-10, atol=1e-12)
    jac = torch.func.jacfwd(ours, argnums=1)(*primals)
    np.testing.assert_allclose(
        jac.numpy(), torch.func.jacrev(materialised, argnums=1)(*primals).numpy(), atol=1e-12
    )
    hess = torch.func.hessian(lambda th: ours(th, *primals[1:]).sum())(primals[0])
    want_hess = torch.func.hessian(lambda th: materialised(th, *primals[1:]).sum())(primals[0])
    np.testing.assert_allclose(hess.numpy(), want_hess.numpy(), rtol=1e-9, atol=1e-12)


def test_forward_mode_dual_numbers_and_half_precision() -> None:
    """torch.autograd.forward_ad (dual tensors) and bfloat16 tangents: the jvp keeps the
    output's dtype (statistics in float32 inside) and agrees with the float64 one loosely."""
    torch = pytest.importorskip("torch")
    import torch.autograd.forward_ad as fwad

    h, w, _, y = _problem(9)
    t = np.random.default_rng(10).normal(size=h.shape)
    ty, tw = torch.tensor(y), torch.tensor(w)
    with fwad.dual_level():
        dual = fwad.make_dual(torch.tensor(h), torch.tensor(t))
        exact = fwad.unpack_dual(linear_cross_entropy(dual, tw, ty, chunk_size=3)).tangent
    _, want = torch.func.jvp(
        lambda x: cross_entropy(x @ tw.T, ty), (torch.tensor(h),), (torch.tensor(t),)
    )
    np.testing.assert_allclose(exact.numpy(), want.numpy(), rtol=1e-10)
    bf = torch.bfloat16
    out, tangent = torch.func.jvp(
        lambda x: linear_cross_entropy(x, tw.to(bf), ty, chunk_size=3),
        (torch.tensor(h, dtype=bf),),
        (torch.tensor(t, dtype=bf),),
    )
    assert out.dtype == tangent.dtype == bf
    np.testing.assert_allclose(tangent.float().numpy(), want.numpy(), rtol=5e-2, atol=5e-2)


def test_saves_no_logits_for_the_backward() -> None:
    # what autograd keeps between forward and backward: the inputs and (N,) statistics, never
    # an (N, V) block; the materialised path keeps several.
    torch = pytest.importorskip("torch")
    n, d, v = 64, 8, 4096
    rng = np.random.default_rng(0)
    h = torch.tensor(rng.normal(size=(n, d)), dtype=torch.float32, requires_grad=True)
    w = torch.tensor(rng.normal(size=(v, d)), dtype=torch.float32, requires_grad=True)
    y = torch.tensor(rng.integers(0, v, size=(n,)))

    def saved_shapes(fn: Any) -> list[tuple[int, ...]]:
        shapes: list[tuple[int, ...]] = []

        def pack(t: Any) -> Any:
            shapes.append(tuple(t.shape))
            return t

        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            fn().backward()
        return shapes

    def blocks(shapes: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
        return [s for s in shapes if len(s) == 2 and s[0] == n and s[1] != d]

    ours = saved_shapes(lambda: linear_cross_entropy(h, w, y, chunk_size=512))
    assert blocks(ours) == [], ours  # no (N, chunk) nor (N, V) logits
    assert max(int(np.prod(s)) for s in ours) == v * d  # the weight is the largest thing kept
    assert (n, v) in blocks(saved_shapes(lambda: cross_entropy(h @ w.T, y)))


def test_jax_gradient_holds_one_chunk_of_logits() -> None:
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    n, d, v, chunk = 16, 4, 1024, 128
    h = jnp.ones((n, d), jnp.float32)
    w = jnp.ones((v, d), jnp.float32)
    y = jnp.zeros((n,), jnp.int32)
    jaxpr = jax.make_jaxpr(
        jax.grad(lambda a, b: linear_cross_entropy(a, b, y, chunk_size=chunk), argnums=(0, 1))
    )(h, w)
    largest = 0
    for eqn in _walk(jaxpr.jaxpr):
        for var in eqn.outvars:
            shape = getattr(var.aval, "shape", ())
            if len(shape) == 2 and n in shape:
                largest = max(largest, int(np.prod(shape)))
    assert largest <= n * chunk, largest


def _walk(jaxpr: Any) -> Any:
    for eqn in jaxpr.eqns:
        yield eqn
        for param in eqn.params.values():
            inner = getattr(param, "jaxpr", param)
            if hasattr(inner, "eqns"):
                yield from _walk(inner)


def test_half_precision_gradients_accumulate_in_float32() -> None:
    torch = pytest.importorskip("torch")
    h, w, _, y = _problem(4, n=32, d=16, v=50)
    y[1] = 0
    got = []
    for dtype in (torch.bfloat16, torch.float64):
        th, tw = (torch.tensor(a, dtype=dtype, requires_grad=True) for a in (h, w))
        linear_cross_entropy(th, tw, torch.tensor(y), chunk_size=8).backward()
        assert th.grad.dtype == dtype
        assert tw.grad.dtype == dtype
        got.append((th.grad.double().numpy(), tw.grad.double().numpy()))
    for half, exact in zip(*got):
        np.testing.assert_allclose(half, exact, rtol=0.05, atol=0.02 * np.abs(exact).max())


def test_numpy_has_no_custom_gradient_path() -> None:
    # forward only: the NumPy result equals the kernel's forward statistics combined by hand
    h, w, b, y = _problem(5)
    y[1] = 0
    lse, t, _, _ = K.logit_stats_forward(np, h, w, b, y, None, chunk=4)
    np.testing.assert_allclose(
        linear_cross_entropy(h, w, y, b, reduction="none", chunk_size=4), lse - t, rtol=1e-12
    )


class TestFunctional:
    def test_probability_targets_take_the_reference_path(self) -> None:
        torch = _torch_with_linear_ce()
        tf = torch.nn.functional
        h, w, b, _ = _problem(6)
        p = torch.softmax(torch.tensor(np.random.default_rng(0).normal(size=(6, 11))), dim=1)
        args = (torch.tensor(h), torch.tensor(w), p)
        got = f_linear_cross_entropy(*args, linear_bias=torch.tensor(b), label_smoothing=0.1)
        want = tf.linear_cross_entropy(*args, linear_bias=torch.tensor(b), label_smoothing=0.1)
        torch.testing.assert_close(got, want)

    def test_options_is_accepted_and_ignore_index_none_means_minus_100(self) -> None:
        h, w, _, y = _problem(7)
        a = f_linear_cross_entropy(h, w, y, options=object(), ignore_index=None)
        np.testing.assert_allclose(a, _materialised(h, w, np.zeros(w.shape[0]), y), rtol=1e-12)

    def test_ignore_index_with_probabilities_raises(self) -> None:
        # torch: "ignore_index cannot be specified when target contains probabilities", even
        # -100 (its default is None)
        h, w, _, _ = _problem()
        p = np.full((6, 11), 1 / 11)
        for ignore in (-100, -1, 0):
            with pytest.raises(ValueError, match=r"`ignore_index` cannot be given .* got ignore"):
                f_linear_cross_entropy(h, w, p, ignore_index=ignore)
        f_linear_cross_entropy(h, w, p, ignore_index=None)

    def test_softcap_with_probabilities_raises(self) -> None:
        h, w, _, _ = _problem()
        with pytest.raises(ValueError, match="`logit_softcap` needs class-index targets"):
            f_linear_cross_entropy(h, w, np.full((6, 11), 1 / 11), logit_softcap=5.0)


class TestErrors:
    def test_weight_layout(self, make: Any) -> None:
        h, w, _, y = _problem()
        with pytest.raises(ValueError, match=r"`weight` must have shape \(V, 4\)"):
            linear_cross_entropy(make(h), make(w.T), make(y))

    def test_targets_shape(self, make: Any) -> None:
        h, w, _, y = _problem()
        with pytest.raises(ValueError, match=r"`targets` must have shape \(6,\)"):
            linear_cross_entropy(make(h), make(w), make(y[:3]))

    def test_float_targets_on_the_top_level(self, make: Any) -> None:
        h, w, _, y = _problem()
        with pytest.raises(TypeError, match="`targets`"):
            linear_cross_entropy(make(h), make(w), make(y.astype(float)))

    def test_dtype_mismatch(self) -> None:
        h, w, _, y = _problem()
        with pytest.raises(TypeError, match="`weight` must have the input's dtype"):
            linear_cross_entropy(h, w.astype(np.float32), y)

    @pytest.mark.parametrize(
        ("option", "value", "error"),
        [
            ("chunk_size", 0, ValueError),
            ("chunk_size", 2.5, TypeError),
            ("logit_softcap", 0.0, ValueError),
            ("label_smoothing", 1.5, ValueError),
            ("z_loss", -1.0, ValueError),
            ("reduction", "avg", ValueError),
        ],
    )
    def test_options(self, option: str, value: Any, error: type) -> None:
        h, w, _, y = _problem()
        with pytest.raises(error, match=f"`{option}`"):
            linear_cross_entropy(h, w, y, **{option: value})

    def test_label_out_of_range_on_eager_arrays(self) -> None:
        h, w, _, y = _problem()
        y[0] = 11
        with pytest.raises(ValueError, match=r"class indices in \[0, 11\)"):
            linear_cross_entropy(h, w, y)

    def test_out_of_range_label_under_jit_is_nan(self) -> None:
        jax = pytest.importorskip("jax")
        if Backend.JAX.unavailable_reason():
            pytest.skip(Backend.JAX.unavailable_reason())
        h, w, _, y = _problem()
        y[0] = 11
        out = jax.jit(lambda a: linear_cross_entropy(a, w, y, reduction="none"))(h)
        assert np.isnan(np.asarray(out)[0])
        assert np.all(np.isfinite(np.asarray(out)[1:]))


def _params(func: Any) -> list[tuple[str, Any, Any]]:
    import inspect

    return [(p.name, p.default, p.kind) for p in inspect.signature(func).parameters.values()]


_EXTENSIONS = ["z_loss", "chunk_size", "logit_softcap"]


def test_functional_signature_is_torchs_plus_keyword_extensions() -> None:
    tf = _torch_with_linear_ce().nn.functional
    ours, theirs = _params(f_linear_cross_entropy), _params(tf.linear_cross_entropy)
    assert ours[: len(theirs)] == theirs
    assert [n for n, _, _ in ours[len(theirs) :]] == [*_EXTENSIONS, "return_lse"]


class TestLinearCrossEntropyLoss:
    def test_signature_is_torchs_plus_keyword_extensions(self) -> None:
        nn = _torch_with_linear_ce().nn
        from agnostic_losses import LinearCrossEntropyLoss

        ours = _params(LinearCrossEntropyLoss.__init__)
        theirs = _params(nn.LinearCrossEntropyLoss.__init__)
        assert ours[: len(theirs)] == theirs
        assert [n for n, _, _ in ours[len(theirs) :]] == _EXTENSIONS

    def test_loads_torchs_state_dict_and_agrees(self) -> None:
        torch = _torch_with_linear_ce()
        from agnostic_losses import LinearCrossEntropyLoss

        kwargs = {"bias": True, "weight": torch.rand(7) + 0.5, "label_smoothing": 0.1}
        theirs = torch.nn.LinearCrossEntropyLoss(5, 7, **kwargs)
        ours = LinearCrossEntropyLoss(5, 7, chunk_size=3, **kwargs)
        assert ours.state_dict().keys() == theirs.state_dict().keys()
        ours.load_state_dict(theirs.state_dict())
        x = torch.randn(9, 5)
        y = torch.randint(0, 7, (9,))
        y[2] = -100
        a, b = ours(x, y), theirs(x, y)
        a.backward()
        b.backward()
        torch.testing.assert_close(a, b)
        for p, q in zip(ours.linear.parameters(), theirs.linear.parameters()):
            torch.testing.assert_close(p.grad, q.grad)

    def test_module_protocol(self) -> None:
        torch = pytest.importorskip("torch")
        from agnostic_losses import LinearCrossEntropyLoss

        loss = LinearCrossEntropyLoss(3, 4, weight=torch.ones(4)).double()
        assert loss.linear.weight.dtype == torch.float64
        assert loss.weight.dtype == torch.float64  # a buffer, as torch's
        assert "label_smoothing=0.0" in repr(loss)
        assert len(torch.nn.ModuleList([loss])) == 1

    def test_options_are_checked_at_construction(self) -> None:
        from agnostic_losses import LinearCrossEntropyLoss

        with pytest.raises(ValueError, match="`label_smoothing`"):
            LinearCrossEntropyLoss(3, 4, label_smoothing=2.0)
        with pytest.raises(ValueError, match="`chunk_size`"):
            LinearCrossEntropyLoss(3, 4, chunk_size=0)

    def test_k_dimensional_like_torch(self) -> None:
        torch = _torch_with_linear_ce()
        from agnostic_losses import LinearCrossEntropyLoss

        kwargs = {"out_features": (2, 3), "bias": True}
        theirs = torch.nn.LinearCrossEntropyLoss(5, 4, **kwargs)
        ours = LinearCrossEntropyLoss(5, 4, **kwargs)
        ours.load_state_dict(theirs.state_dict())
        x, y = torch.randn(6, 5), torch.randint(0, 4, (6, 2, 3))
        torch.testing.assert_close(ours(x, y), theirs(x, y))


def test_bias_under_jax_strict_rank_promotion() -> None:
    """Both surfaces add the bias with an explicit leading axis: they run under
    ``jax_numpy_rank_promotion="raise"`` with the materialised answer."""
    jax = pytest.importorskip("jax")
    h, w, b, y = _problem(6)
    jh, jw, jb, jy = (jax.numpy.asarray(a) for a in (h, w, b, y))
    want = _materialised(h, w, b, y)
    with jax.numpy_rank_promotion("raise"):
        got = f_linear_cross_entropy(jh, jw, jy, linear_bias=jb)
        top = linear_cross_entropy(jh, jw, jy, jb, chunk_size=4)
    np.testing.assert_allclose(got, want, rtol=1e-5)
    np.testing.assert_allclose(top, want, rtol=1e-5)
