"""Synthetic filled-in forms: printed labels, comb boxes, single boxes and underline fields
holding one writer's block capitals, with the truth of every field.

Why: "please fill in block capitals" is where most such handwriting lives, and nothing else
measures reading a form (labels, cell borders, which value belongs to which label). An A4
sheet at 200 dpi carries a printed title and rows of fields; each field's label is printed
(in one of several fonts) left of it or above it; comb cells differ in size and in colour
(black, grey, and drop-out red and blue); glyphs sometimes cross a cell border; some fields
are left empty. Scan and photo effects come from :mod:`ocr.synth.degrade`.

``python -m ocr.synth.forms --out DIR --forms N --writers test --seed S`` writes
``form_S_0000.jpg`` and ``form_S_0000.truth.json`` (fields, labels, values, boxes).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFilter

from ocr.datapath import data_root
from ocr.synth.degrade import illumination
from ocr.synth.layout import Mark, PageParams, extent, layout_lines, sample_params, transform_marks
from ocr.synth.raster import draw_mark
from ocr.synth.strokes import Glyphs, glyph_source, writer_split
from ocr.synth.style import Box, SynthStyle
from ocr.training.datasets.fonts import cap_font, font_files

FieldKind = Literal["comb", "box", "underline"]

DPI: float = 200.0
PX_PER_MM: float = DPI / 25.4
A4_MM: tuple[float, float] = (210.0, 297.0)

HAND_HEIGHT_MM: tuple[float, float] = (4.0, 6.0)
"""Cap height of the handwriting; every field size below is relative to it."""

CELL_HEIGHT_HANDS: tuple[float, float] = (1.3, 1.75)
"""Comb cell and single box height, in handwriting heights (the writer fills 57-77 %)."""

CELL_ASPECT: tuple[float, float] = (0.7, 1.0)
"""Comb cell width / height."""

LABEL_CAP_MM: tuple[float, float] = (2.3, 3.6)
"""Cap height of printed labels: small print, often under the handwriting's size."""

LINE_PX: tuple[int, int] = (1, 3)
"""Printed rule thickness at 200 dpi (0.13-0.38 mm)."""

CELL_FILL: float = 0.85
"""A comb glyph wider than this share of its cell is narrowed to it (writers fit the box)."""

CROSS_CHANCE: float = 0.12
"""Share of comb glyphs pushed so their ink crosses a cell border."""

EMPTY_CHANCE: float = 0.12
"""Share of fields left empty."""

BOX_COLOURS: dict[str, tuple[float, float, float]] = {
    "black": (0.1, 0.1, 0.1),
    "grey": (0.5, 0.5, 0.52),
    "dropout red": (0.97, 0.62, 0.62),
    "dropout blue": (0.62, 0.74, 0.98),
}
"""Reflectance of printed rules; the drop-out colours are light and saturated, so colour
alone separates them from dark ink."""

LABEL_COLOURS: tuple[tuple[float, float, float], ...] = ((0.08, 0.08, 0.08), (0.15, 0.18, 0.35))

FIELD_LABELS: dict[str, str] = {
    "NAME": "name",
    "FIRST NAME": "first",
    "SURNAME": "surname",
    "AGE": "age",
    "DATE OF BIRTH": "date",
    "ADDRESS": "address",
    "CITY": "city",
    "POSTCODE": "postcode",
    "PHONE": "phone",
    "COUNTRY": "country",
    "OCCUPATION": "word",
    "ID NUMBER": "number",
    "REFERENCE": "code",
    "DATE": "date",
    "SIGNED BY": "name",
}
"""Printed label -> the kind of value written in it."""

