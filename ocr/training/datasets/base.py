"""The canonical dataset container every loader returns."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ocr.model.classes import NUM_OUTPUTS
from ocr.stages.normalize import SIZE


@dataclass
class Dataset:
    """Normalized glyphs with labels.

    ``groups`` says who wrote each sample where the source knows (Chars74K writer index),
    so splits can keep writers apart; -1 where unknown. ``strokes`` keeps the raw pen
    strokes of stroke datasets so training can re-render them with other pens.
    """

    name: str
    images: NDArray[np.float32]
    labels: NDArray[np.int64]
    groups: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    sha256: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.groups.size == 0:
            self.groups = np.full(len(self.labels), -1, dtype=np.int64)
        if self.images.ndim != 3 or self.images.shape[1:] != (SIZE, SIZE):
            raise ValueError(
                f"{self.name}: images must be (N, {SIZE}, {SIZE}), got {self.images.shape}"
            )
        if not (len(self.images) == len(self.labels) == len(self.groups)):
            raise ValueError(f"{self.name}: images, labels and groups differ in length")
        if len(self.labels) and (self.labels.min() < 0 or self.labels.max() >= NUM_OUTPUTS):
            raise ValueError(f"{self.name}: labels outside 0..{NUM_OUTPUTS - 1}")

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, index: NDArray[np.integer], name: str | None = None) -> Dataset:
        return Dataset(
            name=name or self.name,
            images=self.images[index],
            labels=self.labels[index],
            groups=self.groups[index],
            sha256=dict(self.sha256),
        )

    @staticmethod
    def concat(parts: list[Dataset], name: str) -> Dataset:
        sha: dict[str, str] = {}
        for p in parts:
            sha.update(p.sha256)
        return Dataset(
            name=name,
            images=np.concatenate([p.images for p in parts]),
            labels=np.concatenate([p.labels for p in parts]),
            groups=np.concatenate([p.groups for p in parts]),
            sha256=sha,
        )


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
