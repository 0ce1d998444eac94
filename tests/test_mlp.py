"""The network: gradients against central differences, stability, and that it learns."""

from __future__ import annotations

import numpy as np
import pytest

from ocr.model.mlp import ACTIVATIONS, MLP, Architecture, Dense, Dropout, cross_entropy, softmax
from ocr.model.optim import SGD, Adam, learning_rate


def numeric_grad(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    g = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + eps
        up = f()
        x[i] = old - eps
        down = f()
        x[i] = old
        g[i] = (up - down) / (2 * eps)
    return g


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).max() / max(1e-12, np.abs(a).max() + np.abs(b).max()))


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_gradient_check_every_layer(activation: str) -> None:
    rng = np.random.default_rng(0)
    net = MLP(Architecture(n_in=6, hidden=(5, 4), n_out=3, activation=activation), dtype=np.float64)
    x = rng.normal(size=(7, 6))
    y = rng.integers(0, 3, size=7)
    # Non-zero biases keep ReLU inputs off the kink at exactly 0 (a unit whose inputs are
    # all dead would otherwise sit there), where the derivative is undefined.
    for layer in net.dense_layers():
        layer.params["b"] = rng.normal(0, 0.5, layer.params["b"].shape)

    def loss() -> float:
        return cross_entropy(net.forward(x, train=True), y)[0]

    _, grad = cross_entropy(net.forward(x, train=True), y)
    net.backward(grad)
    for layer in net.dense_layers():
        for name, p in layer.params.items():
            analytic = layer.grads[name].copy()
            numeric = numeric_grad(loss, p)
            assert rel_error(analytic, numeric) < 1e-6, (activation, name)


def test_gradient_check_input_and_dropout() -> None:
    """Backprop to the input through dropout with a fixed mask."""
    rng = np.random.default_rng(1)
    dense = Dense(4, 3, rng, dtype=np.float64)
    drop = Dropout(0.3, np.random.default_rng(5))
    x = rng.normal(size=(5, 4))
    y = rng.integers(0, 3, size=5)
    h = drop.forward(x, train=True)
    mask = drop._mask
    assert mask is not None

    def loss() -> float:
        return cross_entropy(dense.forward(x * mask, train=True), y)[0]

    _, g = cross_entropy(dense.forward(h, train=True), y)
    gx = drop.backward(dense.backward(g))
    assert rel_error(gx, numeric_grad(loss, x)) < 1e-6


def test_softmax_is_stable_for_huge_logits() -> None:
    logits = np.array([[1000.0, 1001.0, 999.0], [-1e4, 0.0, 1e4]])
    p = softmax(logits)
    assert np.isfinite(p).all()
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    loss, grad = cross_entropy(logits, np.array([1, 2]))
    assert np.isfinite(loss) and np.isfinite(grad).all()


def test_initialization_scales() -> None:
    rng = np.random.default_rng(0)
    he = Dense(1000, 500, rng, init="he").params["W"]
    xavier = Dense(1000, 500, rng, init="xavier").params["W"]
    assert abs(he.std() - np.sqrt(2 / 1000)) < 0.002
    assert abs(xavier.std() - np.sqrt(2 / 1500)) < 0.002


def toy_problem(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Three Gaussian blobs in 2-D, plus an XOR-like twist a linear model cannot solve."""
    centres = np.array([[0, 0], [3, 3], [0, 3], [3, 0]])
    labels = np.array([0, 0, 1, 1])
    k = rng.integers(0, 4, n)
    x = centres[k] + rng.normal(0, 0.5, (n, 2))
    return x.astype(np.float32), labels[k]


@pytest.mark.parametrize("opt", ["sgd", "adam"])
def test_learns_xor_blobs(opt: str) -> None:
    rng = np.random.default_rng(0)
    x, y = toy_problem(2000, rng)
    net = MLP(Architecture(n_in=2, hidden=(16,), n_out=2), seed=0)
    optimizer = SGD(net.layers, lr=0.1) if opt == "sgd" else Adam(net.layers, lr=0.01)
    for _ in range(30):
        for s in range(0, len(x), 64):
            logits = net.forward(x[s : s + 64], train=True)
            _, g = cross_entropy(logits, y[s : s + 64])
            net.backward(g)
            optimizer.step()
    xt, yt = toy_problem(500, np.random.default_rng(1))
    acc = (net.predict_proba(xt).argmax(axis=1) == yt).mean()
    assert acc > 0.97


def test_state_roundtrip_and_shape_check() -> None:
    a = MLP(Architecture(n_in=8, hidden=(5,), n_out=3), seed=1)
    b = MLP(Architecture(n_in=8, hidden=(5,), n_out=3), seed=2)
    b.load_state(a.state())
    x = np.random.default_rng(0).random((4, 8), dtype=np.float32)
    np.testing.assert_array_equal(a.predict_proba(x), b.predict_proba(x))
    wrong = MLP(Architecture(n_in=8, hidden=(6,), n_out=3))
    with pytest.raises(ValueError, match="shape"):
        wrong.load_state(a.state())


def test_schedules() -> None:
    assert learning_rate("cosine", 1.0, 0, 100) == pytest.approx(1.0)
    assert learning_rate("cosine", 1.0, 50, 100) == pytest.approx(0.5)
    assert learning_rate("cosine", 1.0, 100, 100) == pytest.approx(0.0)
    assert learning_rate("step", 1.0, 80, 100) == pytest.approx(0.01)
    assert learning_rate("cosine", 1.0, 4, 100, warmup=10) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        learning_rate("bogus", 1.0, 0, 10)


def test_weight_decay_shrinks_weights_without_gradient() -> None:
    net = MLP(Architecture(n_in=4, hidden=(3,), n_out=2))
    for layer in net.dense_layers():
        for k in layer.grads:
            layer.grads[k] = np.zeros_like(layer.params[k])
    before = float(np.abs(net.dense_layers()[0].params["W"]).sum())
    SGD(net.layers, lr=0.1, weight_decay=0.5).step()
    assert float(np.abs(net.dense_layers()[0].params["W"]).sum()) < before