TITLES = ("REGISTRATION FORM", "APPLICATION FORM", "DELIVERY NOTE", "MEMBER CARD", "SURVEY")
FIRST_NAMES = "JOHN ANNA PIYUSH MARIA LEE OMAR SARA YUKI PAUL EVA KWAME ZOE IVAN LUCIA MAX".split()
SURNAMES = "SMITH SANTWANI GARCIA NGUYEN MULLER KOWALSKI OKAFOR BROWN ROSSI JENSEN PATEL".split()
CITIES = "LONDON PARIS LAGOS OSLO MUMBAI QUITO BERLIN DUBLIN KYOTO VIENNA BOSTON ZAGREB".split()
STREETS = "HIGH ST|MAIN ROAD|PARK AVE|MILL LANE|QUAY ST|OAK DRIVE|KING ST".split("|")
COUNTRIES = "FRANCE INDIA JAPAN PERU NORWAY KENYA SPAIN CHILE EGYPT".split()
WORDS = "NURSE PILOT TEACHER FARMER BAKER JUDGE WELDER DRIVER CLERK VET".split()


@dataclass
class FormField:
    label: str
    value: str
    kind: FieldKind
    box: Box
    """The printed frame (comb/box: outer edges; underline: the line and the space above)."""
    label_box: Box
    cells: int = 0
    """Comb cells (0 for other kinds)."""
    placement: Literal["left", "above"] = "left"
    colour: str = "black"


@dataclass
class SynthForm:
    image: NDArray[np.uint8]
    title: str
    fields: list[FormField]
    writer: int
    seed: int
    jpeg_quality: int = 90
    font: str = "built-in"
    """The labels' font file name (Pillow's built-in font where none was found): label
    accuracy differs by font, and the benchmark reports it per font."""

    @property
    def text(self) -> str:
        """Truth of everything on the sheet in reading order (rows top to bottom)."""
        out = [self.title]
        ordered = sorted(self.fields, key=lambda f: (f.label_box[1], f.label_box[0]))
        for f in ordered:
            out.append(f"{f.label} {f.value}".strip())
        return "\n".join(out)


def random_value(kind: str, rng: np.random.Generator) -> str:
    def pick(words: list[str]) -> str:
        return str(rng.choice(words))

    if kind == "name":
        return f"{pick(FIRST_NAMES)} {pick(SURNAMES)}"
    if kind == "first":
        return pick(FIRST_NAMES)
    if kind == "surname":
        return pick(SURNAMES)
    if kind == "age":
        return str(int(rng.integers(18, 96)))
    if kind == "date":
        d, m, y = int(rng.integers(1, 29)), int(rng.integers(1, 13)), int(rng.integers(1940, 2026))
        return f"{d:02d} {m:02d} {y}"
    if kind == "address":
        return f"{int(rng.integers(1, 200))} {pick(STREETS)}"
    if kind == "city":
        return pick(CITIES)
    if kind == "postcode":
        return "".join(str(int(d)) for d in rng.integers(0, 10, 5))
    if kind == "phone":
        return "".join(str(int(d)) for d in rng.integers(0, 10, int(rng.integers(8, 11))))
    if kind == "country":
        return pick(COUNTRIES)
    if kind == "number":
        return "".join(str(int(d)) for d in rng.integers(0, 10, 6))
    if kind == "code":
        letters = "".join(rng.choice(list("ABCDEFGHJKLMNPRTUVWXY"), 2))
        return letters + "".join(str(int(d)) for d in rng.integers(0, 10, 4))
    return pick(WORDS)


def _hand_marks(
    text: str, glyphs: Glyphs, p: PageParams, style: SynthStyle, rng: np.random.Generator
) -> list[Mark]:
    """One line of handwriting with its left ink edge at x = 0 and baseline near y = 0."""
    marks = layout_lines([text], glyphs, p, style, rng)
    lo, hi = extent(marks)
    transform_marks(marks, lambda q: q - np.array([lo[0], hi[1]]))
    return marks[0]


def _shift(marks: list[Mark], dx: float, dy: float) -> None:
    transform_marks([marks], lambda q: q + np.array([dx, dy]))


