"""Every loader, on small fixtures written by the tests, gives the canonical form."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import scipy.io
from PIL import Image

from ocr.model.classes import CLASS_INDEX, CLASSES
from ocr.stages.normalize import SIZE
from ocr.training.datasets import Dataset, load
from ocr.training.datasets.npzdata import save_npz
from ocr.training.split import split


def glyph_l(size: int = 28) -> np.ndarray:
    """An 'L': a vertical and a horizontal bar, ink = 1."""
    g = np.zeros((size, size), dtype=np.float32)
    g[4:24, 6:10] = 1
    g[20:24, 6:22] = 1
    return g


def check_canonical(ds: Dataset, n: int) -> None:
    assert len(ds) == n
    assert ds.images.shape == (n, SIZE, SIZE) and ds.images.dtype == np.float32
    assert 0.0 <= ds.images.min() and ds.images.max() <= 1.0
    # Ink = 1 polarity: the border of every normalized glyph is background.
    border = np.concatenate([ds.images[:, 0], ds.images[:, -1]], axis=1)
    assert border.max() < 0.5
    assert ds.sha256 and all(len(v) == 64 for v in ds.sha256.values())


def test_mat_loader_column_major_dark_ink(tmp_path: Path) -> None:
    n = 4
    upright = np.stack([1.0 - glyph_l(32)] * n)  # dark ink on white
    rows = upright.transpose(0, 2, 1).reshape(n, 1024)  # column-major, as the course stores
    labels = np.zeros((n, 36))
    for i, c in enumerate("AZ09"):
        labels[i, CLASSES.index(c)] = 1
    path = tmp_path / "nist36_train.mat"
    scipy.io.savemat(path, {"train_data": rows, "train_labels": labels})
    ds = load(f"mat:{path}")
    check_canonical(ds, n)
    assert "".join(CLASSES[i] for i in ds.labels) == "AZ09"
    # The L's horizontal bar is at the bottom: upright, not transposed.
    assert ds.images[0, 20:28].sum() > ds.images[0, 4:12].sum()
    # The L's vertical bar is on the left.
    assert ds.images[0][:, :14].sum() > ds.images[0][:, 18:].sum()


def test_mat_loader_nist26(tmp_path: Path) -> None:
    rows = np.stack([(1.0 - glyph_l(32)).T.reshape(-1)] * 2)
    labels = np.zeros((2, 26))
    labels[0, 0] = labels[1, 25] = 1
    path = tmp_path / "nist26.mat"
    scipy.io.savemat(path, {"valid_data": rows, "valid_labels": labels})
    ds = load(f"mat:{path}")
    assert [CLASSES[i] for i in ds.labels] == ["A", "Z"]


def test_emnist_loader_filters_to_36_classes(tmp_path: Path) -> None:
    mapping = [ord(c) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"]
    chars = "A7bZ0q"  # b and q are dropped
    ids = [mapping.index(ord(c)) for c in chars]
    lo = 10
    meta = {"mapping": mapping, "id": [0] * lo + ids, "bbox": []}
    (tmp_path / "test.json").write_text(json.dumps(meta))
    tiles = [(glyph_l() * 255).astype(np.uint8) for _ in chars] + [np.zeros((28, 28), np.uint8)] * 2
    mosaic = np.concatenate([np.concatenate(tiles[:4], axis=1), np.concatenate(tiles[4:], axis=1)])
    Image.fromarray(mosaic).save(
        tmp_path / f"X_test_{lo}_to_{lo + len(chars) - 1}.webp", lossless=True
    )
    ds = load(f"emnist:{tmp_path}")
    check_canonical(ds, 4)
    assert "".join(CLASSES[i] for i in ds.labels) == "A7Z0"


def test_chars74k_loader_groups_by_writer(tmp_path: Path) -> None:
    stroke_l = [[[10, 10], [10, 90]], [[10, 90], [60, 90]]]
    data = {
        "L": [stroke_l, stroke_l, stroke_l],
        "7": [[[[0, 0], [50, 0], [20, 80]]]] * 3,
        "a": [[]],
    }
    path = tmp_path / "strokes.json"
    path.write_text(json.dumps(data))
    ds = load(f"chars74k:{path}")
    check_canonical(ds, 6)
    assert sorted(ds.groups.tolist()) == [0, 0, 1, 1, 2, 2]
    assert set(ds.labels.tolist()) == {CLASS_INDEX["L"], CLASS_INDEX["7"]}


def test_folder_loader_reads_dark_on_light_crops(tmp_path: Path) -> None:
    for label in ("A", "b", "7"):
        (tmp_path / label).mkdir()
        Image.fromarray(((1 - glyph_l(40)) * 255).astype(np.uint8)).save(tmp_path / label / "x.png")
    (tmp_path / "7" / "notes.txt").write_text("ignored")
    ds = load(f"folder:{tmp_path}")
    check_canonical(ds, 3)
    assert sorted(CLASSES[i] for i in ds.labels) == ["7", "A", "B"]


def test_folder_loader_reads_crops_cut_tight_to_the_ink(tmp_path: Path) -> None:
    """A tight crop's border is mostly ink; it must read like the same glyph with margins."""
    (tmp_path / "L").mkdir()
    padded = 1 - glyph_l(40)
    tight = padded[4:24, 6:22]  # the L's own box: its left and bottom edges are ink
    for name, img in (("a_padded.png", padded), ("b_tight.png", tight)):
        Image.fromarray((img * 255).astype(np.uint8)).save(tmp_path / "L" / name)
    ds = load(f"folder:{tmp_path}")
    assert np.abs(ds.images[0] - ds.images[1]).mean() < 0.05


