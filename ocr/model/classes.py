"""The 36 character classes, the 37th output "not a character", and the confusion-prone
pairs between the characters."""

from __future__ import annotations

CLASSES: str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
"""Class index -> character. Letters first, then digits (the course NIST36 order)."""

NUM_CLASSES: int = len(CLASSES)
CLASS_INDEX: dict[str, int] = {c: i for i, c in enumerate(CLASSES)}

NOT_A_CHARACTER: str = "~"
"""Symbol of the recognizer's 37th output: the crop is clutter (texture, a fragment or two
fused glyphs, a blob, a rule or box piece), not one character. It never reaches page text."""

OUTPUTS: str = CLASSES + NOT_A_CHARACTER
"""Output index -> symbol of a 37-output model (the manifest's ``classes``)."""

NUM_OUTPUTS: int = len(OUTPUTS)
NOT_CHAR_INDEX: int = NUM_CLASSES
"""Label and output column of "not a character"."""

CONFUSABLE_PAIRS: tuple[tuple[str, str], ...] = (
    ("0", "O"),
    ("1", "I"),
    ("5", "S"),
    ("2", "Z"),
    ("8", "B"),
    ("6", "G"),
)
"""Classic (digit, letter) pairs that are ambiguous as isolated shapes: the page recognizer
flags them and its context rules map one reading to the other. The model manifest's
measured confusions add further flagged pairs (D/0, 4/A, ...) but no context rules."""


def is_letter(ch: str) -> bool:
    return "A" <= ch <= "Z"


def is_digit(ch: str) -> bool:
    return "0" <= ch <= "9"
