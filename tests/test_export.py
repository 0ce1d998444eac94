"""Outputs: JSON, text, hOCR and the review overlay, from a hand-built result."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import numpy as np
import pytest

from ocr.io.export import error_to_json, to_hocr, to_json, to_text
from ocr.io.overlay import FLAG_COLOUR, FLAG_WIDTH_PX, GREEN, RED, render_overlay
from schemas.page import (
    Alternative,
    Character,
    ConfusionFlag,
    Line,
    ModelInfo,
    PageError,
    PageResult,
    PageStats,
    SourceInfo,
    Word,
)

XHTML = "{http://www.w3.org/1999/xhtml}"
ORIGINAL_SIZE = (800, 400)
CHAR_W, CHAR_H, PITCH = 40, 60, 50


def char(
    text: str, x0: int, y0: int, confidence: float, flag: ConfusionFlag | None = None
) -> Character:
    return Character(
        text=text,
        box=[x0, y0, x0 + CHAR_W, y0 + CHAR_H],
        confidence=confidence,
        alternatives=[Alternative(char=text, prob=confidence)],
        flag=flag,
    )


def word(
    text: str, x0: int, y0: int, confidences: list[float], flags: dict[int, ConfusionFlag]
) -> Word:
    chars = [char(t, x0 + i * PITCH, y0, confidences[i], flags.get(i)) for i, t in enumerate(text)]
    return Word(text=text, box=[x0, y0, chars[-1].box[2], y0 + CHAR_H], characters=chars)


def line(words: list[Word]) -> Line:
    box = [words[0].box[0], words[0].box[1], words[-1].box[2], words[-1].box[3]]
    return Line(text=" ".join(w.text for w in words), box=box, words=words)


ZERO_FLAG = ConfusionFlag(
    readings=["0", "O"],
    probs=[0.48, 0.51],
    reason="context",
    rule="digit-in-word->letter",
    original="0",
)


def sample_result(path: str = 'scans/a&b "1".jpg') -> PageResult:
    """Two lines: "HOLD ON" (the O of HOLD flagged) and "R2 5"; original page 800 x 400."""
    lines = [
        line(
            [
                word("HOLD", 40, 60, [0.97, 0.51, 0.95, 0.93], {1: ZERO_FLAG}),
                word("ON", 300, 60, [0.92, 0.7], {}),
            ]
        ),
        line([word("R2", 40, 220, [0.99, 0.4], {}), word("5", 200, 220, [0.88], {})]),
    ]
    chars = [c for ln in lines for w in ln.words for c in w.characters]
    return PageResult(
        source=SourceInfo(
            path_or_uri=path,
            sha256="0" * 64,
            width=ORIGINAL_SIZE[0],
            height=ORIGINAL_SIZE[1],
            page_index=1,
            page_count=3,
        ),
        model=ModelInfo(name="default", version="2024.05", sha256="1" * 64),
        text="\n".join(ln.text for ln in lines),
        lines=lines,
        stats=PageStats(
            characters=len(chars),
            mean_confidence=sum(c.confidence for c in chars) / len(chars),
            flagged=1,
            lines=2,
            words=4,
        ),
        timings_ms={"decode": 10.0, "segment": 5.5},
        created_at=datetime(2024, 5, 1, 12, tzinfo=UTC),
    )


def test_json_round_trips() -> None:
    result = sample_result()
    text = to_json(result)
    assert text.endswith("}\n") and '\n  "kind": "page"' in text
    assert PageResult.model_validate_json(text) == result


def test_error_json() -> None:
    err = PageError(
        source="x.pdf",
        page_index=None,
        error_type="no-pages",
        message="x.pdf: the PDF has no pages",
        created_at=datetime(2024, 5, 1, tzinfo=UTC),
    )
    data = json.loads(error_to_json(err))
    assert data["kind"] == "error" and data["error_type"] == "no-pages"


def test_text() -> None:
    assert to_text(sample_result()) == "HOLD ON\nR2 5\n"


def test_hocr_is_xml_with_one_cinfo_per_character() -> None:
    result = sample_result()
    root = ET.fromstring(to_hocr(result).encode("utf-8"))
    assert root.tag == f"{XHTML}html"
    metas = {m.get("name"): m.get("content") for m in root.iter(f"{XHTML}meta")}
    assert "ocrx_cinfo" in (metas["ocr-capabilities"] or "")

    def of_class(cls: str) -> list[ET.Element]:
        return [e for e in root.iter() if e.get("class") == cls]

    (page,) = of_class("ocr_page")
    page_title = page.get("title", "")
    assert 'image "scans/a&b \\"1\\".jpg"' in page_title  # escaped, then unescaped by XML
    assert "bbox 0 0 800 400" in page_title and "ppageno 1" in page_title
    assert len(of_class("ocr_line")) == 2 and len(of_class("ocrx_word")) == 4

    cinfos = of_class("ocrx_cinfo")
    chars = [c for ln in result.lines for w in ln.words for c in w.characters]
    assert len(cinfos) == len(chars)
    for element, character in zip(cinfos, chars, strict=True):
        assert element.text == character.text
        numbers = re.fullmatch(
            r"bbox (\d+) (\d+) (\d+) (\d+); x_conf ([\d.]+)", element.get("title", "")
        )
        assert numbers is not None
        assert [int(v) for v in numbers.groups()[:4]] == character.box
        assert float(numbers.group(5)) == pytest.approx(character.confidence * 100, abs=0.05)

    hold = of_class("ocrx_word")[0]
    assert "x_wconf 84" in hold.get("title", "")  # mean of 0.97, 0.51, 0.95, 0.93


def draw_page(scale: float) -> np.ndarray:
    """A grey page at ``scale`` with a dark block in every character box."""
    h, w = round(ORIGINAL_SIZE[1] * scale), round(ORIGINAL_SIZE[0] * scale)
    page = np.full((h, w), 235, dtype=np.uint8)
    for ln in sample_result().lines:
        for wd in ln.words:
            for c in wd.characters:
                x0, y0, x1, y1 = (round(v * scale) for v in c.box)
                page[y0 + 5 : y1 - 5, x0 + 8 : x1 - 8] = 30
    return page


@pytest.mark.parametrize("scale", [0.5, 1.0])
def test_overlay_marks_boxes_and_flags(scale: float) -> None:
    page = draw_page(scale)
    result = sample_result()
    img = render_overlay(page, result, scale)
    assert img.mode == "RGB"
    assert img.width > page.shape[1] and img.height >= page.shape[0]
    pixels = np.asarray(img)

    flagged = result.lines[0].words[0].characters[1]
    x0, y0, x1, y1 = (round(v * scale) for v in flagged.box)
    mid_y = (y0 + y1) // 2
    for dx in range(1, FLAG_WIDTH_PX + 1):  # the frame just outside the left edge
        assert tuple(pixels[mid_y, x0 - dx]) == FLAG_COLOUR
    assert tuple(pixels[mid_y, x1 + 1]) == FLAG_COLOUR

    sure = result.lines[0].words[0].characters[0]  # H, 0.97
    sx0, sy0, _, sy1 = (round(v * scale) for v in sure.box)
    assert tuple(pixels[(sy0 + sy1) // 2, sx0]) == GREEN
    unsure = result.lines[1].words[0].characters[1]  # 2, 0.4
    ux0, uy0, _, uy1 = (round(v * scale) for v in unsure.box)
    assert tuple(pixels[(uy0 + uy1) // 2, ux0]) == RED


def test_overlay_of_an_empty_page() -> None:
    empty = sample_result().model_copy(
        update={
            "lines": [],
            "text": "",
            "stats": PageStats(characters=0, mean_confidence=None, flagged=0, lines=0, words=0),
        }
    )
    img = render_overlay(np.full((100, 200, 3), 255, dtype=np.uint8), empty, 0.25)
    assert img.width > 200