def render_form(
    glyphs: Glyphs,
    rng: np.random.Generator,
    fonts: list[Path | None],
    *,
    writer: int = -1,
    seed: int = -1,
    photo: bool | None = None,
) -> SynthForm:
    """One filled-in A4 form at 200 dpi in one writer's hand."""
    wid, hgt = (int(round(v * PX_PER_MM)) for v in A4_MM)
    base = SynthStyle(indent=(0.0, 0.0), line_tilt_deg=0.6, baseline_wave=(0.0, 0.03))
    p = sample_params(base, rng)
    p.h = float(rng.uniform(*HAND_HEIGHT_MM)) * PX_PER_MM
    p.pen = max(1.2, float(rng.uniform(*base.pen_width)) * p.h)
    p.letter_gap = float(rng.uniform(0.2, 0.45)) * p.h
    p.word_gap = max(float(rng.uniform(0.9, 1.4)) * p.h, p.letter_gap + 0.5 * p.h)
    ink = np.zeros((hgt, wid), dtype=np.float32)
    printed = Image.new("L", (wid, hgt), 0)
    draw_p = ImageDraw.Draw(printed)
    colour_name = str(rng.choice(list(BOX_COLOURS)))
    rules = Image.new("L", (wid, hgt), 0)
    draw_r = ImageDraw.Draw(rules)
    thick = int(rng.integers(LINE_PX[0], LINE_PX[1] + 1))
    label_font_path = fonts[int(rng.integers(0, len(fonts)))]
    label_cap = float(rng.uniform(*LABEL_CAP_MM)) * PX_PER_MM
    label_font = cap_font(label_font_path, int(round(label_cap)))
    title_font = cap_font(label_font_path, int(round(label_cap * rng.uniform(1.6, 2.2))))

    margin = 15 * PX_PER_MM
    title = str(rng.choice(TITLES))
    draw_p.text((margin, margin), title, fill=255, font=title_font, anchor="ls")
    tb = draw_p.textbbox((margin, margin), title, font=title_font, anchor="ls")
    y = float(tb[3]) + 8 * PX_PER_MM
    labels = list(FIELD_LABELS)
    rng.shuffle(labels)
    fields: list[FormField] = []
    cell_h = float(rng.uniform(*CELL_HEIGHT_HANDS)) * p.h
    cell_w = float(rng.uniform(*CELL_ASPECT)) * cell_h
    placement: Literal["left", "above"] = "left" if rng.random() < 0.6 else "above"
    label_w = max(draw_p.textlength(lab, font=label_font) for lab in labels)
    for label in labels[: int(rng.integers(6, 11))]:
        kind: FieldKind = str(rng.choice(["comb", "comb", "box", "underline"]))  # type: ignore[assignment]
        value = "" if rng.random() < EMPTY_CHANCE else random_value(FIELD_LABELS[label], rng)
        if placement == "above":
            x0 = margin
            label_y = y + label_cap  # baseline
            top = label_y + float(rng.uniform(1.5, 3.0)) * PX_PER_MM
        else:
            x0 = margin + label_w + float(rng.uniform(3, 8)) * PX_PER_MM
            top = y
            label_y = top + cell_h / 2 + label_cap / 2
        lx = margin
        draw_p.text((lx, label_y), label, fill=255, font=label_font, anchor="ls")
        lb = draw_p.textbbox((lx, label_y), label, font=label_font, anchor="ls")
        room = wid - margin - x0
        if kind == "comb":
            n = max(len(value), 4) + int(rng.integers(0, 5))
            n = max(1, min(n, int(room // cell_w)))
            if len(value) > n:
                value = value[:n].strip()
            box = _comb(draw_r, x0, top, cell_w, cell_h, n, thick)
            for i, ch in enumerate(value):
                if ch == " ":
                    continue
                marks = _hand_marks(ch, glyphs, p, base, rng)
                lo, hi = extent([marks])
                fit = CELL_FILL * cell_w / max(1.0, hi[0] - lo[0])
                if fit < 1.0:  # writers narrow a wide letter to its cell
                    squeeze = np.array([fit, 1.0])
                    transform_marks([marks], partial(np.multiply, squeeze))
                    lo, hi = extent([marks])
                cx = x0 + (i + 0.5) * cell_w - (hi[0] - lo[0]) / 2
                cy = top + cell_h / 2 + (hi[1] - lo[1]) / 2
                jx, jy = rng.uniform(-0.08, 0.08, 2) * cell_w
                if rng.random() < CROSS_CHANCE:
                    jx = float(rng.choice([-1, 1])) * (cell_w - (hi[0] - lo[0])) * 0.75
                _shift(marks, cx + jx - lo[0], cy + jy - hi[1])
                for m in marks:
                    draw_mark(m, ink, rng)
        else:
            length = float(rng.uniform(0.55, 1.0)) * room
            if kind == "box":
                box = _rect(draw_r, x0, top, x0 + length, top + cell_h, thick)
                base_y = top + cell_h / 2 + p.h / 2
            else:
                line_y = float(round(top + cell_h))
                draw_r.rectangle((x0, line_y - thick, x0 + length, line_y - 1), fill=255)
                box = (int(x0), int(top), int(x0 + length) + 1, int(line_y))
                base_y = line_y - thick - float(rng.uniform(0.05, 0.25)) * p.h
            if value:
                marks = _hand_marks(value, glyphs, p, base, rng)
                lo, hi = extent([marks])
                if hi[0] - lo[0] > length - 0.6 * p.h:
                    value = ""
                else:
                    _shift(marks, x0 + float(rng.uniform(0.3, 1.0)) * p.h, base_y)
                    for m in marks:
                        draw_mark(m, ink, rng)
        fields.append(
            FormField(
                label,
                value,
                kind,
                box,
                (int(lb[0]), int(lb[1]), int(lb[2]), int(lb[3])),
                n if kind == "comb" else 0,
                placement,
                colour_name,
            )
        )
        y = box[3] + float(rng.uniform(5, 10)) * PX_PER_MM
        if y > hgt - margin - 3 * cell_h:
            break

    image = _compose(p, ink, printed, rules, BOX_COLOURS[colour_name], rng, photo)
    quality = int(rng.integers(70, 96))
    font = label_font_path.name if label_font_path is not None else "built-in"
    return SynthForm(image, title, fields, writer, seed, quality, font)


def _comb(
    draw: ImageDraw.ImageDraw, x0: float, top: float, w: float, h: float, n: int, t: int
) -> Box:
    top = float(round(top))  # whole pixels: top + t - 1 must not fall below top
    x1 = x0 + n * w
    draw.rectangle((x0, top, x1, top + t - 1), fill=255)
    draw.rectangle((x0, top + h - t, x1, top + h - 1), fill=255)
    for i in range(n + 1):
        x = x0 + i * w
        draw.rectangle((x - t / 2, top, x + t / 2 - 1 if t > 1 else x, top + h - 1), fill=255)
    return (int(x0 - t), int(top), int(x1 + t) + 1, int(top + h))


def _rect(draw: ImageDraw.ImageDraw, x0: float, y0: float, x1: float, y1: float, t: int) -> Box:
    draw.rectangle((x0, y0, x1, y1), outline=255, width=t)
    return (int(x0), int(y0), int(x1) + 1, int(y1) + 1)


def _compose(
    p: PageParams,
    ink: NDArray[np.float32],
    printed: Image.Image,
    rules: Image.Image,
    rule_colour: tuple[float, float, float],
    rng: np.random.Generator,
    photo: bool | None,
) -> NDArray[np.uint8]:
    """Paper x printed rules x printed labels x handwriting, then light, blur, noise."""
    hgt, wid = ink.shape
    photo = bool(rng.random() < 0.5) if photo is None else photo
    paper = np.asarray(p.paper if photo else (0.95, 0.95, 0.94), dtype=np.float32)
    refl = np.broadcast_to(paper, (hgt, wid, 3)).copy()
    for layer, colour in (
        (np.asarray(rules, dtype=np.float32) / 255.0, rule_colour),
        (np.asarray(printed, dtype=np.float32) / 255.0, LABEL_COLOURS[int(rng.integers(0, 2))]),
        (ink, p.ink),
    ):
        c = np.asarray(colour, dtype=np.float32)
        refl *= 1.0 - layer[..., None] * (1.0 - c)
    if photo:
        style = SynthStyle()
        light = illumination(style, rng, wid, hgt) * 255.0 * float(rng.uniform(0.6, 0.95))
    else:
        light = np.full((hgt, wid), 255.0 * float(rng.uniform(0.92, 1.0)), dtype=np.float32)
    img = np.clip(refl * light[..., None], 0, 255).astype(np.uint8)
    pil = Image.fromarray(img)
    angle = float(rng.uniform(-1.0, 1.0)) if photo else float(rng.uniform(-0.4, 0.4))
    fill = tuple(int(v) for v in np.median(img[::50, ::50].reshape(-1, 3), axis=0))
    pil = pil.rotate(angle, resample=Image.Resampling.BILINEAR, fillcolor=fill)
    blur = float(rng.uniform(0.3, 1.0))
    pil = pil.filter(ImageFilter.GaussianBlur(blur))
    out = np.asarray(pil, dtype=np.float32)
    out += rng.standard_normal((hgt, wid), dtype=np.float32)[..., None] * float(
        rng.uniform(1.0, 4.0)
    )
    # The truth boxes are not rotated: at most 1 degree moves a field end by < 1.8 % of its
    # length, which the benchmark's matching by overlap absorbs.
    return np.clip(out, 0, 255).astype(np.uint8)


def make_forms(
    n: int, writers: list[int], seed: int, source: str = "auto", fonts_dir: Path | None = None
) -> list[SynthForm]:
    """``n`` forms, writer ``writers[i % len(writers)]`` for form i; reproducible."""
    root = fonts_dir or DEFAULT_FONTS
    found = font_files(root) if root.exists() else []
    # Without font files (a machine without fonts-dejavu/-liberation) Pillow's built-in font.
    fonts: list[Path | None] = [f for f in found if "mono" not in f.name.lower()] or [None]
    glyphs = glyph_source(source, writers)
    out = []
    for i in range(n):
        form_seed = int(np.random.SeedSequence([seed, i, 11]).generate_state(1)[0])
        writer = writers[i % len(writers)]
        rng = np.random.default_rng(form_seed)
        out.append(render_form(glyphs[writer], rng, fonts, writer=writer, seed=form_seed))
    return out


DEFAULT_FONTS = Path("/usr/share/fonts/truetype")
"""Debian's font folder (fonts-dejavu-core, fonts-liberation)."""


def truth_dict(form: SynthForm) -> dict[str, object]:
    return {
        "title": form.title,
        "text": form.text,
        "writer": form.writer,
        "seed": form.seed,
        "font": form.font,
        "width": int(form.image.shape[1]),
        "height": int(form.image.shape[0]),
        "fields": [
            {**asdict(f), "box": list(f.box), "label_box": list(f.label_box)} for f in form.fields
        ],
    }


def save_form(form: SynthForm, directory: Path, stem: str) -> Path:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{stem}.jpg"
    Image.fromarray(form.image).save(path, quality=form.jpeg_quality)
    (directory / f"{stem}.truth.json").write_text(json.dumps(truth_dict(form)) + "\n")
    (directory / f"{stem}.txt").write_text(form.text + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m ocr.synth.forms", description=__doc__.split("\n")[0]
    )
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--forms", type=int, default=10)
    ap.add_argument("--writers", choices=("test", "valid", "train", "all"), default="test")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--source", choices=("auto", "chars74k", "builtin"), default="auto")
    ap.add_argument("--fonts", type=Path, default=DEFAULT_FONTS)
    args = ap.parse_args(argv)
    forms = make_forms(args.forms, writer_split()[args.writers], args.seed, args.source, args.fonts)
    for i, form in enumerate(forms):
        save_form(form, args.out, f"form_{args.seed}_{i:04d}")
    print(f"wrote {len(forms)} forms to {args.out} (data {data_root()})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
