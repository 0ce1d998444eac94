"""Optimizers and learning-rate schedules for :class:`ocr.model.mlp.MLP`."""

from __future__ import annotations

import math

import numpy as np

from ocr.model.mlp import Layer


class Optimizer:
    """Updates every parameter of the given layers from their ``grads``.

    Weight decay is decoupled (AdamW-style, also for SGD) and skips biases.
    """

    def __init__(self, layers: list[Layer], lr: float, weight_decay: float = 0.0) -> None:
        self.layers = [layer for layer in layers if layer.params]
        self.lr = lr
        self.weight_decay = weight_decay

    def step(self) -> None:
        for li, layer in enumerate(self.layers):
            for name, p in layer.params.items():
                g = layer.grads[name]
                p -= self.update(f"{li}.{name}", p, g)
                if self.weight_decay and name == "W":
                    p -= self.lr * self.weight_decay * p

    def update(self, key: str, p: np.ndarray, g: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class SGD(Optimizer):
    """SGD with (optionally Nesterov) momentum."""

    def __init__(
        self,
        layers: list[Layer],
        lr: float,
        momentum: float = 0.9,
        weight_decay: float = 0.0,
        nesterov: bool = True,
    ) -> None:
        super().__init__(layers, lr, weight_decay)
        self.momentum = momentum
        self.nesterov = nesterov
        self.velocity: dict[str, np.ndarray] = {}

    def update(self, key: str, p: np.ndarray, g: np.ndarray) -> np.ndarray:
        v = self.velocity.get(key)
        v = g.copy() if v is None else self.momentum * v + g
        self.velocity[key] = v
        step = g + self.momentum * v if self.nesterov else v
        return self.lr * step


class Adam(Optimizer):
    """Adam (Kingma & Ba) with decoupled weight decay."""

    def __init__(
        self,
        layers: list[Layer],
        lr: float,
        weight_decay: float = 0.0,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
    ) -> None:
        super().__init__(layers, lr, weight_decay)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.m: dict[str, np.ndarray] = {}
        self.v: dict[str, np.ndarray] = {}
        self.t = 0

    def step(self) -> None:
        self.t += 1
        super().step()

    def update(self, key: str, p: np.ndarray, g: np.ndarray) -> np.ndarray:
        m = self.m.setdefault(key, np.zeros_like(p))
        v = self.v.setdefault(key, np.zeros_like(p))
        m *= self.beta1
        m += (1 - self.beta1) * g
        v *= self.beta2
        v += (1 - self.beta2) * g * g
        m_hat = m / (1 - self.beta1**self.t)
        v_hat = v / (1 - self.beta2**self.t)
        return self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


def make_optimizer(
    name: str, layers: list[Layer], lr: float, momentum: float, weight_decay: float
) -> Optimizer:
    if name == "adam":
        return Adam(layers, lr, weight_decay=weight_decay)
    if name == "sgd":
        return SGD(layers, lr, momentum=momentum, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}; choose adam or sgd")


def learning_rate(schedule: str, base: float, step: int, total: int, warmup: int = 0) -> float:
    """Learning rate at ``step`` of ``total``: linear warm-up, then 'cosine', 'step' (x0.1 at
    50% and 75%) or 'constant'."""
    if warmup and step < warmup:
        return base * (step + 1) / warmup
    frac = (step - warmup) / max(1, total - warmup)
    if schedule == "cosine":
        return base * 0.5 * (1 + math.cos(math.pi * min(1.0, frac)))
    if schedule == "step":
        return base * (0.1 ** (int(frac >= 0.5) + int(frac >= 0.75)))
    if schedule == "constant":
        return base
    raise ValueError(f"unknown schedule {schedule!r}; choose cosine, step or constant")
