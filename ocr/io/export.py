"""Serializing a page result: JSON (the contract), plain text, and hOCR for existing tools.

hOCR (https://kba.github.io/hocr-spec/1.2/) lets a result be opened by viewers, search-PDF
builders and evaluation scripts written for Tesseract. Coordinates are original image pixels,
as in the JSON, so the hOCR ``bbox`` of a character equals its JSON ``box``.
"""

from __future__ import annotations

from html import escape

from schemas.page import Character, FormField, Line, PageError, PageResult, Word

HOCR_CAPABILITIES = "ocr_page ocr_line ocrx_word ocrx_cinfo ocrp_wconf"
"""The hOCR elements and properties this output uses (the ``ocr-capabilities`` meta)."""

OCR_SYSTEM = "scanscribe"

PERCENT = 100.0
"""hOCR confidences are percentages; ours are probabilities."""


def to_json(result: PageResult) -> str:
    """The result document, indented, with a trailing newline (one file per page)."""
    return result.model_dump_json(indent=2) + "\n"


def error_to_json(err: PageError) -> str:
    return err.model_dump_json(indent=2) + "\n"


def to_text(result: PageResult) -> str:
    return result.text + "\n"


def _bbox(box: list[int]) -> str:
    x0, y0, x1, y1 = box
    return f"bbox {x0} {y0} {x1} {y1}"


def _quoted(value: str) -> str:
    """An hOCR string property value: double-quoted, with backslash escapes."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _attr(value: str) -> str:
    return escape(value, quote=True)


def _word_confidence(word: Word) -> int:
    """Mean character confidence as a whole percentage (Tesseract's x_wconf convention)."""
    if not word.characters:
        return 0
    mean = sum(c.confidence for c in word.characters) / len(word.characters)
    return round(mean * PERCENT)


def _cinfo(char: Character) -> str:
    title = f"{_bbox(char.box)}; x_conf {char.confidence * PERCENT:.1f}"
    return f'<span class="ocrx_cinfo" title="{_attr(title)}">{escape(char.text)}</span>'


def field_line(f: FormField) -> Line:
    """A form field's value as a line of words (its spaces split the characters), so hOCR
    carries the fields' characters too: they are not in ``PageResult.lines``."""
    groups: list[list[Character]] = [[]]
    it = iter(f.characters)
    for ch in f.value:
        if ch == " ":
            groups.append([])
        else:
            groups[-1].append(next(it))
    words = [
        Word(
            text="".join(c.text for c in g),
            box=[
                min(c.box[0] for c in g),
                min(c.box[1] for c in g),
                max(c.box[2] for c in g),
                max(c.box[3] for c in g),
            ],
            characters=g,
        )
        for g in groups
        if g
    ]
    box = [
        min(w.box[0] for w in words),
        min(w.box[1] for w in words),
        max(w.box[2] for w in words),
        max(w.box[3] for w in words),
    ]
    return Line(text=" ".join(w.text for w in words), box=box, words=words)


def to_hocr(result: PageResult) -> str:
    """An hOCR 1.2 XHTML document: page > line > word > character (ocrx_cinfo)."""
    source = result.source
    page_no = source.page_index
    page_title = (
        f"image {_quoted(source.path_or_uri)}; "
        f"{_bbox([0, 0, source.width, source.height])}; ppageno {page_no}"
    )
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"',
        '    "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">',
        '<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">',
        "<head>",
        f"<title>{escape(source.path_or_uri)}</title>",
        '<meta http-equiv="Content-Type" content="text/html; charset=utf-8"/>',
        f'<meta name="ocr-system" content="{OCR_SYSTEM} (model {_attr(result.model.name)} '
        f'{_attr(result.model.version)})"/>',
        f'<meta name="ocr-capabilities" content="{HOCR_CAPABILITIES}"/>',
        f'<meta name="ocr-number-of-pages" content="{source.page_count}"/>',
        "</head>",
        "<body>",
        f'<div class="ocr_page" id="page_{page_no + 1}" title="{_attr(page_title)}">',
    ]
    lines = sorted(
        [*result.lines, *(field_line(f) for f in result.fields if f.characters)],
        key=lambda ln: ((ln.box[1] + ln.box[3]) / 2, ln.box[0]),
    )
    for li, line in enumerate(lines, start=1):
        line_id = f"line_{page_no + 1}_{li}"
        out.append(f'<span class="ocr_line" id="{line_id}" title="{_bbox(line.box)}">')
        words = []
        for wi, word in enumerate(line.words, start=1):
            title = f"{_bbox(word.box)}; x_wconf {_word_confidence(word)}"
            chars = "".join(_cinfo(c) for c in word.characters)
            words.append(
                f'<span class="ocrx_word" id="word_{page_no + 1}_{li}_{wi}" '
                f'title="{_attr(title)}">{chars}</span>'
            )
        out.append(" ".join(words))
        out.append("</span>")
    out += ["</div>", "</body>", "</html>", ""]
    return "\n".join(out)
