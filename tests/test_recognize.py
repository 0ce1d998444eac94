"""Confusion flags and word-context rules on hand-made probabilities."""

from __future__ import annotations

import numpy as np

from ocr.model.classes import CLASS_INDEX, CONFUSABLE_PAIRS, NUM_CLASSES
from ocr.stages.recognize import Reading, apply_context, read_char

PAIRS = {frozenset(p) for p in CONFUSABLE_PAIRS}


def probs(**weights: float) -> np.ndarray:
    """Probabilities with the given characters' weights; the rest share what is left."""
    p = np.full(NUM_CLASSES, 0.0, dtype=np.float32)
    for ch, w in weights.items():
        p[CLASS_INDEX[ch.lstrip("_")]] = w
    rest = 1.0 - p.sum()
    p[p == 0] = rest / max(1, int((p == 0).sum()))
    return p


def word(*specs: dict[str, float]) -> tuple[list[Reading], list[np.ndarray]]:
    ps = [probs(**s) for s in specs]
    return [read_char(p, PAIRS) for p in ps], ps


def test_top3_alternatives_sorted() -> None:
    r = read_char(probs(A=0.7, H=0.2, R=0.05), PAIRS)
    assert r.text == "A" and abs(r.confidence - 0.7) < 1e-6
    assert [c for c, _ in r.alternatives] == ["A", "H", "R"]
    assert r.flag is None


def test_low_margin_confusable_pair_is_flagged_with_both_readings() -> None:
    r = read_char(probs(_0=0.55, O=0.4), PAIRS)
    assert r.flag is not None and r.flag.reason == "low-margin"
    assert r.flag.readings == ("0", "O")
    assert abs(r.flag.probs[0] - 0.55) < 1e-6 and abs(r.flag.probs[1] - 0.4) < 1e-6


def test_wide_margin_or_unrelated_pair_is_not_flagged() -> None:
    assert read_char(probs(_0=0.95, O=0.04), PAIRS).flag is None
    assert read_char(probs(A=0.5, H=0.45), PAIRS).flag is None


def test_digit_inside_letter_word_becomes_letter() -> None:
    rs, ps = word({"T": 0.9}, {"_0": 0.6, "O": 0.39})  # "T0" -> "TO"
    out = apply_context([rs], [ps])
    assert "".join(r.text for r in out[0]) == "TO"
    flag = out[0][1].flag
    assert flag is not None and flag.reason == "context"
    assert flag.original == "0" and flag.rule == "digit-in-word->letter"


def test_letter_inside_number_becomes_digit() -> None:
    rs, ps = word({"_2": 0.9}, {"O": 0.6, "_0": 0.39}, {"_2": 0.9}, {"S": 0.55, "_5": 0.44})
    out = apply_context([rs], [ps])
    assert "".join(r.text for r in out[0]) == "2025"


def test_single_char_words_follow_the_line_when_it_is_a_row_of_singles() -> None:
    row = [word({c: 0.9}) for c in "NPQR"] + [word({"_0": 0.6, "O": 0.39})]
    out = apply_context([r for r, _ in row], [p for _, p in row])
    assert out[-1][0].text == "O"
    digits = [word({c: 0.9}) for c in ["_7", "_8", "_9"]] + [word({"O": 0.6, "_0": 0.39})]
    out = apply_context([r for r, _ in digits], [p for _, p in digits])
    assert out[-1][0].text == "0"


def test_numbered_item_stays_a_digit_in_a_line_of_words() -> None:
    one, p1 = word({"I": 0.55, "_1": 0.44})
    make, pm = word({"M": 0.9}, {"A": 0.9}, {"K": 0.9}, {"E": 0.9})
    out = apply_context([one, make], [p1, pm], numbered=[True, False])
    assert out[0][0].text == "1"


def test_single_word_in_a_sentence_keeps_the_classifier_reading() -> None:
    a, pa = word({"A": 0.9})
    zero, pz = word({"_0": 0.6, "O": 0.39})
    make, pm = word({"M": 0.9}, {"A": 0.9}, {"K": 0.9}, {"E": 0.9})
    out = apply_context([a, zero, make], [pa, pz, pm])
    assert out[1][0].text == "0"


def test_ordinal_numbers_keep_digits_and_letter_suffix() -> None:
    rs, ps = word({"_2": 0.9}, {"N": 0.9}, {"D": 0.9})  # 2ND, not ZND
    assert "".join(r.text for r in apply_context([rs], [ps])[0]) == "2ND"
    rs, ps = word({"I": 0.6, "_1": 0.39}, {"_5": 0.6, "S": 0.39}, {"T": 0.9})  # I5T -> 1ST
    out = apply_context([rs], [ps])[0]
    assert "".join(r.text for r in out) == "1ST"
    assert out[0].flag is not None and out[0].flag.rule == "ordinal-number->digit"


