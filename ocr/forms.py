"""Fields as data: decoded characters assigned to the printed fields of a form, each field's
printed label found, a template's named regions matched, and the page text in reading order.

Works on the page's decoded lines and on the fields' frames, all in original image pixels,
so it is pure geometry over :mod:`schemas.page` objects: the frames come from
:mod:`ocr.stages.fields` (mapped by the pipeline), comb values are read cell by cell there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from schemas.page import (
    FIELD_FLAG_CONFIDENCE,
    Character,
    FormField,
    Line,
    Word,
)

LABEL_ROW_SLACK: float = 0.35
"""A word is on a field's row when its centre is within the field's height, grown by this
share of it above and below."""

LABEL_ABOVE_HEIGHTS: float = 2.5
"""A label above a field ends at most this many field heights above the field's top."""

LABEL_BREAK_HEIGHTS: float = 2.0
"""Walking left from a field, a gap wider than this many field heights ends its label."""

ROW_OVERLAP: float = 0.5
"""Two text items share a reading row when they overlap vertically by this share of the
shorter one."""

TEMPLATE_MIN_IOU: float = 0.3
"""A found field is a template's field when their boxes overlap at least this much (IoU)."""

LABEL_SPACE_HEIGHTS: float = 0.18
"""Inside a label, a gap between letters wider than the word's median letter gap by this
many letter heights is a space: fonts set letters from 0.1 heights overlapping (italics lean
into the gap) to 0.25 apart (wide fonts), and a word space adds 0.2-0.5 to that. (On
synthetic forms, validation writers: a fixed 0.25 heights missed condensed fonts' spaces and
put spaces into wide fonts' words.)"""

VALUE_SPACE_HEIGHTS: float = 0.25
"""In a box or underline value, a gap wider than the value's median gap by this many
character heights is a space: writers leave about half a height more between words, but
gaps between ink boxes vary with the letters' shapes (a 1 or an open 7 leaves more room).
On 145 box and underline values of validation forms: 0.35 -> 107 exact, 0.25 -> 111
(0.2 -> 110, 0.3 -> 109); the misses at 0.35 were word gaps of 0.3 heights over the median
(24 09 1951 read 24091951)."""

LABEL_STRIP = " .-"
"""Trailing marks of a label ("NAME:" reads as NAME and a dot or two)."""


@dataclass
class Frame:
    """A found field in original pixels; ``cell_chars`` holds a comb's cells (None = empty)."""

    kind: Literal["comb", "box", "underline", "template"]
    box: list[int]
    cells: int | None = None
    cell_chars: list[Character | None] | None = None


@dataclass(frozen=True)
class TemplateField:
    label: str
    box: tuple[float, float, float, float]
    """x0, y0, x1, y1 as fractions of the sheet's width and height (0..1)."""


def _centre(box: list[int]) -> tuple[float, float]:
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


def _inside(box: list[int], frame: list[int]) -> bool:
    cx, cy = _centre(box)
    return frame[0] <= cx < frame[2] and frame[1] <= cy < frame[3]


def _union(boxes: list[list[int]]) -> list[int]:
    a = np.asarray(boxes)
    return [int(a[:, 0].min()), int(a[:, 1].min()), int(a[:, 2].max()), int(a[:, 3].max())]


def _word(chars: list[Character]) -> Word:
    return Word(
        text="".join(c.text for c in chars), box=_union([c.box for c in chars]), characters=chars
    )


def _line(words: list[Word]) -> Line:
    return Line(
        text=" ".join(w.text for w in words), box=_union([w.box for w in words]), words=words
    )


def comb_value(cells: list[Character | None]) -> tuple[str, list[Character]]:
    """One character per filled cell; a run of empty cells between filled ones is one space,
    leading and trailing empty cells are nothing."""
    text, chars, gap = "", [], False
    for c in cells:
        if c is None:
            gap = bool(text)
            continue
        if gap:
            text += " "
            gap = False
        text += c.text
        chars.append(c)
    return text, chars


def split_lines(
    lines: list[Line], frames: list[Frame]
) -> tuple[list[Line], list[list[list[Character]]]]:
    """Lines outside fields, and for each frame the words (lists of characters) inside it.

    A character belongs to a frame when its box's centre lies in the frame: a word may start
    left of a field (the label) and continue inside it (the value) when segmentation grouped
    the row as one line."""
    inside: list[list[list[Character]]] = [[] for _ in frames]
    rest: list[Line] = []
    for line in lines:
        kept_words: list[Word] = []
        for w in line.words:
            outside: list[Character] = []
            per_frame: dict[int, list[Character]] = {}
            for c in w.characters:
                k = next(
                    (i for i, f in enumerate(frames) if f.kind != "comb" and _inside(c.box, f.box)),
                    None,
                )
                if k is None:
                    outside.append(c)
                else:
                    per_frame.setdefault(k, []).append(c)
            for k, chars in per_frame.items():
                inside[k].append(chars)
            if outside:
                kept_words.append(_word(outside))
        if kept_words:
            rest.append(_line(kept_words))
    return rest, inside