def test_folder_loader_reads_crops_of_grey_paper(tmp_path: Path) -> None:
    """A crop cut from a photo: dim grey paper, dark grey ink; same glyph as on white."""
    (tmp_path / "L").mkdir()
    white = 1 - glyph_l(40)
    photo = 0.62 - 0.4 * glyph_l(40)
    for name, img in (("a_white.png", white), ("b_photo.png", photo)):
        Image.fromarray((img * 255).astype(np.uint8)).save(tmp_path / "L" / name)
    ds = load(f"folder:{tmp_path}")
    assert np.abs(ds.images[0] - ds.images[1]).mean() < 0.05


def test_folder_loader_rejects_corrupt_crop(tmp_path: Path) -> None:
    (tmp_path / "A").mkdir()
    (tmp_path / "A" / "broken.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(ValueError, match="broken.png"):
        load(f"folder:{tmp_path}")


def test_npz_roundtrip_without_pickle(tmp_path: Path) -> None:
    ds = Dataset(
        "x",
        np.random.default_rng(0).random((5, SIZE, SIZE), dtype=np.float32),
        np.arange(5, dtype=np.int64),
        np.array([0, 0, 1, 1, -1]),
    )
    save_npz(ds, tmp_path / "d.npz")
    back = load(f"npz:{tmp_path / 'd.npz'}")
    np.testing.assert_array_equal(back.images, ds.images)
    np.testing.assert_array_equal(back.groups, ds.groups)
    np.savez(tmp_path / "evil.npz", images=np.array([object()], dtype=object), labels=np.zeros(1))
    with pytest.raises(ValueError):
        load(f"npz:{tmp_path / 'evil.npz'}")


def test_bad_spec_is_explained() -> None:
    with pytest.raises(ValueError, match="KIND:PATH"):
        load("pictures:/tmp")


def test_split_is_deterministic_and_keeps_writers_apart() -> None:
    n = 400
    groups = np.where(np.arange(n) < 200, np.arange(n) % 20, -1)
    ds = Dataset("x", np.zeros((n, SIZE, SIZE), np.float32), np.arange(n) % 36, groups)
    a = split(ds, seed=3)
    b = split(ds, seed=3)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x.labels, y.labels)
    train_w = set(a[0].groups[a[0].groups >= 0].tolist())
    test_w = set(a[2].groups[a[2].groups >= 0].tolist())
    assert train_w and test_w and not train_w & test_w
    assert sum(len(p) for p in a) == n


def test_registry_lists_every_loader_and_loaders_do_not_import_it() -> None:
    """The KIND:PATH registry lives in the package and imports the loaders; no loader
    imports the registry back (no import circle)."""
    import ast
    from pathlib import Path

    from ocr.training import datasets

    assert set(datasets.KINDS) == {"mat", "emnist", "chars74k", "folder", "npz", "fonts"}
    folder = Path(datasets.__file__).parent
    for path in folder.glob("*.py"):
        if path.name == "__init__.py":
            continue
        tree = ast.parse(path.read_text())
        mods = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        assert "ocr.training.datasets" not in mods, path.name
