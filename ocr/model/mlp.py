"""A small multi-layer perceptron in NumPy: layers, activations, loss, backprop.

Plain on purpose (in the spirit of micrograd): every layer has ``forward`` that caches
what ``backward`` needs and ``backward`` that returns the gradient with respect to its
input and stores parameter gradients in ``grads``. Training runs in float32; the gradient
check runs the same code in float64.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.floating]

ACTIVATIONS = ("relu", "tanh", "sigmoid")


class Layer:
    """Base class: a layer without parameters."""

    params: dict[str, Array]
    grads: dict[str, Array]

    def __init__(self) -> None:
        self.params = {}
        self.grads = {}

    def forward(self, x: Array, train: bool = False) -> Array:
        raise NotImplementedError

    def backward(self, grad: Array) -> Array:
        raise NotImplementedError


class Dense(Layer):
    """y = x W + b. ``init`` is 'he' (for ReLU) or 'xavier' (Glorot, for tanh/sigmoid)."""

    def __init__(
        self,
        n_in: int,
        n_out: int,
        rng: np.random.Generator,
        init: str = "he",
        dtype: type = np.float32,
    ) -> None:
        super().__init__()
        if init == "he":
            std = np.sqrt(2.0 / n_in)
            w = rng.normal(0.0, std, size=(n_in, n_out))
        elif init == "xavier":
            limit = np.sqrt(6.0 / (n_in + n_out))
            w = rng.uniform(-limit, limit, size=(n_in, n_out))
        else:
            raise ValueError(f"unknown init {init!r}")
        self.params = {"W": w.astype(dtype), "b": np.zeros(n_out, dtype=dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self._x: Array | None = None

    def forward(self, x: Array, train: bool = False) -> Array:
        self._x = x if train else None
        return x @ self.params["W"] + self.params["b"]

    def backward(self, grad: Array) -> Array:
        assert self._x is not None, "backward() needs a forward(train=True) first"
        self.grads["W"] = self._x.T @ grad
        self.grads["b"] = grad.sum(axis=0)
        return grad @ self.params["W"].T


class ReLU(Layer):
    _mask: NDArray[np.bool_]

    def forward(self, x: Array, train: bool = False) -> Array:
        if train:
            self._mask = x > 0
        return np.maximum(x, 0)

    def backward(self, grad: Array) -> Array:
        return grad * self._mask


class Tanh(Layer):
    def forward(self, x: Array, train: bool = False) -> Array:
        out = np.tanh(x)
        self._out = out
        return out

    def backward(self, grad: Array) -> Array:
        return grad * (1.0 - self._out**2)


class Sigmoid(Layer):
    def forward(self, x: Array, train: bool = False) -> Array:
        # Split by sign so exp never overflows.
        out = np.empty_like(x)
        pos = x >= 0
        out[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
        ex = np.exp(x[~pos])
        out[~pos] = ex / (1.0 + ex)
        self._out = out
        return out

    def backward(self, grad: Array) -> Array:
        return grad * self._out * (1.0 - self._out)


class Dropout(Layer):
    """Inverted dropout: scales at training time so inference is a no-op."""

    def __init__(self, rate: float, rng: np.random.Generator) -> None:
        super().__init__()
        self.rate = rate
        self.rng = rng
        self._mask: Array | None = None

    def forward(self, x: Array, train: bool = False) -> Array:
        if not train or self.rate <= 0:
            self._mask = None
            return x
        keep = 1.0 - self.rate
        self._mask = (self.rng.random(x.shape, dtype=np.float32) < keep).astype(x.dtype) / keep
        return x * self._mask

    def backward(self, grad: Array) -> Array:
        return grad if self._mask is None else grad * self._mask


def make_activation(name: str) -> Layer:
    if name == "relu":
        return ReLU()
    if name == "tanh":
        return Tanh()
    if name == "sigmoid":
        return Sigmoid()
    raise ValueError(f"unknown activation {name!r}; choose from {ACTIVATIONS}")


def softmax(logits: Array) -> Array:
    """Row-wise softmax with the max shifted out, so large logits do not overflow."""
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def cross_entropy(logits: Array, labels: NDArray[np.integer]) -> tuple[float, Array]:
    """Mean softmax cross-entropy and its gradient with respect to the logits."""
    n = logits.shape[0]
    z = logits - logits.max(axis=1, keepdims=True)
    log_sum = np.log(np.exp(z).sum(axis=1, keepdims=True))
    log_p = z - log_sum
    loss = float(-log_p[np.arange(n), labels].mean())
    grad = np.exp(log_p)
    grad[np.arange(n), labels] -= 1.0
    return loss, grad / n


@dataclass(frozen=True)
class Architecture:
    """What a network looks like; stored in the model manifest."""

    n_in: int = 1024
    hidden: tuple[int, ...] = (1024, 512)
    n_out: int = 37
    """The 36 characters and "not a character" (:data:`ocr.model.classes.OUTPUTS`)."""
    activation: str = "relu"
    dropout: float = 0.0


@dataclass
class MLP:
    """Dense -> activation [-> dropout] ... -> Dense (logits)."""

    arch: Architecture
    seed: int = 0
    dtype: type = np.float32
    layers: list[Layer] = field(init=False)

    def __post_init__(self) -> None:
        rng = np.random.default_rng(self.seed)
        init = "he" if self.arch.activation == "relu" else "xavier"
        sizes = [self.arch.n_in, *self.arch.hidden, self.arch.n_out]
        self.layers = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            last = i == len(sizes) - 2
            self.layers.append(Dense(a, b, rng, init="xavier" if last else init, dtype=self.dtype))
            if not last:
                self.layers.append(make_activation(self.arch.activation))
                if self.arch.dropout > 0:
                    self.layers.append(Dropout(self.arch.dropout, rng))

    def forward(self, x: Array, train: bool = False) -> Array:
        for layer in self.layers:
            x = layer.forward(x, train=train)
        return x

    def backward(self, grad: Array) -> None:
        for layer in reversed(self.layers):
            grad = layer.backward(grad)

    def predict_proba(self, x: Array, batch_size: int = 4096) -> NDArray[np.float32]:
        """Class probabilities for (N, n_in) inputs, in float32 chunks of batch_size."""
        x = np.asarray(x, dtype=self.dtype).reshape(len(x), -1)
        out = np.empty((len(x), self.arch.n_out), dtype=np.float32)
        for s in range(0, len(x), batch_size):
            out[s : s + batch_size] = softmax(self.forward(x[s : s + batch_size]))
        return out

    def dense_layers(self) -> list[Dense]:
        return [layer for layer in self.layers if isinstance(layer, Dense)]

    def state(self) -> dict[str, NDArray[np.floating]]:
        """Arrays only, named W0, b0, W1, ...; saved as .npz without pickle."""
        out: dict[str, NDArray[np.floating]] = {}
        for i, layer in enumerate(self.dense_layers()):
            out[f"W{i}"] = layer.params["W"]
            out[f"b{i}"] = layer.params["b"]
        return out

    def load_state(self, arrays: dict[str, NDArray[np.floating]]) -> None:
        dense = self.dense_layers()
        for i, layer in enumerate(dense):
            for name in ("W", "b"):
                key = f"{name}{i}"
                value: Array = np.asarray(arrays[key], dtype=self.dtype)
                if value.shape != layer.params[name].shape:
                    raise ValueError(
                        f"{key} has shape {value.shape}, architecture wants "
                        f"{layer.params[name].shape}"
                    )
                layer.params[name] = value
