"""Forms: the fields stage on drawn frames, fields as data on a synthetic form, labels,
comb spacing, templates and the CSV table."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ocr.forms import (
    Frame,
    _value,
    build_fields,
    comb_value,
    iou,
    load_template,
    reading_text,
    template_from,
)
from ocr.io.fieldtable import FieldRow, field_row, fields_csv, write_fields_csv
from ocr.io.imageio import read_pages
from ocr.stages.binarize import Scale
from ocr.stages.fields import find_fields
from ocr.synth.forms import make_forms, save_form
from ocr.training.datasets.fonts import font_files, load_fonts
from schemas.page import Character, Line, Word

CH = 32
SCALE = Scale(char_height=CH, stroke_width=3.0)


def blank(h: int = 400, w: int = 900) -> np.ndarray:
    return np.ones((h, w), dtype=np.float32)


def comb(grey: np.ndarray, x0: int, y0: int, cell: int, n: int, h: int, level: float) -> None:
    grey[y0 : y0 + 2, x0 : x0 + n * cell + 2] = level
    grey[y0 + h : y0 + h + 2, x0 : x0 + n * cell + 2] = level
    for i in range(n + 1):
        grey[y0 : y0 + h + 2, x0 + i * cell : x0 + i * cell + 2] = level


def stroke(grey: np.ndarray, x: int, y0: int, y1: int) -> None:
    """A handwritten-like vertical stem, 3 px wide."""
    grey[y0:y1, x : x + 3] = 0.05


def run_stage(grey: np.ndarray):
    mask = grey < 0.5
    ink = np.where(mask, 1.0 - grey, 0.0).astype(np.float32)
    return find_fields(grey, ink, mask, SCALE)


def test_comb_cells_found_one_glyph_per_filled_cell() -> None:
    grey = blank()
    comb(grey, 100, 100, 40, 8, 48, 0.1)
    for i in (0, 1, 3):  # cells 0, 1 and 3 hold a stem; 2 is a space, 4-7 trailing
        stroke(grey, 100 + 40 * i + 18, 110, 140)
    found = run_stage(grey)
    combs = [f for f in found.fields if f.kind == "comb"]
    assert len(combs) == 1
    assert len(combs[0].cells) == 9
    cells = found.cell_glyphs[found.fields.index(combs[0])]
    assert [g is not None for g in cells] == [True, True, False, True] + [False] * 4
    # The frame is gone from the ink; the stems left the page mask for their cells.
    assert not found.mask[95:160, 90:440].any()


def test_light_dropout_frame_found_although_binarization_would_drop_it() -> None:
    grey = blank()
    comb(grey, 100, 100, 40, 6, 48, 0.75)  # light red/blue on paper: darkness 0.25
    stroke(grey, 118, 110, 140)
    found = run_stage(grey)
    assert [f.kind for f in found.fields] == ["comb"]


def test_single_box_and_underline() -> None:
    grey = blank()
    grey[60:62, 100:700] = 0.1  # box top
    grey[110:112, 100:700] = 0.1  # box bottom
    grey[60:112, 100:102] = 0.1
    grey[60:112, 698:700] = 0.1
    grey[250:252, 150:600] = 0.1  # underline
    found = run_stage(grey)
    assert sorted(f.kind for f in found.fields) == ["box", "underline"]
    under = next(f for f in found.fields if f.kind == "underline")
    assert under.y1 >= 250 and under.y0 < 250 - CH


def test_stroke_crossing_a_rule_is_kept() -> None:
    grey = blank()
    grey[200:202, 100:700] = 0.1
    stroke(grey, 300, 180, 225)  # crosses the line
    found = run_stage(grey)
    assert found.mask[200:202, 300:303].all(), "the crossing stroke lost its middle"
    assert not found.mask[200:202, 400:500].any(), "the rule stayed"


def test_printed_text_row_is_not_a_rule() -> None:
    grey = blank()
    # Capital-like letters whose feet align: a serif baseline is straight but has stems.
    for k in range(12):
        x = 100 + k * 22
        grey[180:200, x : x + 3] = 0.1
        grey[198:200, x - 4 : x + 16] = 0.1
    found = run_stage(grey)
    assert found.fields == []


def test_tops_of_narrow_print_run_together_are_not_an_underline() -> None:
    """A narrow font's E, F and T top bars touch and make a line 3 ch long; the letters'
    bodies hang below it (an E's middle bar half a letter down), where an underline has
    paper. With ``below_band_ch`` 0 (only the pixels just beside it judged) it is a field."""
    from dataclasses import replace

    from ocr.stages.fieldparams import DEFAULT_FIELD_PARAMS

    grey = blank()
    x0, top = 100, 150
    grey[top : top + 3, x0 : x0 + 6 * 17] = 0.1  # the bars, run together
    for k in range(6):  # E-like letters: a stem and a middle and a bottom bar
        x = x0 + k * 17
        grey[top : top + 24, x : x + 3] = 0.1
        grey[top + 11 : top + 14, x : x + 13] = 0.1
        grey[top + 21 : top + 24, x : x + 15] = 0.1
    mask = grey < 0.5
    ink = np.where(mask, 1.0 - grey, 0.0).astype(np.float32)
    assert find_fields(grey, ink, mask, SCALE).fields == []
    near_only = replace(DEFAULT_FIELD_PARAMS, below_band_ch=0.0)
    assert [f.kind for f in find_fields(grey, ink, mask, SCALE, near_only).fields] == ["underline"]


def test_lined_paper_is_not_a_stack_of_fields() -> None:
    grey = blank(700)
    for k in range(8):
        grey[80 + 70 * k : 82 + 70 * k, 50:850] = 0.3
    found = run_stage(grey)
    assert found.fields == []
    assert not found.mask[80:82, 50:850].any()  # the rules are still removed


def char(text: str, box: list[int], conf: float = 0.9) -> Character:
    return Character(text=text, box=box, confidence=conf, alternatives=[])


def test_comb_value_spaces_and_trailing_cells() -> None:
    a, b, c = (char(t, [i * 10, 0, i * 10 + 8, 10]) for i, t in enumerate("ABC"))
    text, chars = comb_value([None, a, b, None, None, c, None, None])
    assert text == "AB C"
    assert [x.text for x in chars] == ["A", "B", "C"]
    assert comb_value([None, None]) == ("", [])


def test_value_word_gap_three_tenths_of_a_height_over_the_letters_is_a_space() -> None:
    """24 09 1951 written 40 px tall: letter gaps 8-13 px, word gaps 25 and 29 px (about
    0.3 heights over the median gap, which the old 0.35 missed)."""
    xs, x = [], 0
    for t, gap in zip("24091951", [12, 29, 8, 25, 13, 8, 9, 0], strict=True):
        xs.append(char(t, [x, 0, x + 30, 40]))
        x += 30 + gap
    text, chars = _value([xs[:4], xs[4:]])
    assert text == "24 09 1951"
    assert len(chars) == 8


def line_of(*words: tuple[str, int, int, int]) -> Line:
    """Words as (text, x0, y0, height); letters 20 px wide, 5 px apart."""
    ws = []
    for text, x0, y0, hgt in words:
        cs = [char(t, [x0 + 25 * i, y0, x0 + 25 * i + 20, y0 + hgt]) for i, t in enumerate(text)]
        ws.append(Word(text=text, box=[x0, y0, cs[-1].box[2], y0 + hgt], characters=cs))
    return Line(
        text=" ".join(w.text for w in ws),
        box=[ws[0].box[0], min(w.box[1] for w in ws), ws[-1].box[2], max(w.box[3] for w in ws)],
        words=ws,
    )


def test_labels_left_and_above_values_and_empty_fields() -> None:
    lines = [
        line_of(("NAME", 10, 105, 20), ("JOHN", 310, 100, 30)),  # label left, value in a box
        line_of(("CITY", 300, 190, 20)),  # label above the next field
        line_of(("AGE", 10, 305, 20)),  # label of an empty comb
    ]
    frames = [
        Frame("box", [300, 90, 800, 140]),
        Frame("underline", [300, 220, 800, 262]),
        Frame("comb", [300, 300, 500, 340], 5, [None] * 5),
    ]
    lines.append(line_of(("PARIS", 320, 225, 30)))
    fields, rest = build_fields(lines, frames)
    assert [(f.label, f.value) for f in fields] == [
        ("NAME", "JOHN"),
        ("CITY", "PARIS"),
        ("AGE", ""),
    ]
    assert fields[2].characters == [] and fields[2].min_confidence is None
    assert fields[0].min_confidence == pytest.approx(0.9)
    assert [ln.text for ln in rest] == ["NAME", "CITY", "AGE"]
    text = reading_text(rest, fields)
    assert text.splitlines() == ["NAME JOHN", "CITY", "PARIS", "AGE"]


def test_printed_word_gaps_become_spaces_in_labels() -> None:
    # One segmented word "DATEOF" whose letter gaps show a print word space after DATE.
    xs = (0, 16, 32, 48, 74, 90)
    cs = [char(t, [x, 100, x + 14, 120]) for t, x in zip("DATEOF", xs, strict=True)]
    word = Word(text="DATEOF", box=[0, 100, 104, 120], characters=cs)
    line = Line(text="DATEOF", box=word.box, words=[word])
    fields, _ = build_fields([line], [Frame("comb", [130, 95, 300, 125], 3, [None] * 3)])
    assert fields[0].label == "DATE OF"


def test_template_names_fields_and_round_trips(tmp_path: Path) -> None:
    lines = [line_of(("NAME", 10, 105, 20), ("JOHN", 310, 100, 30))]
    fields, rest = build_fields(lines, [Frame("box", [300, 90, 800, 140])])
    doc = template_from(fields, (1000, 500))
    assert doc["fields"] == [{"label": "NAME", "kind": "box", "box": [0.3, 0.18, 0.8, 0.28]}]
    doc["fields"].append({"label": "SIGNATURE", "box": [0.1, 0.8, 0.5, 0.9]})
    path = tmp_path / "t.json"
    path.write_text(json.dumps(doc))
    template = load_template(path)
    from ocr.forms import apply_template

    out = apply_template(template, fields, rest, (1000, 500))
    assert [(f.label, f.value, f.kind) for f in out] == [
        ("NAME", "JOHN", "box"),
        ("SIGNATURE", "", "template"),
    ]


@pytest.mark.parametrize(
    "content, reason",
    [
        ("{", "not a template"),
        ('{"fields": [{"label": "A", "box": [0.5, 0.1, 0.2, 0.3]}]}', "not inside 0..1"),
        (json.dumps({"fields": [{"label": "A", "box": [0, 0, 1, 1]}] * 2}), "repeat"),
    ],
)
def test_bad_template_is_refused_with_the_reason(tmp_path: Path, content: str, reason: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=reason):
        load_template(path)


def test_fields_csv_union_of_labels_and_hostile_values(tmp_path: Path) -> None:
    rows = [
        FieldRow('a,"b".jpg', 0, {"NAME": "JOHN SMITH", "AGE": "42"}, ["AGE"]),
        FieldRow("line\nbreak.pdf", 2, {"NAME": 'O"NEIL, X', "CITY": "OSLO"}, []),
    ]
    text = fields_csv(rows)
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[0] == ["source", "page_index", "NAME", "AGE", "CITY", "flagged_fields"]
    assert parsed[1] == ['a,"b".jpg', "0", "JOHN SMITH", "42", "", "AGE"]
    assert parsed[2] == ["line\nbreak.pdf", "2", 'O"NEIL, X', "", "OSLO", ""]
    out = tmp_path / "sub" / "fields.csv"
    write_fields_csv(out, rows)
    assert out.read_text() == text
    assert [p.name for p in out.parent.iterdir()] == ["fields.csv"]


@pytest.fixture(scope="module")
def form_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    form = make_forms(1, [0], seed=5, source="builtin")[0]
    return save_form(form, tmp_path_factory.mktemp("form"), "form")


@pytest.mark.slow
def test_synthetic_form_read_as_fields(form_file: Path) -> None:
    from ocr.model.store import DEFAULT_MODEL_DIR, load_model
    from ocr.pipeline import PipelineOptions, transcribe_page

    truth = json.loads(form_file.with_suffix(".truth.json").read_text())["fields"]
    result = transcribe_page(
        next(read_pages(form_file)), load_model(DEFAULT_MODEL_DIR), PipelineOptions(fields=True)
    )
    matched = 0
    for t in truth:
        best = max(result.fields, key=lambda f: iou(f.box, t["box"]))
        if iou(best.box, t["box"]) >= 0.3:
            matched += 1
            assert best.kind == t["kind"]
            if t["value"] == "":
                assert best.value == "" and best.characters == []
    assert matched == len(truth), "every printed field is found"
    # Everything read is still in the text, fields included.
    for f in result.fields:
        assert f.value in result.text
    plain = transcribe_page(next(read_pages(form_file)), load_model(DEFAULT_MODEL_DIR))
    assert plain.fields == []
    row = field_row(result)
    assert len(row.values) == len(result.fields)


def test_synthetic_form_truth_is_consistent(form_file: Path) -> None:
    truth = json.loads(form_file.with_suffix(".truth.json").read_text())
    img = Image.open(form_file)
    assert img.size == (truth["width"], truth["height"])
    kinds = {f["kind"] for f in truth["fields"]}
    assert kinds <= {"comb", "box", "underline"}
    for f in truth["fields"]:
        if f["kind"] == "comb":
            assert len(f["value"]) <= f["cells"]
        x0, y0, x1, y1 = f["box"]
        assert 0 <= x0 < x1 <= img.size[0] and 0 <= y0 < y1 <= img.size[1]


SYSTEM_FONTS = Path("/usr/share/fonts/truetype")


@pytest.mark.skipif(
    not (SYSTEM_FONTS.exists() and font_files(SYSTEM_FONTS)),
    reason="no TrueType fonts installed (make fonts installs fonts-dejavu-core, fonts-liberation)",
)
def test_fonts_dataset_one_group_per_font(tmp_path: Path) -> None:
    one = font_files(SYSTEM_FONTS)[0]
    (tmp_path / one.name).write_bytes(one.read_bytes())
    ds = load_fonts(tmp_path)
    assert ds.images.shape[1:] == (32, 32)
    assert set(ds.groups.tolist()) == {0}
    assert np.bincount(ds.labels, minlength=36).min() > 0  # every class rendered
    again = load_fonts(tmp_path)
    assert np.array_equal(ds.images, again.images), "rendering is seeded"


def test_fonts_dataset_without_fonts_says_so(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no .ttf/.otf fonts"):
        load_fonts(tmp_path)


@pytest.mark.slow
def test_cli_template_then_fields_csv(form_file: Path, tmp_path: Path) -> None:
    """`scanscribe template` writes a template; `transcribe --template --fields-csv` then
    gives one row with exactly the template's columns, in its order."""
    from ocr.cli import main

    template = tmp_path / "form.json"
    assert main(["template", str(form_file), "--out", str(template)]) == 0
    doc = json.loads(template.read_text())
    names = [f["label"] for f in doc["fields"]]
    assert len(names) == len(json.loads(form_file.with_suffix(".truth.json").read_text())["fields"])
    table = tmp_path / "fields.csv"
    args = ["--template", str(template), "--fields-csv", str(table), "-q"]
    code = main(["transcribe", str(form_file), *args])
    assert code == 0
    rows = list(csv.reader(io.StringIO(table.read_text())))
    assert rows[0] == ["source", "page_index", *names, "flagged_fields"]
    assert len(rows) == 2 and rows[1][0] == str(form_file)
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    assert main(["transcribe", str(form_file), "--template", str(bad), "-q"]) == 2


def test_hocr_carries_the_field_values() -> None:
    """Field characters are not in ``lines``; hOCR must still hold every character read."""
    from datetime import UTC, datetime

    from ocr.io.export import to_hocr
    from schemas.page import FormField, ModelInfo, PageResult, PageStats, SourceInfo

    a, b, c = (char(t, [100 + 30 * i, 50, 120 + 30 * i, 80]) for i, t in enumerate("ABC"))
    field = FormField(
        label="NAME",
        value="AB C",
        kind="comb",
        box=[90, 40, 300, 90],
        cells=6,
        characters=[a, b, c],
        min_confidence=0.9,
        flagged=False,
    )
    result = PageResult(
        source=SourceInfo(
            path_or_uri="f.jpg",
            sha256="0" * 64,
            width=400,
            height=200,
            page_index=0,
            page_count=1,
        ),
        model=ModelInfo(name="m", version="1", sha256="0" * 64),
        text="NAME AB C",
        lines=[line_of(("NAME", 10, 55, 20))],
        fields=[field],
        stats=PageStats(characters=7, mean_confidence=0.9, flagged=0, lines=1, words=3),
        timings_ms={},
        created_at=datetime.now(UTC),
    )
    hocr = to_hocr(result)
    assert hocr.count('class="ocr_line"') == 2
    assert hocr.count('class="ocrx_word"') == 3  # NAME, AB, C
    assert hocr.count('class="ocrx_cinfo"') == 7


def test_rule_pieces_join_across_an_empty_gap_not_across_a_label() -> None:
    grey = blank()
    grey[200:202, 100:400] = 0.1
    grey[200:202, 440:800] = 0.1  # a faded stretch of one underline
    grey[300:302, 100:400] = 0.1
    grey[300:302, 500:800] = 0.1
    for k in range(3):  # a printed word between two underlines of one row
        grey[285:301, 420 + 22 * k : 423 + 22 * k] = 0.1
        grey[285:288, 420 + 22 * k : 436 + 22 * k] = 0.1
    found = run_stage(grey)
    rows = sorted((f.y1, f.x0, f.x1) for f in found.fields)
    top = [r for r in rows if r[0] < 250]
    assert len(top) == 1 and top[0][1] <= 102 and top[0][2] >= 798, top
    assert len([r for r in rows if r[0] > 250]) == 2


@pytest.mark.parametrize("shape", [(1, 1), (5, 300), (20, 20)])
def test_tiny_pictures_have_no_fields_and_stay_blank_pages(shape: tuple[int, int]) -> None:
    """A 1 x 1 picture once crashed the stage (an internal error instead of blank-page)."""
    from ocr.io.imageio import InputError, PageImage
    from ocr.model.store import DEFAULT_MODEL_DIR, load_model
    from ocr.pipeline import PipelineOptions, transcribe_page

    grey = np.ones(shape, dtype=np.float32)
    found = find_fields(grey, np.zeros_like(grey), np.zeros(shape, dtype=bool), SCALE)
    assert found.fields == []
    pixels = np.full((*shape, 3), 255, dtype=np.uint8)
    page = PageImage(
        source="tiny.png",
        sha256="0" * 64,
        page_index=0,
        page_count=1,
        pixels=pixels,
        scale=1.0,
        original_size=(shape[1], shape[0]),
    )
    with pytest.raises(InputError) as e:
        transcribe_page(page, load_model(DEFAULT_MODEL_DIR), PipelineOptions(fields=True))
    assert e.value.error_type == "blank-page"
