"""Recognition of a page's characters: one batched forward pass, top-3 alternatives,
confusion flags and word-context rules.

Input is the segmented layout and the crops; output is plain dataclasses that the pipeline
turns into the result schema. Nothing here looks at the image again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from ocr.model.classes import CLASS_INDEX, CLASSES, CONFUSABLE_PAIRS, is_digit, is_letter
from ocr.model.store import Recognizer
from ocr.stages.normalize import normalize_batch

TOP_K: int = 3
"""Alternatives reported per character."""

FLAG_MARGIN: float = 0.35
"""A confusable pair is flagged when p(best) - p(its partner) is below this (probability)."""

PAIR_MIN_RATE: float = 0.01
"""A measured confusion joins the flagged pairs when it takes at least this share of the true
class's validation samples (from the model manifest)."""

DIGIT_TO_LETTER: dict[str, str] = {d: letter for d, letter in CONFUSABLE_PAIRS}
LETTER_TO_DIGIT: dict[str, str] = {letter: d for d, letter in CONFUSABLE_PAIRS}

ORDINAL_SUFFIXES = ("ST", "ND", "RD", "TH")
"""A number followed by one of these (1ST, 22ND) is a number, not a mostly-letter word."""

KIND_ALT_MIN: float = 0.1
"""With word context by probability mass (comb cells), a character of the kind its word
lacks takes its best alternative of the word's kind when that has at least this
probability (top-3 alternatives only)."""

DOUBTFUL_KIND_MARGIN: float = 0.5
"""With word context by probability mass, a word whose letter and digit masses differ by
less than this per character is of doubtful kind; it takes the kind that every other word
of its line (or comb run) is surely of (a date's 10 read IQ between 24 and 1975, a city's
O read 0, split off as a word of its own, before SLO). Validation forms, 0.3 / 0.5 / 0.8:
7.29 / 7.27 / 7.48% CER, values exact 68.3 / 68.3 / 67.6% (7.34 and 67.6 without)."""

LETTER_SLICE = slice(0, 26)
DIGIT_SLICE = slice(26, 36)
"""Class index ranges of letters and digits in :data:`ocr.model.classes.CLASSES`."""


@dataclass(frozen=True)
class Flag:
    readings: tuple[str, str]
    probs: tuple[float, float]
    reason: Literal["low-margin", "context"]
    rule: str | None = None
    original: str | None = None


@dataclass(frozen=True)
class Reading:
    """One recognized character."""

    text: str
    confidence: float
    alternatives: list[tuple[str, float]]
    flag: Flag | None


def classify(crops: Sequence[NDArray[np.floating]], recognizer: Recognizer) -> NDArray[np.float32]:
    """Normalize every crop the way training did and run them as one batch."""
    if not crops:
        return np.zeros((0, len(CLASSES)), dtype=np.float32)
    return recognizer.predict_proba(normalize_batch(list(crops)))


def confusable_pairs(recognizer: Recognizer | None) -> set[frozenset[str]]:
    """The fixed classic pairs plus the model's own measured frequent confusions."""
    pairs = {frozenset(p) for p in CONFUSABLE_PAIRS}
    if recognizer is not None and recognizer.manifest is not None:
        for c in recognizer.manifest.confusions:
            if c.rate >= PAIR_MIN_RATE:
                pairs.add(frozenset((c.true, c.predicted)))
    return pairs


def read_char(
    probs: NDArray[np.floating], pairs: set[frozenset[str]], margin: float = FLAG_MARGIN
) -> Reading:
    """Best class, top-k alternatives, and a low-margin flag for a confusable pair. Only the
    36 characters are read: a 37th "not a character" output is the pipeline's to judge."""
    probs = probs[: len(CLASSES)]
    order = np.argsort(probs)[::-1][:TOP_K]
    alts = [(CLASSES[i], float(probs[i])) for i in order]
    best, p_best = alts[0]
    flag = None
    for ch, p in alts[1:]:
        if frozenset((best, ch)) in pairs and p_best - p < margin:
            flag = Flag((best, ch), (p_best, p), "low-margin")
            break
    return Reading(best, p_best, alts, flag)


def _kind_votes(
    readings: Sequence[Reading], probs: Sequence[NDArray[np.floating]], by_mass: bool = False
) -> tuple[float, float]:
    """Letter and digit votes of a run of characters.

    Each character that is not itself confusable counts one vote for its kind. When that
    leaves a tie (e.g. "2O2S", every character confusable), or ``by_mass``, the summed
    probability mass of letter classes against digit classes decides.
    """
    letters = digits = 0.0
    if by_mass and probs:
        mass = np.sum(probs, axis=0)
        return float(mass[LETTER_SLICE].sum()), float(mass[DIGIT_SLICE].sum())
    for r in readings:
        if r.text in DIGIT_TO_LETTER or r.text in LETTER_TO_DIGIT:
            continue
        letters += is_letter(r.text)
        digits += is_digit(r.text)
    if letters == digits and probs:
        mass = np.sum(probs, axis=0)
        letters = float(mass[LETTER_SLICE].sum())
        digits = float(mass[DIGIT_SLICE].sum())
    return letters, digits


