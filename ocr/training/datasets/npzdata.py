"""Our own dataset format: ``.npz`` with ``images`` (N, 32, 32) float32 (canonical form),
``labels`` (N,) int and optional ``groups`` (N,) int. Arrays only; read without pickle."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ocr.training.datasets.base import Dataset, file_sha256


def save_npz(dataset: Dataset, path: Path) -> None:
    np.savez_compressed(path, images=dataset.images, labels=dataset.labels, groups=dataset.groups)


def load_npz(path: Path) -> Dataset:
    with np.load(path, allow_pickle=False) as z:
        missing = {"images", "labels"} - set(z.files)
        if missing:
            raise ValueError(f"{path}: missing arrays {sorted(missing)}")
        groups = z["groups"].astype(np.int64) if "groups" in z.files else np.zeros(0, np.int64)
        return Dataset(
            name=f"npz:{path.name}",
            images=z["images"].astype(np.float32),
            labels=z["labels"].astype(np.int64),
            groups=groups,
            sha256={path.name: file_sha256(path)},
        )