def _label_words(frame: list[int], words: list[Word], frames: list[Frame], claimed: set[int]):
    """Indices of the words forming the label of the field at ``frame``: those just left of it
    on its row, else those of the nearest line just above it."""
    x0, y0, x1, y1 = frame
    fh = max(1, y1 - y0)
    slack = LABEL_ROW_SLACK * fh
    stop = max(
        [f.box[2] for f in frames if f.box[2] <= x0 and f.box[1] < y1 and f.box[3] > y0],
        default=-1,
    )
    left = [
        i
        for i, w in enumerate(words)
        if i not in claimed
        and y0 - slack <= _centre(w.box)[1] <= y1 + slack
        and w.box[2] <= x0 + 0.2 * fh
        and w.box[0] >= stop
    ]
    left.sort(key=lambda i: -words[i].box[2])
    chosen: list[int] = []
    edge = x0
    for i in left:
        if chosen and edge - words[i].box[2] > LABEL_BREAK_HEIGHTS * fh:
            break  # the nearest word is the label however far (labels are often aligned)
        chosen.append(i)
        edge = words[i].box[0]
    if chosen:
        return sorted(chosen, key=lambda i: words[i].box[0])
    above = [
        i
        for i, w in enumerate(words)
        if i not in claimed
        and y0 - LABEL_ABOVE_HEIGHTS * fh <= w.box[3] <= y0 + 0.2 * fh
        and x0 - fh <= _centre(w.box)[0] <= x1
    ]
    if not above:
        return []
    low = max(words[i].box[3] for i in above)
    near = [i for i in above if words[i].box[3] >= low - 0.5 * (words[i].box[3] - words[i].box[1])]
    near.sort(key=lambda i: words[i].box[0])
    out = [near[0]]
    for i in near[1:]:
        if words[i].box[0] - words[out[-1]].box[2] > LABEL_BREAK_HEIGHTS * fh:
            break
        out.append(i)
    return out


def spaced(word: Word) -> str:
    """A printed word's text with the spaces its letter gaps show: segmentation splits words
    by the handwriting's gaps, and the word space of small print is narrower than those."""
    chars = word.characters
    if len(chars) < 2:
        return word.text
    height = float(np.median([c.box[3] - c.box[1] for c in chars]))
    gaps = [b.box[0] - a.box[2] for a, b in zip(chars[:-1], chars[1:], strict=True)]
    space = float(np.median(gaps)) + LABEL_SPACE_HEIGHTS * height
    out = chars[0].text
    for gap, b in zip(gaps, chars[1:], strict=True):
        out += (" " if gap > space else "") + b.text
    return out


def make_field(
    label: str, label_box: list[int] | None, frame: Frame, value: str, chars: list[Character]
) -> FormField:
    low = min((c.confidence for c in chars), default=None)
    flagged = (
        any(c.flag is not None for c in chars)
        or (low is not None and low < FIELD_FLAG_CONFIDENCE)
        or not label
    )
    return FormField(
        label=label,
        value=value,
        kind=frame.kind,
        box=frame.box,
        label_box=label_box,
        cells=frame.cells,
        characters=chars,
        min_confidence=low,
        flagged=flagged,
    )


def _value(words: list[list[Character]]) -> tuple[str, list[Character]]:
    """A box's or underline's characters left to right, spaced by their own gaps: the page's
    word gaps are pooled over print and writing of every size, a field's hand is one."""
    chars = sorted((c for cs in words for c in cs), key=lambda c: c.box[0])
    if len(chars) < 3:
        return " ".join(
            "".join(c.text for c in cs) for cs in sorted(words, key=lambda cs: cs[0].box[0])
        ), chars
    gaps = np.array([b.box[0] - a.box[2] for a, b in zip(chars[:-1], chars[1:], strict=True)])
    height = float(np.median([c.box[3] - c.box[1] for c in chars]))
    space = float(np.median(gaps)) + VALUE_SPACE_HEIGHTS * height
    text = chars[0].text
    for gap, c in zip(gaps, chars[1:], strict=True):
        text += (" " if gap > space else "") + c.text
    return text, chars


