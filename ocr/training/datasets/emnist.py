"""EMNIST packed mosaics: ``X_{split}_LO_to_HI.webp`` + ``{split}.json``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
from PIL import Image

from ocr.model.classes import CLASS_INDEX
from ocr.stages.normalize import normalize_batch
from ocr.training.datasets.base import Dataset, file_sha256

TILE = 28
"""EMNIST tile side in pixels."""

CHUNK_NAME = re.compile(r"X_(?P<split>[a-z]+)_(?P<lo>\d+)_to_(?P<hi>\d+)\.webp$")


def load_emnist(path: Path) -> Dataset:
    """Load every mosaic in a folder (or one mosaic file), keeping only our 36 classes.

    Tiles are white ink on black, which is already our polarity (ink = 1).
    """
    files = sorted(path.glob("X_*.webp")) if path.is_dir() else [path]
    if not files:
        raise ValueError(f"{path}: no X_<split>_<lo>_to_<hi>.webp mosaics")
    meta_cache: dict[Path, dict[str, list[int]]] = {}
    images, labels, sha = [], [], {}
    for f in files:
        m = CHUNK_NAME.search(f.name)
        if m is None:
            raise ValueError(f"{f}: name is not X_<split>_<lo>_to_<hi>.webp")
        meta_path = f.parent / f"{m['split']}.json"
        if meta_path not in meta_cache:
            meta_cache[meta_path] = json.loads(meta_path.read_text())
            sha[meta_path.name] = file_sha256(meta_path)
        meta = meta_cache[meta_path]
        lo, hi = int(m["lo"]), int(m["hi"])
        mosaic = np.asarray(Image.open(f).convert("L"), dtype=np.uint8)
        h, w = mosaic.shape
        tiles = (
            mosaic.reshape(h // TILE, TILE, w // TILE, TILE).swapaxes(1, 2).reshape(-1, TILE, TILE)
        )
        count = hi - lo + 1
        if len(tiles) < count:
            raise ValueError(f"{f}: {len(tiles)} tiles, name promises {count}")
        chars = [chr(meta["mapping"][i]) for i in meta["id"][lo : hi + 1]]
        keep = np.array([c in CLASS_INDEX for c in chars], dtype=bool)
        images.append(normalize_batch(tiles[:count][keep].astype(np.float32) / 255.0))
        labels.append(np.array([CLASS_INDEX[c] for c, k in zip(chars, keep, strict=True) if k]))
        sha[f.name] = file_sha256(f)
    return Dataset(
        name=f"emnist:{path.name}",
        images=np.concatenate(images),
        labels=np.concatenate(labels).astype(np.int64),
        sha256=sha,
    )
