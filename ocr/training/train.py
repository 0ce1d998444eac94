"""The training loop: mini-batch backprop with augmentation, a learning-rate schedule and
early stopping on validation accuracy (the best epoch's weights are kept)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from ocr.model.mlp import MLP, cross_entropy
from ocr.model.optim import learning_rate, make_optimizer
from ocr.training.augment import AugmentConfig, augment
from ocr.training.datasets.base import Dataset
from schemas.manifest import EpochMetrics


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 25
    batch_size: int = 128
    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.9
    weight_decay: float = 1e-4
    schedule: str = "cosine"
    warmup_epochs: float = 0.5
    patience: int = 6
    """Stop after this many epochs without a better validation accuracy."""
    seed: int = 0
    augment: AugmentConfig | None = field(default_factory=AugmentConfig)

    def to_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["augment"] = None if self.augment is None else self.augment.to_dict()
        return d


@dataclass
class History:
    epochs: list[EpochMetrics] = field(default_factory=list)
    best_epoch: int = -1
    stopped_early: bool = False


def evaluate_loss(model: MLP, ds: Dataset, batch_size: int = 2048) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of the model on a dataset."""
    if len(ds) == 0:
        return float("nan"), float("nan")
    x = ds.images.reshape(len(ds), -1)
    total_loss, correct = 0.0, 0
    for s in range(0, len(ds), batch_size):
        logits = model.forward(x[s : s + batch_size])
        loss, _ = cross_entropy(logits, ds.labels[s : s + batch_size])
        total_loss += loss * len(logits)
        correct += int((logits.argmax(axis=1) == ds.labels[s : s + batch_size]).sum())
    return total_loss / len(ds), correct / len(ds)


EpochCallback = Callable[[EpochMetrics], None]
BatchCallback = Callable[[int, int], None]


def train(
    model: MLP,
    train_set: Dataset,
    valid_set: Dataset,
    cfg: TrainConfig,
    on_epoch: EpochCallback | None = None,
    on_batch: BatchCallback | None = None,
) -> History:
    """Train ``model`` in place; on return it holds the weights of the best epoch."""
    rng = np.random.default_rng(cfg.seed)
    opt = make_optimizer(cfg.optimizer, model.layers, cfg.lr, cfg.momentum, cfg.weight_decay)
    n = len(train_set)
    steps_per_epoch = max(1, (n + cfg.batch_size - 1) // cfg.batch_size)
    total = steps_per_epoch * cfg.epochs
    warmup = int(cfg.warmup_epochs * steps_per_epoch)
    history = History()
    best_acc, best_state, stale, step = -1.0, model.state(), 0, 0
    for epoch in range(cfg.epochs):
        start = time.perf_counter()
        order = rng.permutation(n)
        loss_sum, correct = 0.0, 0
        lr = cfg.lr
        for bi, s in enumerate(range(0, n, cfg.batch_size)):
            idx = order[s : s + cfg.batch_size]
            xb = train_set.images[idx]
            if cfg.augment is not None:
                xb = augment(xb, rng, cfg.augment)
            yb = train_set.labels[idx]
            lr = learning_rate(cfg.schedule, cfg.lr, step, total, warmup)
            opt.lr = lr
            logits = model.forward(xb.reshape(len(idx), -1), train=True)
            loss, grad = cross_entropy(logits, yb)
            model.backward(grad.astype(logits.dtype))
            opt.step()
            step += 1
            loss_sum += loss * len(idx)
            correct += int((logits.argmax(axis=1) == yb).sum())
            if on_batch is not None:
                on_batch(bi + 1, steps_per_epoch)
        v_loss, v_acc = evaluate_loss(model, valid_set)
        rec = EpochMetrics(
            epoch=epoch + 1,
            train_loss=loss_sum / n,
            train_acc=correct / n,
            valid_loss=v_loss,
            valid_acc=v_acc,
            lr=lr,
            seconds=time.perf_counter() - start,
        )
        history.epochs.append(rec)
        if on_epoch is not None:
            on_epoch(rec)
        if v_acc > best_acc or np.isnan(v_acc):
            best_acc, best_state, stale = v_acc, {k: v.copy() for k, v in model.state().items()}, 0
            history.best_epoch = epoch + 1
        else:
            stale += 1
            if stale >= cfg.patience:
                history.stopped_early = True
                break
    model.load_state(best_state)
    return history
