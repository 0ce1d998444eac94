"""A review image: the page with every character box, its reading and how sure we are.

Meant for a human checking a result at a glance: the page is faded so coloured marks stand
out, each box is coloured by confidence, confusable characters get a thick magenta frame and
a "?", and a panel on the right repeats the recognized lines as text.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont

from schemas.page import Character, PageResult

Colour = tuple[int, int, int]

HIGH_CONFIDENCE: float = 0.9
MEDIUM_CONFIDENCE: float = 0.6
GREEN: Colour = (0, 160, 0)
ORANGE: Colour = (245, 130, 0)
RED: Colour = (220, 0, 0)
FLAG_COLOUR: Colour = (255, 0, 255)
"""Magenta: no confidence colour and rarely ink colour, so a flag is never mistaken."""
PANEL_BACKGROUND: Colour = (245, 245, 245)
PANEL_TEXT: Colour = (20, 20, 20)
WHITE: Colour = (255, 255, 255)

PAGE_FADE: float = 0.45
"""Fraction of white blended into the page (0 = untouched) so marks are easier to see."""

BOX_WIDTH_PX: int = 2
FLAG_WIDTH_PX: int = 3
"""The flag frame is drawn just outside the character box, so the box colour stays visible."""

LABEL_HEIGHT_RATIO: float = 0.6
"""Reading label height relative to the median drawn character height..."""
LABEL_MIN_PX: int = 10
LABEL_MAX_PX: int = 28
"""...kept legible on small renders and modest on large ones."""

PANEL_WIDTH_RATIO: float = 0.45
PANEL_MIN_WIDTH_PX: int = 320
PANEL_FONT_RATIO: float = 1 / 55
"""Panel font size relative to the canvas height."""
PANEL_FONT_MIN_PX: int = 12
PANEL_FONT_MAX_PX: int = 22
PANEL_MARGIN_PX: int = 12
MAX_FLAGS_LISTED: int = 40
"""Flagged characters spelled out in the panel; the boxes on the page show them all."""


def confidence_colour(confidence: float) -> Colour:
    if confidence >= HIGH_CONFIDENCE:
        return GREEN
    if confidence >= MEDIUM_CONFIDENCE:
        return ORANGE
    return RED


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's built-in font: no font files to ship or find on a worker."""
    return ImageFont.load_default(size=size)


def _scaled(box: list[int], scale: float) -> tuple[int, int, int, int]:
    """Original-pixel box (exclusive x1/y1) -> inclusive drawing rectangle on the image."""
    x0, y0, x1, y1 = (round(v * scale) for v in box)
    return x0, y0, max(x0, x1 - 1), max(y0, y1 - 1)


def _faded_rgb(image: NDArray[np.uint8]) -> Image.Image:
    rgb = np.asarray(image, dtype=np.uint8)
    if rgb.ndim == 2:
        rgb = np.repeat(rgb[:, :, None], 3, axis=2)
    elif rgb.shape[2] == 4:
        rgb = rgb[:, :, :3]
    faded = rgb.astype(np.float32) * (1.0 - PAGE_FADE) + 255.0 * PAGE_FADE
    return Image.fromarray(np.round(faded).astype(np.uint8))


def _characters(result: PageResult) -> list[Character]:
    """Every character read: the lines' and the form fields' (which are not in the lines)."""
    chars = [c for line in result.lines for word in line.words for c in word.characters]
    return chars + [c for f in result.fields for c in f.characters]


def _wrap(text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: float) -> list[str]:
    """Break text into pieces that fit ``width`` pixels (at spaces when possible)."""
    pieces: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if font.getlength(candidate) <= width:
            current = candidate
            continue
        if current:
            pieces.append(current)
        current = word
        while font.getlength(current) > width and len(current) > 1:
            cut = len(current) - 1
            while cut > 1 and font.getlength(current[:cut]) > width:
                cut -= 1
            pieces.append(current[:cut])
            current = current[cut:]
    pieces.append(current)
    return pieces


