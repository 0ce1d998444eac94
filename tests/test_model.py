"""Model directories: training writes them, loading verifies them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from ocr.cli import main
from ocr.model.store import (
    MANIFEST_FILE,
    WEIGHTS_FILE,
    ModelError,
    Recognizer,
    load_model,
    read_manifest,
)
from schemas.manifest import ModelManifest


def write_crop_folder(root: Path, per_class: int = 30) -> Path:
    """Three learnable classes drawn as distinct shapes with jitter: '1' bar, 'O' ring, '7'."""
    rng = np.random.default_rng(0)
    for label in ("1", "O", "7"):
        (root / label).mkdir(parents=True)
        for i in range(per_class):
            img = np.full((48, 40), 255, dtype=np.uint8)
            dx, dy = rng.integers(-3, 4, 2)
            if label == "1":
                img[8 + dy : 40 + dy, 18 + dx : 23 + dx] = 0
            elif label == "O":
                yy, xx = np.indices(img.shape)
                r = np.hypot(yy - 24 - dy, (xx - 20 - dx) * 1.2)
                img[(r > 10) & (r < 15)] = 0
            else:
                img[8 + dy : 13 + dy, 8 + dx : 32 + dx] = 0
                for t in range(30):
                    y, x = 12 + dy + t, 31 + dx - t // 2
                    img[y : y + 1, max(0, x - 3) : x + 2] = 0
            Image.fromarray(img).save(root / label / f"{i}.png")
    return root


TRAINED: dict[str, Recognizer] = {}
"""The in-memory network ``scanscribe train`` ended with (captured by tiny_model)."""


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    import ocr.training.recipe

    root = tmp_path_factory.mktemp("tiny")
    crops = write_crop_folder(root / "crops")
    out = root / "model"
    real_run = ocr.training.recipe.run

    def capture(*args: Any, **kwargs: Any) -> ocr.training.recipe.RunResult:
        result = real_run(*args, **kwargs)
        TRAINED["recognizer"] = result.recognizer
        return result

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ocr.training.recipe, "run", capture)
        code = main(
            [
                "train",
                "--data",
                f"folder:{crops}",
                "--out",
                str(out),
                "--hidden",
                "32",
                "--epochs",
                "8",
                "--batch-size",
                "16",
                "--lr",
                "3e-3",
                "--version",
                "tiny-1",
            ]
        )
    assert code == 0
    yield out


def test_train_writes_model_dir_and_report(tiny_model: Path) -> None:
    assert (tiny_model / WEIGHTS_FILE).is_file()
    manifest = read_manifest(tiny_model)
    assert manifest.version == "tiny-1"
    assert manifest.architecture.hidden == [32]
    assert manifest.training_data[0].kind == "folder"
    assert len(manifest.training_data[0].files_sha256) == 90
    assert manifest.history and manifest.history[-1].epoch <= 8
    assert manifest.metrics["valid"].accuracy > 0.9
    for name in (
        "learning_curves.png",
        "weights_before.png",
        "weights_after.png",
        "confusion_valid.png",
        "MODEL_CARD.md",
    ):
        assert (tiny_model / "report" / name).stat().st_size > 0
    assert "tiny-1" in (tiny_model / "report" / "MODEL_CARD.md").read_text()


def test_manifest_roundtrip(tiny_model: Path) -> None:
    raw = (tiny_model / MANIFEST_FILE).read_text()
    m = ModelManifest.model_validate_json(raw)
    assert ModelManifest.model_validate_json(m.model_dump_json()) == m


def test_loaded_model_predicts_like_the_trained_one(tiny_model: Path, tmp_path: Path) -> None:
    """What was written and read back is the network that was trained: the same
    probabilities on the training crops and on noise (a saving bug -- layers swapped, a
    transposed weight, a lost bias -- changes them)."""
    from ocr.training.datasets import load

    loaded, trained = load_model(tiny_model), TRAINED["recognizer"]
    crops = load(f"folder:{tiny_model.parent / 'crops'}")
    noise = np.random.default_rng(0).random((5, 32, 32), dtype=np.float32)
    for x in (crops.images, noise):
        p, q = loaded.predict_proba(x), trained.predict_proba(x)
        assert p.shape == (len(x), 36) and p.dtype == np.float32
        np.testing.assert_allclose(p, q, atol=1e-6)
        assert (p.argmax(axis=1) == q.argmax(axis=1)).all()
    accuracy = (loaded.predict_proba(crops.images).argmax(axis=1) == crops.labels).mean()
    assert accuracy > 0.9


def test_tampered_weights_are_refused(tiny_model: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / MANIFEST_FILE).write_text((tiny_model / MANIFEST_FILE).read_text())
    data = bytearray((tiny_model / WEIGHTS_FILE).read_bytes())
    data[-100] ^= 0xFF
    (bad / WEIGHTS_FILE).write_bytes(bytes(data))
    with pytest.raises(ModelError, match="sha256"):
        load_model(bad)
    assert main(["evaluate", "--model", str(bad), "--data", "npz:/nonexistent"]) == 2


def test_manifest_from_other_normalization_is_refused(tiny_model: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    m = json.loads((tiny_model / MANIFEST_FILE).read_text())
    m["normalization"]["id"] = "something-else"
    (other / MANIFEST_FILE).write_text(json.dumps(m))
    (other / WEIGHTS_FILE).write_bytes((tiny_model / WEIGHTS_FILE).read_bytes())
    with pytest.raises(ModelError, match="normalization"):
        load_model(other)


def test_evaluate_cli_json(tiny_model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    crops = tiny_model.parent / "crops"
    assert (
        main(["evaluate", "--model", str(tiny_model), "--data", f"folder:{crops}", "--json"]) == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["samples"] == 90
    assert out["accuracy"] > 0.9
    assert set(out["per_class"]) == {"1", "O", "7"}


def test_recipe_overrides_are_the_one_way_in() -> None:
    """CLI options and retrain hyperparameters become a recipe the same way: None keeps the
    default, augment=False drops augmentation, unknown names are refused."""
    from ocr.training.recipe import Recipe
    from schemas.tasks import Hyperparameters
    from worker.training import recipe_from

    base = Recipe()
    r = base.with_overrides(hidden=[64], epochs=3, members=2, lr=None, augment=False)
    assert r.arch.hidden == (64,) and r.arch.dropout == base.arch.dropout
    assert r.train.epochs == 3 and r.train.lr == base.train.lr and r.train.augment is None
    assert r.members == 2 and r.stroke_copies == base.stroke_copies
    assert recipe_from(Hyperparameters(hidden=[64], epochs=3, members=2, augment=False)) == r
    with pytest.raises(TypeError, match="unknown recipe settings: colour"):
        base.with_overrides(colour="red")
