"""Deterministic train / valid / test splits.

Samples with a known writer (``groups >= 0``) are split by writer, so test writers are
unseen in training; the rest by a seeded permutation.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ocr.training.datasets.base import Dataset

SAMPLE_FRACTIONS: tuple[float, float, float] = (0.8, 0.1, 0.1)
"""Train, valid, test shares of samples whose writer is unknown (EMNIST)."""

WRITER_FRACTIONS: tuple[float, float, float] = (0.65, 0.1, 0.25)
"""Train, valid, test shares of writers where known (Chars74K: 26 / 4 / 10 of 40 writers);
the test share is large because each held-out writer is only 36 glyphs."""


def _three_way(items: NDArray[np.int64], fractions: tuple[float, float, float], seed: int):
    rng = np.random.default_rng(seed)
    order = rng.permutation(items)
    n = len(order)
    n_test = int(round(fractions[2] * n))
    n_valid = int(round(fractions[1] * n))
    return order[n_test + n_valid :], order[n_test : n_test + n_valid], order[:n_test]


def split(
    ds: Dataset,
    seed: int = 0,
    sample_fractions: tuple[float, float, float] = SAMPLE_FRACTIONS,
    writer_fractions: tuple[float, float, float] = WRITER_FRACTIONS,
) -> tuple[Dataset, Dataset, Dataset]:
    """Return (train, valid, test); the same input and seed always give the same split."""
    known = ds.groups >= 0
    idx = {"train": [], "valid": [], "test": []}  # type: dict[str, list[NDArray[np.int64]]]
    if known.any():
        writers = np.unique(ds.groups[known])
        parts = _three_way(writers, writer_fractions, seed)
        for key, chosen in zip(idx, parts, strict=True):
            idx[key].append(np.flatnonzero(known & np.isin(ds.groups, chosen)))
    if (~known).any():
        parts = _three_way(np.flatnonzero(~known), sample_fractions, seed)
        for key, chosen in zip(idx, parts, strict=True):
            idx[key].append(np.sort(chosen))
    out = []
    for key, chunks in idx.items():
        index = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int64)
        out.append(ds.subset(index, name=f"{ds.name}/{key}"))
    return out[0], out[1], out[2]
