"""The course `.mat` format (NIST36 / NIST26)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.io

from ocr.model.classes import CLASS_INDEX
from ocr.stages.normalize import normalize_batch
from ocr.training.datasets.base import Dataset, file_sha256

COURSE_ORDER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
"""Column order of the one-hot labels: A-Z then 0-9 (NIST26 stops after Z)."""


def load_mat(path: Path) -> Dataset:
    """Read every ``{split}_data`` / ``{split}_labels`` pair in the file.

    Rows are 32x32 column-major with dark ink on white: ``row.reshape(32, 32).T`` is upright.
    """
    m = scipy.io.loadmat(str(path))
    splits = sorted(k[: -len("_data")] for k in m if k.endswith("_data"))
    if not splits:
        raise ValueError(f"{path}: no '*_data' arrays in this .mat file")
    images, labels = [], []
    for split in splits:
        data = np.asarray(m[f"{split}_data"], dtype=np.float32)
        onehot = np.asarray(m[f"{split}_labels"])
        if data.shape[1] != 1024 or onehot.shape[0] != data.shape[0]:
            raise ValueError(f"{path}: {split} has shapes {data.shape} / {onehot.shape}")
        if onehot.shape[1] not in (26, 36):
            raise ValueError(f"{path}: {split}_labels has {onehot.shape[1]} classes, want 26 or 36")
        upright = data.reshape(-1, 32, 32).transpose(0, 2, 1)
        ink = 1.0 - np.clip(upright, 0.0, 1.0)
        images.append(normalize_batch(ink))
        cols = onehot.argmax(axis=1)
        labels.append(np.array([CLASS_INDEX[COURSE_ORDER[c]] for c in cols], dtype=np.int64))
    return Dataset(
        name=f"mat:{path.name}",
        images=np.concatenate(images),
        labels=np.concatenate(labels),
        sha256={path.name: file_sha256(path)},
    )
