"""Accuracy, per-class accuracy, confusion matrix and the most frequent confusions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ocr.model.classes import NUM_OUTPUTS, OUTPUTS

MERGE_AMBIGUOUS = {"0": "O", "1": "I"}
"""Readings that isolated glyphs cannot tell apart; reported as an extra, lenient figure."""


@dataclass
class Confusion:
    true: str
    predicted: str
    count: int
    rate: float
    """count / number of samples of the true class."""


@dataclass
class Evaluation:
    samples: int
    accuracy: float
    accuracy_merged: float
    """Accuracy when O/0 and I/1 count as the same reading."""
    per_class: dict[str, float]
    matrix: NDArray[np.int64]
    top_confusions: list[Confusion]


def confusion_matrix(
    labels: NDArray[np.integer], predicted: NDArray[np.integer]
) -> NDArray[np.int64]:
    m = np.zeros((NUM_OUTPUTS, NUM_OUTPUTS), dtype=np.int64)
    np.add.at(m, (labels, predicted), 1)
    return m


def top_confusions(matrix: NDArray[np.int64], k: int = 10) -> list[Confusion]:
    off = matrix.copy()
    np.fill_diagonal(off, 0)
    support = matrix.sum(axis=1)
    order = np.argsort(off, axis=None)[::-1][:k]
    out = []
    for flat in order:
        t, p = divmod(int(flat), NUM_OUTPUTS)
        if off[t, p] == 0:
            break
        out.append(Confusion(OUTPUTS[t], OUTPUTS[p], int(off[t, p]), float(off[t, p] / support[t])))
    return out


def evaluate_predictions(labels: NDArray[np.integer], probs: NDArray[np.floating]) -> Evaluation:
    predicted = probs.argmax(axis=1)
    matrix = confusion_matrix(labels, predicted)
    merge = np.arange(NUM_OUTPUTS)
    for a, b in MERGE_AMBIGUOUS.items():
        merge[OUTPUTS.index(a)] = OUTPUTS.index(b)
    support = matrix.sum(axis=1)
    per_class = {
        OUTPUTS[i]: float(matrix[i, i] / support[i]) for i in range(NUM_OUTPUTS) if support[i]
    }
    n = len(labels)
    return Evaluation(
        samples=n,
        accuracy=float((predicted == labels).mean()) if n else float("nan"),
        accuracy_merged=float((merge[predicted] == merge[labels]).mean()) if n else float("nan"),
        per_class=per_class,
        matrix=matrix,
        top_confusions=top_confusions(matrix),
    )
