"""The 36 output classes and the confusion-prone pairs between them."""

from __future__ import annotations

CLASSES: str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
"""Class index -> character. Letters first, then digits (the course NIST36 order)."""

NUM_CLASSES: int = len(CLASSES)
CLASS_INDEX: dict[str, int] = {c: i for i, c in enumerate(CLASSES)}

CONFUSABLE_PAIRS: tuple[tuple[str, str], ...] = (
    ("0", "O"),
    ("1", "I"),
    ("5", "S"),
    ("2", "Z"),
    ("8", "B"),
    ("6", "G"),
    ("0", "D"),
    ("4", "A"),
    ("7", "T"),
    ("9", "Q"),
)
"""Pairs that are ambiguous as isolated shapes; the page recognizer flags them. Each is
(digit, letter) so context rules can map one reading to the other."""


def is_letter(ch: str) -> bool:
    return "A" <= ch <= "Z"


def is_digit(ch: str) -> bool:
    return "0" <= ch <= "9"