def _panel_lines(result: PageResult) -> list[tuple[str, Colour]]:
    stats = result.stats
    mean = "-" if stats.mean_confidence is None else f"{stats.mean_confidence:.2f}"
    rows: list[tuple[str, Colour]] = [
        (f"{result.source.path_or_uri} (page {result.source.page_index + 1})", PANEL_TEXT),
        (f"{stats.characters} characters, mean confidence {mean}", PANEL_TEXT),
        (f"{stats.flagged} flagged as confusable", FLAG_COLOUR if stats.flagged else PANEL_TEXT),
        ("", PANEL_TEXT),
        (f"box >= {HIGH_CONFIDENCE:.2f}", GREEN),
        (f"box >= {MEDIUM_CONFIDENCE:.2f}", ORANGE),
        (f"box < {MEDIUM_CONFIDENCE:.2f}", RED),
        ("? confusable (0/O, 1/I, ...)", FLAG_COLOUR),
        ("", PANEL_TEXT),
    ]
    for i, line in enumerate(result.lines, start=1):
        rows.append((f"{i}: {line.text}", PANEL_TEXT))
    for f in result.fields:
        colour = FLAG_COLOUR if f.flagged else PANEL_TEXT
        rows.append((f"[{f.label or '?'}] {f.value}", colour))
    if not result.lines and not result.fields:
        rows.append(("(no text found)", PANEL_TEXT))
    flagged = [
        (i, word, char)
        for i, line in enumerate(result.lines, start=1)
        for word in line.words
        for char in word.characters
        if char.flag is not None
    ]
    if flagged:
        rows += [("", PANEL_TEXT), ("Flagged:", FLAG_COLOUR)]
    for i, word, char in flagged[:MAX_FLAGS_LISTED]:
        assert char.flag is not None
        readings = " / ".join(
            f"{r} {p:.2f}" for r, p in zip(char.flag.readings, char.flag.probs, strict=True)
        )
        why = char.flag.rule or char.flag.reason
        rows.append((f"line {i} {word.text}: {char.text} ({readings}; {why})", FLAG_COLOUR))
    if len(flagged) > MAX_FLAGS_LISTED:
        rows.append((f"... and {len(flagged) - MAX_FLAGS_LISTED} more", FLAG_COLOUR))
    return rows


def render_overlay(image: NDArray[np.uint8], result: PageResult, scale: float) -> Image.Image:
    """Draw ``result`` on ``image`` (RGB or grey, at ``scale`` decoded px per original px).

    Returns a new RGB image, wider than ``image`` by a text panel on the right (and taller if
    the panel needs it).
    """
    page = _faded_rgb(image)
    width, height = page.size
    chars = _characters(result)

    heights = [_scaled(c.box, scale)[3] - _scaled(c.box, scale)[1] + 1 for c in chars]
    median_h = float(np.median(heights)) if heights else 0.0
    label_px = int(np.clip(median_h * LABEL_HEIGHT_RATIO, LABEL_MIN_PX, LABEL_MAX_PX))
    label_font = _font(label_px)

    panel_width = max(PANEL_MIN_WIDTH_PX, round(width * PANEL_WIDTH_RATIO))
    panel_px = int(np.clip(height * PANEL_FONT_RATIO, PANEL_FONT_MIN_PX, PANEL_FONT_MAX_PX))
    panel_font = _font(panel_px)
    text_width = panel_width - 2 * PANEL_MARGIN_PX
    rows = [
        (piece, colour)
        for text, colour in _panel_lines(result)
        for piece in _wrap(text, panel_font, text_width)
    ]
    row_h = round(panel_px * 1.35)
    canvas_h = max(height, 2 * PANEL_MARGIN_PX + row_h * len(rows))

    canvas = Image.new("RGB", (width + panel_width, canvas_h), PANEL_BACKGROUND)
    canvas.paste(page, (0, 0))
    draw = ImageDraw.Draw(canvas)

    for char in chars:  # boxes first, so no frame is drawn over a label
        x0, y0, x1, y1 = _scaled(char.box, scale)
        colour = confidence_colour(char.confidence)
        draw.rectangle((x0, y0, x1, y1), outline=colour, width=BOX_WIDTH_PX)
        if char.flag is not None:
            pad = FLAG_WIDTH_PX
            draw.rectangle(
                (x0 - pad, y0 - pad, x1 + pad, y1 + pad), outline=FLAG_COLOUR, width=FLAG_WIDTH_PX
            )
    for char in chars:
        x0, y0, x1, y1 = _scaled(char.box, scale)
        flagged = char.flag is not None
        label = f"{char.text}?" if flagged else char.text
        colour = FLAG_COLOUR if flagged else confidence_colour(char.confidence)
        gap = FLAG_WIDTH_PX + 2 if flagged else 2
        top = y0 - gap - label_px
        if top < 0:  # no room above the box: write the reading below it
            top = y1 + gap
        draw.text((x0, top), label, fill=colour, font=label_font, stroke_width=2, stroke_fill=WHITE)

    draw.line((width, 0, width, canvas_h), fill=(180, 180, 180), width=1)
    y = PANEL_MARGIN_PX
    for text, colour in rows:
        draw.text((width + PANEL_MARGIN_PX, y), text, fill=colour, font=panel_font)
        y += row_h
    return canvas
