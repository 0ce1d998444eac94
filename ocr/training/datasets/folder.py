"""A folder of labelled crops, ``ROOT/LABEL/anything.png``: what users bring."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from ocr.model.classes import CLASS_INDEX
from ocr.stages.normalize import normalize_batch
from ocr.training.datasets.base import Dataset, file_sha256

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif"}


def crop_to_ink(path: Path) -> np.ndarray:
    """Read a crop as ink = 1 on 0, whatever its paper.

    The median pixel is paper (ink covers well under half of any character crop, even one
    cut tight to the ink), so it gives both the polarity and the paper level: a crop cut from
    a photo has grey or tinted paper, and only the ink's contrast above the paper is ink.
    """
    grey = np.asarray(Image.open(path).convert("L"), dtype=np.float32) / 255.0
    paper = float(np.median(grey))
    ink = paper - grey if paper > 0.5 else grey - paper
    np.clip(ink, 0.0, None, out=ink)
    peak = float(ink.max())
    return ink / peak if peak > 0 else ink


def load_folder(path: Path) -> Dataset:
    """Each sub-folder name is a label (``A``..``Z``, ``0``..``9``, case-insensitive)."""
    images, labels, sha = [], [], {}
    bad: list[str] = []
    for sub in sorted(p for p in path.iterdir() if p.is_dir()):
        label = sub.name.upper()
        if label not in CLASS_INDEX:
            bad.append(sub.name)
            continue
        for f in sorted(sub.rglob("*")):
            if f.suffix.lower() not in IMAGE_SUFFIXES or not f.is_file():
                continue
            try:
                images.append(crop_to_ink(f))
            except (UnidentifiedImageError, OSError) as e:
                raise ValueError(f"{f}: not a readable image ({e})") from e
            labels.append(CLASS_INDEX[label])
            sha[str(f.relative_to(path))] = file_sha256(f)
    if not images:
        hint = f" (ignored folders {bad})" if bad else ""
        raise ValueError(f"{path}: no LABEL/*.png crops found{hint}")
    return Dataset(
        name=f"folder:{path.name}",
        images=normalize_batch(images),
        labels=np.array(labels, dtype=np.int64),
        sha256=sha,
    )
