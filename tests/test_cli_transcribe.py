"""`scanscribe transcribe` and `scanscribe demo` as a user runs them."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from badfiles import write_bad_inputs
from PIL import Image

from ocr.cli import main
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
        "both.p001.json",
        "both.p002.json",
        "more/page3.json",
        "page0.json",
        "page1.json",
        "page2.json",
    ]
    for name in names:
        result = PageResult.model_validate_json((out / name).read_text())
        stem = str(out / name)[: -len(".json")]
        assert Path(stem + ".txt").read_text() == result.text + "\n"
        assert Path(stem + ".hocr").read_text().count("ocrx_cinfo") >= result.stats.characters
        assert Path(stem + ".overlay.png").stat().st_size > 0
    p2 = PageResult.model_validate_json((out / "both.p002.json").read_text())
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
    assert PageResult.model_validate_json((out / "good.json").read_text()).stats.characters > 0
    for name, error_type in expected.items():
        err = PageError.model_validate_json((out / f"{Path(name).stem}.error.json").read_text())
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
    assert (tmp_path / "01_list.json").is_file()
