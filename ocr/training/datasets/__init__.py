"""Dataset loaders and the ``KIND:PATH`` registry.

Every loader returns a :class:`Dataset` in the canonical form: ``images`` (N, 32, 32) float32
in [0, 1] with ink = 1, normalized by :func:`ocr.stages.normalize.normalize_glyph`, and
``labels`` over :data:`ocr.model.classes.CLASSES`. Loaders import only ``base`` (the
container); this registry imports the loaders, so there is no import circle.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ocr.training.datasets.base import Dataset, file_sha256
from ocr.training.datasets.chars74k import load_chars74k
from ocr.training.datasets.emnist import load_emnist
from ocr.training.datasets.folder import load_folder
from ocr.training.datasets.fonts import load_fonts
from ocr.training.datasets.mat import load_mat
from ocr.training.datasets.npzdata import load_npz

LOADERS: dict[str, Callable[[Path], Dataset]] = {
    "mat": load_mat,
    "emnist": load_emnist,
    "chars74k": load_chars74k,
    "folder": load_folder,
    "npz": load_npz,
    "fonts": load_fonts,
}
KINDS = tuple(LOADERS)


def parse_spec(spec: str) -> tuple[str, Path]:
    """Split 'KIND:PATH' and check KIND."""
    kind, sep, path = spec.partition(":")
    if not sep or kind not in LOADERS:
        raise ValueError(
            f"dataset spec {spec!r} must be KIND:PATH with KIND one of {', '.join(KINDS)}"
        )
    return kind, Path(path)


def load(spec: str) -> Dataset:
    """Load a dataset from 'KIND:PATH'."""
    kind, path = parse_spec(spec)
    if not path.exists():
        raise FileNotFoundError(f"{kind} dataset not found: {path}")
    return LOADERS[kind](path)


__all__ = ["KINDS", "LOADERS", "Dataset", "file_sha256", "load", "parse_spec"]
