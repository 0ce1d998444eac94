"""Per-page results: what a consumer of scanscribe reads, one JSON document per page.

Every box is in ORIGINAL image pixels (``[x0, y0, x1, y1]``, x1/y1 exclusive) even when the
page was decoded at reduced size, so a consumer can crop the file it uploaded without knowing
how we processed it. A page either succeeds (``PageResult``, ``kind="page"``) or fails
(``PageError``, ``kind="error"``); ``kind`` lets one reader dispatch on a single field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, NonNegativeInt

PAGE_SCHEMA_VERSION = 1

CHARACTER_PATTERN = r"^[A-Z0-9.,]$"
"""One recognized character: a class from ``ocr.model.classes.CLASSES``, "." or ","
(punctuation that
segmentation detects by shape, not by the classifier)."""

SHA256_PATTERN = r"^[0-9a-f]{64}$"

ERROR_TYPES = (
    "unreadable-file",
    "empty-file",
    "not-an-image",
    "truncated-image",
    "too-large",
    "no-pages",
    "encrypted-pdf",
    "blank-page",
    "all-black-page",
    "timeout",
    "internal",
    "worker-crashed",
    "unsafe-name",
)
"""Known ``PageError.error_type`` values. Documented, not enforced: a new failure mode should
not make old readers reject the document."""


WARNING_CODES = (
    "no-sheet-found",
    "sheet-partly-outside",
    "rotated",
    "hard-shadow",
    "many-clutter-rejected",
)
"""Known ``PageWarning.code`` values: why a page that was read may still be unreliable.
Documented, not enforced, like ``ERROR_TYPES``."""


def _check_box(box: list[int]) -> list[int]:
    x0, y0, x1, y1 = box
    if x0 > x1 or y0 > y1:
        raise ValueError(f"box {box} must satisfy x0 <= x1 and y0 <= y1")
    return box


Box = Annotated[
    list[NonNegativeInt],
    Field(
        min_length=4,
        max_length=4,
        description="[x0, y0, x1, y1] in original image pixels, x1 and y1 exclusive",
    ),
    AfterValidator(_check_box),
]

Probability = Annotated[float, Field(ge=0.0, le=1.0)]

Point = Annotated[list[float], Field(min_length=2, max_length=2, description="[x, y]")]


class Alternative(BaseModel):
    model_config = ConfigDict(extra="forbid")

    char: str = Field(pattern=CHARACTER_PATTERN)
    prob: Probability


class ConfusionFlag(BaseModel):
    """Why a character deserves a human look: its shape fits two classic readings."""

    model_config = ConfigDict(extra="forbid")

    readings: list[str] = Field(
        min_length=2, max_length=2, description='the two confusable readings, e.g. ["0", "O"]'
    )
    probs: list[Probability] = Field(
        min_length=2, max_length=2, description="classifier probability of each reading"
    )
    reason: Literal["low-margin", "context"] = Field(
        description="low-margin: the classifier could not separate them; "
        "context: a context rule chose the reading"
    )
    rule: str | None = Field(default=None, description='e.g. "digit-in-word->letter"')
    original: str | None = Field(
        default=None, description="the classifier's reading before a context rule changed it"
    )


REVIEW_STATUSES = ("accepted", "corrected", "not-a-character")
"""What a person decided about a character in ``scanscribe review``."""

ReviewStatus = Literal["accepted", "corrected", "not-a-character"]


class CharacterReview(BaseModel):
    """A person's decision on a character. The model's reading stays in ``original``, so a
    reviewed result still says what the machine read."""

    model_config = ConfigDict(extra="forbid")

    status: ReviewStatus = Field(
        description="accepted: the reading was right; corrected: ``text`` is the person's; "
        "not-a-character: the box holds no character (left out of the word's text)"
    )
    original: str = Field(pattern=CHARACTER_PATTERN, description="the model's reading")
    reviewer: str
    at: datetime


class Character(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(pattern=CHARACTER_PATTERN)
    box: Box
    confidence: Probability
    alternatives: list[Alternative] = Field(max_length=3, description="top-3, best first")
    flag: ConfusionFlag | None = None
    review: CharacterReview | None = Field(
        default=None, description="set by `scanscribe review`; None = not reviewed"
    )


class Word(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str
    box: Box
    characters: list[Character]


class Line(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str
    box: Box
    words: list[Word]


FIELD_FLAG_CONFIDENCE: float = 0.5
"""A field whose least sure character is below this is flagged for review."""


class FormField(BaseModel):
    """One form field: a printed box row, single box or underline, its printed label and the
    handwriting in it. Present even when empty (``value`` "")."""

    model_config = ConfigDict(extra="forbid")

    label: str = Field(
        description="the printed text just left of or above the field (or the template's "
        'name); "" when none was found'
    )
    value: str = Field(
        description="the handwriting in the field; in comb rows an empty cell between filled "
        "ones is a space, trailing empty cells are nothing"
    )
    kind: Literal["comb", "box", "underline", "template"] = Field(
        description="comb: one character per cell; box: one long box; underline: a rule "
        "written on; template: a region of the template where no printed frame was found"
    )
    box: Box = Field(description="the printed frame (underline: the rule and the space above)")
    label_box: Box | None = Field(default=None, description="None when no label was found")
    cells: int | None = Field(default=None, ge=1, description="comb cells; None for other kinds")
    characters: list[Character] = Field(description="the value's characters, in reading order")
    min_confidence: Probability | None = Field(
        description="the lowest character confidence; None for an empty field"
    )
    flagged: bool = Field(
        description="a character is flagged, or the lowest confidence is below "
        "FIELD_FLAG_CONFIDENCE, or no label was found: worth a human look"
    )


class SourceInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path_or_uri: str
    sha256: str = Field(pattern=SHA256_PATTERN, description="of the whole input file")
    width: int = Field(gt=0, description="original pixels")
    height: int = Field(gt=0, description="original pixels")
    page_index: int = Field(ge=0, description="0-based page of a multi-page TIFF/PDF")
    page_count: int = Field(ge=1)


class ModelInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    version: str
    sha256: str = Field(pattern=SHA256_PATTERN)


class PageStats(BaseModel):
    model_config = ConfigDict(extra="forbid")

    characters: int = Field(ge=0)
    mean_confidence: Probability | None = Field(description="None when there are no characters")
    flagged: int = Field(ge=0)
    lines: int = Field(ge=0)
    words: int = Field(ge=0)


class PageWarning(BaseModel):
    """Something a reviewer should know about how the page was read."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(description="machine-readable: " + ", ".join(WARNING_CODES))
    message: str = Field(description="human-readable: what was seen and what it may cause")


class PageResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: int = PAGE_SCHEMA_VERSION
    kind: Literal["page"] = "page"
    source: SourceInfo
    model: ModelInfo
    text: str = Field(
        description='full text in reading order, fields\' labels and values included: "\\n" '
        "between lines, spaces between words"
    )
    lines: list[Line] = Field(description="lines of writing and print outside fields")
    fields: list[FormField] = Field(
        default=[], description="form fields, top to bottom; [] on a page without any"
    )
    stats: PageStats
    timings_ms: dict[str, float] = Field(description="wall time per pipeline stage")
    created_at: datetime
    warnings: list[PageWarning] = []
    sheet: Annotated[list[Point], Field(min_length=4, max_length=4)] | None = Field(
        default=None,
        description="corners of the sheet found in the picture, in original pixels "
        "(top-left, top-right, bottom-right, bottom-left as seen, [x, y] each); None when "
        "the picture was read whole (a scan, a close crop, or no sheet found)",
    )
    rotation: Literal[0, 90, 180, 270] = Field(
        default=0,
        description="clockwise degrees the picture was turned to read it upright",
    )


class PageError(BaseModel):
    """A page (or a whole file) that produced no result, and why, in words a user can act on."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = PAGE_SCHEMA_VERSION
    kind: Literal["error"] = "error"
    source: str = Field(description="path or URI")
    page_index: int | None = Field(
        default=None, ge=0, description="None when the whole file failed"
    )
    error_type: str = Field(description="machine-readable: " + ", ".join(ERROR_TYPES))
    message: str = Field(description="human-readable; names the file and the reason")
    created_at: datetime