def test_ordinary_word_ending_in_st_is_still_a_word() -> None:
    rs, ps = word({"L": 0.9}, {"I": 0.9}, {"S": 0.9}, {"T": 0.9})  # LIST stays LIST
    assert "".join(r.text for r in apply_context([rs], [ps])[0]) == "LIST"


def test_comb_run_by_mass_is_a_number_despite_misread_digits() -> None:
    """A phone number in comb cells whose 4s read as L and 0 as D (unconfusable letters
    that outvote the one sure digit) is a number by its probability mass: the classic pairs
    go back to digits, and so does a letter with a digit close behind it."""
    rs, ps = word(
        {"_8": 0.5, "B": 0.45},
        {"L": 0.55, "_4": 0.4},
        {"_7": 0.95},
        {"D": 0.45, "_0": 0.4},
        {"Z": 0.5, "_2": 0.45},
    )
    by_vote = "".join(r.text for r in apply_context([rs], [ps])[0])
    assert by_vote == "BL7DZ"  # two sure letters against one sure digit
    out = apply_context([rs], [ps], by_mass=True)[0]
    assert "".join(r.text for r in out) == "84702"
    assert out[1].flag is not None and out[1].flag.rule == "letter-in-number->digit"


def test_comb_run_by_mass_keeps_sure_letters_of_a_code() -> None:
    rs, ps = word({"H": 0.97}, {"W": 0.96}, {"_8": 0.9}, {"_0": 0.8}, {"_4": 0.9}, {"_3": 0.9})
    out = apply_context([rs], [ps], by_mass=True)[0]
    assert "".join(r.text for r in out) == "HW8043"


def test_comb_run_by_mass_swaps_to_the_kinds_most_probable_class() -> None:
    """A crossed 7 read Z (0.54, 7 0.46) in a number becomes 7, not Z's pair 2."""
    rs, ps = word({"_3": 0.95}, {"Z": 0.54, "_7": 0.44}, {"_5": 0.9})
    assert "".join(r.text for r in apply_context([rs], [ps])[0]) == "325"
    assert "".join(r.text for r in apply_context([rs], [ps], by_mass=True)[0]) == "375"


def test_by_mass_any_digit_in_a_word_of_letters_becomes_its_best_letter() -> None:
    """Print's T read 7 in DA7E: 7 has no classic letter pair, but by mass the word is
    letters and the 7 takes its most probable letter; by vote it stays."""
    rs, ps = word({"D": 0.95}, {"A": 0.9}, {"_7": 0.6, "T": 0.05, "Z": 0.02}, {"E": 0.9})
    assert "".join(r.text for r in apply_context([rs], [ps])[0]) == "DA7E"
    out = apply_context([rs], [ps], by_mass=True)[0]
    assert "".join(r.text for r in out) == "DATE"
    assert out[2].flag is not None and out[2].flag.rule == "digit-in-word->letter"


def test_by_mass_a_word_of_doubtful_kind_takes_the_kind_all_other_words_surely_are() -> None:
    """A date's 10 read 1 and O (1 0.55 / I 0.3, O 0.55 / 0 0.4) between 24 and 1975 is a
    number; the same pair among words of letters is letters; beside words of both kinds (an
    address: 48 KING ST) it keeps its own reading, and a sure word never changes."""
    date = [
        word({"_2": 0.95}, {"_4": 0.95}),
        word({"_1": 0.3, "I": 0.55}, {"O": 0.55, "_0": 0.4}),
        word({"_1": 0.95}, {"_9": 0.95}, {"_7": 0.95}, {"_5": 0.95}),
    ]
    out = apply_context([w[0] for w in date], [w[1] for w in date], by_mass=True)
    assert ["".join(r.text for r in w) for w in out] == ["24", "10", "1975"]
    by_vote = apply_context([w[0] for w in date], [w[1] for w in date])
    assert "".join(r.text for r in by_vote[1]) == "IO"
    city = [word({"_0": 0.55, "O": 0.42}), word({"S": 0.9}, {"L": 0.95}, {"O": 0.9})]
    out = apply_context([w[0] for w in city], [w[1] for w in city], by_mass=True)
    assert "".join(r.text for w in out for r in w) == "OSLO"
    address = [
        word({"_4": 0.95}, {"_8": 0.9}),
        word({"K": 0.9}, {"I": 0.9}, {"N": 0.9}, {"G": 0.9}),
        word({"_5": 0.5, "S": 0.45}, {"T": 0.9}),
    ]
    out = apply_context([w[0] for w in address], [w[1] for w in address], by_mass=True)
    assert ["".join(r.text for r in w) for w in out] == ["48", "KING", "ST"]