def _ordinal(word: Sequence[Reading]) -> bool:
    """Digits (or digit look-alikes) followed by an ordinal suffix, e.g. 2ND, 1ST, I5T."""
    if len(word) < 3:
        return False
    suffix = "".join(DIGIT_TO_LETTER.get(r.text, r.text) for r in word[-2:])
    prefix = [r.text for r in word[:-2]]
    return suffix in ORDINAL_SUFFIXES and all(is_digit(c) or c in LETTER_TO_DIGIT for c in prefix)


def _swap(r: Reading, probs: NDArray[np.floating], target: str, rule: str) -> Reading:
    p_orig = float(probs[CLASS_INDEX[r.text]])
    p_new = float(probs[CLASS_INDEX[target]])
    flag = Flag((r.text, target), (p_orig, p_new), "context", rule=rule, original=r.text)
    return Reading(target, p_new, r.alternatives, flag)


def apply_context(
    words: Sequence[Sequence[Reading]],
    probs: Sequence[Sequence[NDArray[np.floating]]],
    numbered: Sequence[bool] = (),
    by_mass: bool = False,
) -> list[list[Reading]]:
    """Word context for the confusable pairs.

    Inside a word that is mostly letters a confusable digit becomes its letter, and inside a
    mostly-digit word a confusable letter becomes its digit. One-character words take the
    majority of the line when the line is made of one-character words (an alphabet or a digit
    row); a one-character word marked ``numbered`` (followed by a '.') reads as a digit.
    ``probs[w][i]`` are the class probabilities of character i of word w.

    ``by_mass`` (forms): a word is mostly letters or digits by its summed probability mass,
    not by a vote of its unconfusable characters (comb cells: a 4 misread as L or A, a 0 as
    D, outvoted the digits of a phone number, which then read BL7ZGGSZLS); a character of
    the other kind becomes the most probable class of the word's kind when it is of a
    classic pair or, in a word of letters, any digit (print's T read 7 in DA7E), and
    otherwise when an alternative of the word's kind has ``KIND_ALT_MIN``.
    """
    line_letters, line_digits = _kind_votes(
        [r for w in words for r in w], [p for w in probs for p in w], by_mass
    )
    singles = sum(len(w) == 1 for w in words)
    mostly_singles = len(words) >= 3 and singles >= 0.8 * len(words)
    votes = [_kind_votes(word, probs[wi], by_mass) for wi, word in enumerate(words)]
    sure = [
        (lt > dg) - (dg > lt) if abs(lt - dg) >= DOUBTFUL_KIND_MARGIN * len(w) else 0
        for (lt, dg), w in zip(votes, words, strict=True)
    ]
    out: list[list[Reading]] = []
    for wi, word in enumerate(words):
        letters, digits = votes[wi]
        others = {k for i, k in enumerate(sure) if i != wi}
        line_kind = others.pop() if by_mass and len(others) == 1 and sure[wi] == 0 else 0
        if line_kind:  # doubtful itself, and every other word surely one kind
            letters, digits = (1.0, 0.0) if line_kind > 0 else (0.0, 1.0)
        elif len(word) == 1:
            if wi < len(numbered) and numbered[wi]:
                letters, digits = 0, 1
            elif mostly_singles:
                letters, digits = line_letters, line_digits
            else:
                letters = digits = 0
        ordinal = _ordinal(word)
        new = []
        for ci, r in enumerate(word):
            p = probs[wi][ci]
            if ordinal:
                if ci < len(word) - 2 and r.text in LETTER_TO_DIGIT:
                    new.append(_swap(r, p, LETTER_TO_DIGIT[r.text], "ordinal-number->digit"))
                elif ci >= len(word) - 2 and r.text in DIGIT_TO_LETTER:
                    new.append(_swap(r, p, DIGIT_TO_LETTER[r.text], "ordinal-suffix->letter"))
                else:
                    new.append(r)
                continue
            if letters > digits and (r.text in DIGIT_TO_LETTER or by_mass and is_digit(r.text)):
                to = _best_of(p, LETTER_SLICE) if by_mass else DIGIT_TO_LETTER[r.text]
                new.append(_swap(r, p, to, "digit-in-word->letter"))
            elif digits > letters and r.text in LETTER_TO_DIGIT:
                to = _best_of(p, DIGIT_SLICE) if by_mass else LETTER_TO_DIGIT[r.text]
                new.append(_swap(r, p, to, "letter-in-number->digit"))
            elif by_mass and (other := _other_kind(r, digits > letters, letters > digits)):
                rule = "letter-in-number->digit" if is_digit(other) else "digit-in-word->letter"
                new.append(_swap(r, p, other, rule))
            else:
                new.append(r)
        out.append(new)
    return out


def _best_of(probs: NDArray[np.floating], kind: slice) -> str:
    """The most probable class of one kind (letters or digits): with context by mass, a Z
    in a number becomes the 7 it was nearly read as (Z 0.54, 7 0.46), not its pair's 2."""
    return CLASSES[kind.start + int(np.argmax(probs[kind]))]


def _other_kind(r: Reading, want_digit: bool, want_letter: bool) -> str | None:
    """The best alternative of the kind the word wants when the reading is of the other kind
    and that alternative has at least ``KIND_ALT_MIN`` probability (a comb cell's 0 read as D
    or C, 4 read as L; a letter read surely, such as a code's letters, has no such rival)."""
    if not (want_digit and is_letter(r.text)) and not (want_letter and is_digit(r.text)):
        return None
    for ch, p in r.alternatives[1:]:
        if p >= KIND_ALT_MIN and (is_digit(ch) if want_digit else is_letter(ch)):
            return ch
    return None
