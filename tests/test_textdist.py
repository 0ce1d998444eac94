from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ocr.textdist import cer, edit_distance


def slow_distance(a: str, b: str) -> int:
    d = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, d[0] = d[0], i
        for j, cb in enumerate(b, 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (ca != cb))
    return d[len(b)]


@settings(max_examples=200, deadline=None)
@given(st.text("ABO0 \n", max_size=12), st.text("ABO0 \n", max_size=12))
def test_matches_textbook_levenshtein(a: str, b: str) -> None:
    assert edit_distance(a, b) == slow_distance(a, b)


def test_cer_with_and_without_spaces() -> None:
    assert cer("TO DO", "TO DO") == 0.0
    assert cer("T0 DO", "TO DO") == 1 / 5
    assert cer("TODO", "TO DO") == 1 / 5
    assert cer("TODO", "TO DO", spaces=False) == 0.0