def build_fields(lines: list[Line], frames: list[Frame]) -> tuple[list[FormField], list[Line]]:
    """Every frame as a :class:`FormField` (empty ones included) and the lines outside them."""
    rest, inside = split_lines(lines, frames)
    words = [w for ln in rest for w in ln.words]
    claimed: set[int] = set()
    fields: list[FormField] = []
    for frame, in_words in zip(frames, inside, strict=True):
        idx = _label_words(frame.box, words, frames, claimed)
        claimed.update(idx)
        label = " ".join(spaced(words[i]) for i in idx).rstrip(LABEL_STRIP)
        label_box = _union([words[i].box for i in idx]) if idx else None
        if frame.kind == "comb":
            value, chars = comb_value(frame.cell_chars or [])
        else:
            value, chars = _value(in_words)
        fields.append(make_field(label, label_box, frame, value, chars))
    return fields, rest


def reading_text(lines: list[Line], fields: list[FormField]) -> str:
    """Lines and field values in reading order: items overlapping vertically share a row,
    rows top to bottom, items in a row left to right."""
    items = [(ln.box, ln.text) for ln in lines] + [(f.box, f.value) for f in fields if f.value]
    items.sort(key=lambda it: (it[0][1] + it[0][3]) / 2)
    rows: list[list[tuple[list[int], str]]] = []
    for box, text in items:
        if rows:
            r0 = min(b[1] for b, _ in rows[-1])
            r1 = max(b[3] for b, _ in rows[-1])
            shorter = min(box[3] - box[1], r1 - r0)
            if min(box[3], r1) - max(box[1], r0) >= ROW_OVERLAP * max(1, shorter):
                rows[-1].append((box, text))
                continue
        rows.append([(box, text)])
    return "\n".join(" ".join(t for _, t in sorted(row, key=lambda it: it[0][0])) for row in rows)


def load_template(path: Path) -> list[TemplateField]:
    """A template file: ``{"fields": [{"label": "NAME", "box": [x0, y0, x1, y1]}, ...]}`` with
    boxes as fractions (0..1) of the sheet. Raises ValueError naming the file and the fault."""
    try:
        doc = json.loads(Path(path).read_text())
        out = [
            TemplateField(str(f["label"]), tuple(float(v) for v in f["box"]))  # type: ignore[arg-type]
            for f in doc["fields"]
        ]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ValueError(f"{path}: not a template ({e})") from e
    for f in out:
        x0, y0, x1, y1 = f.box
        if len(f.box) != 4 or not (0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1):
            raise ValueError(f"{path}: field {f.label!r} box {f.box} is not inside 0..1")
    if len({f.label for f in out}) != len(out):
        raise ValueError(f"{path}: field labels repeat")
    return out


def iou(a: list[int], b: list[int]) -> float:
    """Intersection over union of two boxes."""
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    area = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / area if area > 0 else 0.0


def apply_template(
    template: list[TemplateField],
    fields: list[FormField],
    rest: list[Line],
    size: tuple[int, int],
) -> list[FormField]:
    """The template's fields, in its order and with its names: each takes the found field
    overlapping it best, else the characters of the free lines inside its region (kind
    "template"), else stays empty. ``size``: the sheet's width and height in pixels."""
    w, h = size
    out: list[FormField] = []
    taken: set[int] = set()
    for t in template:
        box = [
            int(t.box[0] * w),
            int(t.box[1] * h),
            int(np.ceil(t.box[2] * w)),
            int(np.ceil(t.box[3] * h)),
        ]
        scores = [(iou(box, f.box), i) for i, f in enumerate(fields) if i not in taken]
        best = max(scores, default=(0.0, -1))
        if best[0] >= TEMPLATE_MIN_IOU:
            taken.add(best[1])
            f = fields[best[1]]
            frame = Frame(f.kind, f.box, f.cells)
            out.append(make_field(t.label, f.label_box, frame, f.value, f.characters))
            continue
        frame = Frame("template", box)
        _, inside = split_lines(rest, [frame])
        value, chars = _value(inside[0])
        out.append(make_field(t.label, None, frame, value, chars))
    return out


def template_from(fields: list[FormField], size: tuple[int, int]) -> dict[str, object]:
    """A starting template from one page's found fields (labels as read; unnamed fields
    become FIELD_1, ...), for the user to edit."""
    w, h = size
    out = []
    seen: set[str] = set()
    for k, f in enumerate(fields):
        name = f.label or f"FIELD_{k + 1}"
        while name in seen:
            name += "_2"
        seen.add(name)
        x0, y0, x1, y1 = f.box
        out.append(
            {
                "label": name,
                "kind": f.kind,
                "box": [round(x0 / w, 4), round(y0 / h, 4), round(x1 / w, 4), round(y1 / h, 4)],
            }
        )
    return {"version": 1, "fields": out}
