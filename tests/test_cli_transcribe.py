"""`scanscribe transcribe` and `scanscribe demo` as a user runs them."""

from __future__ import annotations

import json
import os
import shutil
import signal
from dataclasses import replace
from pathlib import Path

import pytest
from badfiles import write_bad_inputs
from PIL import Image

from ocr.batch import BatchOptions, FileOutcome, InputFile, collect_inputs, run_batch
from ocr.cli import main
from ocr.localpool import run_in_child
from ocr.synth import SynthStyle, make_pages, save_page
from schemas.page import PageError, PageResult

STYLE = replace(SynthStyle(), lines=(3, 5), max_megapixels=1.0)
VOLATILE = ("timings_ms", "created_at")


@pytest.fixture(scope="module")
def scans(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four synthetic pages, one in a sub-folder, plus a two-page TIFF."""
    root = tmp_path_factory.mktemp("scans")
    pages = make_pages(6, writers=[1, 2, 3], seed=5, style=STYLE, source="builtin")
    for i, page in enumerate(pages[:3]):
        save_page(page, root, f"page{i}")
    save_page(pages[3], root / "more", "page3")
    Image.fromarray(pages[4].image).save(
        root / "both.tiff", save_all=True, append_images=[Image.fromarray(pages[5].image)]
    )
    return root


def stable(path: Path) -> dict[str, object]:
    doc = json.loads(path.read_text())
    for key in VOLATILE:
        doc.pop(key, None)
    return doc


def test_folder_to_results(scans: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code = main(["transcribe", str(scans), "--out", str(out), "--format", "hocr", "--overlay"])
    assert code == 0
    names = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.json"))
    assert names == [
        "both.tiff.p001.json",
        "both.tiff.p002.json",
        "more/page3.jpg.json",
        "page0.jpg.json",
        "page1.jpg.json",
        "page2.jpg.json",
    ]
    for name in names:
        result = PageResult.model_validate_json((out / name).read_text())
        stem = str(out / name)[: -len(".json")]
        assert Path(stem + ".txt").read_text() == result.text + "\n"
        assert Path(stem + ".hocr").read_text().count("ocrx_cinfo") >= result.stats.characters
        assert Path(stem + ".overlay.png").stat().st_size > 0
        # The fields stage is opt-in (it reads ruled paper as underline fields): without
        # --fields, --template or --fields-csv it must not run.
        assert "fields" not in result.timings_ms and not result.fields
    p2 = PageResult.model_validate_json((out / "both.tiff.p002.json").read_text())
    assert (p2.source.page_index, p2.source.page_count) == (1, 2)
    summary = capsys.readouterr().err
    assert "pages 6" in summary and "failed 0" in summary


def test_stdout_without_out(scans: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["transcribe", str(scans / "page0.jpg"), "--quiet"]) == 0
    text = capsys.readouterr().out
    truth = (scans / "page0.txt").read_text()
    assert len(text.strip().splitlines()) == len(truth.strip().splitlines())


def test_jobs_two_writes_what_jobs_one_writes(scans: Path, tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    assert main(["transcribe", str(scans), "--out", str(one), "--quiet"]) == 0
    assert main(["transcribe", str(scans), "--out", str(two), "--jobs", "2", "--quiet"]) == 0
    files = sorted(p.relative_to(one) for p in one.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(two) for p in two.rglob("*") if p.is_file())
    for rel in files:
        if rel.suffix == ".json":
            assert stable(one / rel) == stable(two / rel), rel
        else:
            assert (one / rel).read_bytes() == (two / rel).read_bytes(), rel


def test_bad_inputs_become_error_records_and_the_batch_goes_on(
    scans: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "mixed"
    expected = write_bad_inputs(folder)
    shutil.copy(scans / "page0.jpg", folder / "good.jpg")
    out = tmp_path / "out"
    assert main(["transcribe", str(folder), "--out", str(out)]) == 1
    assert PageResult.model_validate_json((out / "good.jpg.json").read_text()).stats.characters > 0
    for name, error_type in expected.items():
        err = PageError.model_validate_json((out / f"{name}.error.json").read_text())
        assert err.error_type == error_type, name
        assert name in err.message
    assert f"failed {len(expected)}" in capsys.readouterr().err


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert main(["transcribe", str(tmp_path / "missing.jpg")]) == 2
    assert main(["transcribe", str(tmp_path), "--overlay"]) == 2
    assert main(["transcribe", str(tmp_path), "--model", str(tmp_path)]) == 2
    with pytest.raises(SystemExit) as info:
        main(["transcribe", "--help"])
    assert info.value.code == 0


def test_demo_without_data_uses_synthetic_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SCANSCRIBE_DATA", str(tmp_path / "nothing-here"))
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "synthetic pages" in printed and "CER" in printed
    assert len(list(out.glob("*.overlay.png"))) == 3


@pytest.mark.data
def test_demo_with_data_reads_the_sample_photos(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "01_list.jpg" in printed and "02_letters.jpg" in printed
    assert (tmp_path / "01_list.jpg.json").is_file()


def test_same_stem_two_extensions_never_collide_and_reruns_leave_no_stale_outputs(
    scans: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(scans / "page0.jpg", folder / "scan.jpg")
    Image.open(scans / "page1.jpg").save(folder / "scan.png")
    out = tmp_path / "out"
    assert main(["transcribe", str(folder), "--out", str(out), "--quiet"]) == 0
    jpg = PageResult.model_validate_json((out / "scan.jpg.json").read_text())
    png = PageResult.model_validate_json((out / "scan.png.json").read_text())
    assert jpg.source.path_or_uri.endswith("scan.jpg") and png.source.path_or_uri.endswith(".png")
    assert jpg.text != png.text

    # scan.png turns bad: its old result goes, the error record stays alone; then it is
    # fixed again: the error record goes. No temp file is ever left behind.
    (folder / "scan.png").write_bytes(b"not an image")
    assert main(["transcribe", str(folder), "--out", str(out), "--quiet"]) == 1
    assert sorted(p.name for p in out.iterdir()) == [
        "scan.jpg.json",
        "scan.jpg.txt",
        "scan.png.error.json",
    ]
    Image.open(scans / "page1.jpg").save(folder / "scan.png")
    assert main(["transcribe", str(folder), "--out", str(out), "--quiet"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "scan.jpg.json",
        "scan.jpg.txt",
        "scan.png.json",
        "scan.png.txt",
    ]


def test_two_inputs_that_would_share_outputs_are_a_usage_error(
    scans: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        shutil.copy(scans / "page0.jpg", tmp_path / sub / "page.jpg")
    out = tmp_path / "out"
    args = [str(tmp_path / "a" / "page.jpg"), str(tmp_path / "b" / "page.jpg")]
    assert main(["transcribe", *args, "--out", str(out)]) == 2
    assert "would both write page.jpg.json" in capsys.readouterr().err
    assert not out.exists()
    # Their common folder keeps both relative paths apart.
    assert main(["transcribe", *args, "--quiet"]) == 0  # without --out nothing is written
    assert main(["transcribe", str(tmp_path), "--out", str(out), "--quiet"]) == 0
    assert (out / "a" / "page.jpg.json").is_file() and (out / "b" / "page.jpg.json").is_file()


def test_train_and_evaluate_with_bad_data_exit_2_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = str(tmp_path / "m")
    assert main(["train", "--data", "bogus:x", "--out", out]) == 2
    assert "KIND" in capsys.readouterr().err
    assert main(["train", "--data", f"folder:{tmp_path / 'missing'}", "--out", out]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    assert main(["evaluate", "--data", f"npz:{tmp_path / 'missing.npz'}"]) == 2
    (tmp_path / "empty").mkdir()
    assert main(["evaluate", "--data", f"folder:{tmp_path / 'empty'}"]) == 2
    err = capsys.readouterr().err
    assert "no such file" in err and "no LABEL/*.png crops" in err and "Traceback" not in err


def die_on_poison(item: InputFile) -> FileOutcome:
    """The per-file work of a pool process, except that a file named poison* kills the
    process outright (as the OOM killer would): no exception, no result, just gone."""
    if item.path.name.startswith("poison"):
        os.kill(os.getpid(), signal.SIGKILL)
    return run_in_child(item)


def test_jobs_pool_survives_a_dying_child(scans: Path, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(4):
        shutil.copy(scans / f"page{i % 3}.jpg", folder / f"p{i}.jpg")
    shutil.copy(scans / "page0.jpg", folder / "poison.jpg")
    out = tmp_path / "out"
    items = collect_inputs([folder])
    outcomes = list(run_batch(items, BatchOptions(out_dir=out), jobs=2, task=die_on_poison))
    # Every file exactly one outcome, in input order; the innocent ones that shared the
    # pool with the poison were redone, the poison (dead twice) got an error record.
    assert [o.source for o in outcomes] == [str(i.path) for i in items]
    errors = {Path(o.source).name: o.pages[0].error for o in outcomes if o.pages[0].error}
    assert list(errors) == ["poison.jpg"]
    assert errors["poison.jpg"].error_type == "worker-crashed"
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"p{i}.jpg.{s}" for i in range(4) for s in ("json", "txt")] + ["poison.jpg.error.json"]
    )
