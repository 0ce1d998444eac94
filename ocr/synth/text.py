"""What synthetic pages say: list-like English lines, numbers and ordinals."""

from __future__ import annotations

import numpy as np

from ocr.model.classes import CLASSES

DOT_CHAR: str = "."
"""The only punctuation drawn (list numbering such as ``1.``)."""


MAX_LINE_CHARS: int = 26
"""Longest generated line, in characters, so random pages keep a photo-like aspect."""


VOCABULARY: tuple[str, ...] = tuple(
    """TO DO LIST BUY MILK CALL MOM DAD EGGS BREAD CHEESE BUTTER APPLES RICE PASTA COFFEE TEA
    PAY RENT BILLS FIX BIKE CLEAN ROOM WASH CAR WALK DOG FEED CAT READ BOOK WRITE EMAIL SEND
    LETTER BOOK FLIGHT HOTEL PACK BAGS MEET JOHN ANNA SAM AT THE OF AND FOR WITH ON IN BY
    MONDAY FRIDAY SUNDAY JUNE MAY JULY MARCH NOON PM AM CHECK OFF FIRST THING MAKE A NEW PLAN
    REALIZE YOU HAVE ALREADY COMPLETED THINGS REWARD YOURSELF NAP GYM RUN MILES WATER PLANTS
    DENTIST DOCTOR BANK POST OFFICE PICK UP KIDS SCHOOL HOMEWORK MATH EXAM STUDY NOTES PAGE
    ORDER PIZZA TAKE OUT TRASH GROCERIES SHOPPING RETURN KEYS PHONE CHARGER PRINT TICKETS
    BIRTHDAY GIFT CARD PARTY CAKE CANDLES OVEN BAKE QUIZ JAZZ BOX FOX ZOO QUICK JUMP LAZY
    VISIT GRANDMA UNCLE PAINT FENCE GARDEN SEEDS MOW LAWN BACKUP LAPTOP UPDATE REPORT DRAFT
    BUDGET TAXES FORM SIGN RENEW PASSPORT WEEK TODAY TOMORROW NEXT LAST ITEMS BOXES""".split()
)
"""English words of 1-10 letters, heavy on list vocabulary; includes every letter."""

HEADINGS: tuple[str, ...] = (
    "TO DO LIST",
    "SHOPPING LIST",
    "NOTES",
    "PLAN FOR TODAY",
    "THINGS TO DO",
    "GROCERIES",
    "WEEK PLAN",
)

ORDINALS: tuple[str, ...] = ("1ST", "2ND", "3RD", "4TH", "5TH", "10TH", "21ST")
"""The rare tokens that mix digits and letters."""


def _number(rng: np.random.Generator) -> str:
    kind = rng.integers(0, 5)
    if kind == 0:
        return str(int(rng.integers(1, 13)))  # quantity / hour
    if kind == 1:
        return str(int(rng.integers(1, 32)))  # day of month
    if kind == 2:
        return str(int(rng.integers(1990, 2031)))  # year
    if kind == 3:
        return str(int(rng.integers(10, 1000)))  # amount
    return "".join(str(d) for d in rng.integers(0, 10, int(rng.integers(3, 7))))  # any digits


def _words_line(rng: np.random.Generator, n_words: int) -> list[str]:
    words: list[str] = []
    for _ in range(n_words):
        r = rng.random()
        if r < 0.15:
            words.append(_number(rng))
        elif r < 0.17:
            words.append(str(rng.choice(ORDINALS)))
        else:
            words.append(str(rng.choice(VOCABULARY)))
    return words


def _fit(words: list[str], limit: int = MAX_LINE_CHARS) -> str:
    """Join words, dropping trailing ones past ``limit`` characters (keeping at least one)."""
    out = words[:1]
    for w in words[1:]:
        if len(" ".join([*out, w])) > limit:
            break
        out.append(w)
    return " ".join(out)


def random_text(rng: np.random.Generator, lines: int) -> str:
    """Plausible page content of exactly ``lines`` lines: an optional heading, numbered items
    ("1. BUY MILK") with unnumbered continuation lines, plain lines mixing words and numbers
    (dates, quantities, years), and sometimes runs of isolated letters or digits
    ("A B C D"). Digits inside letter words are rare (ordinals), pure numbers common."""
    out: list[str] = []
    item = int(rng.integers(1, 3)) if rng.random() < 0.2 else 1
    numbered = rng.random() < 0.6
    if lines > 1 and rng.random() < 0.5:
        out.append(str(rng.choice(HEADINGS)))
    while len(out) < lines:
        r = rng.random()
        if r < 0.12:
            alphabet = CLASSES[26:] if rng.random() < 0.35 else CLASSES[:26]
            start = int(rng.integers(0, len(alphabet)))
            count = int(rng.integers(3, 11))
            if rng.random() < 0.5:
                run = [alphabet[(start + k) % len(alphabet)] for k in range(count)]
            else:
                run = [str(c) for c in rng.choice(list(alphabet), count)]
            out.append(" ".join(run))
        elif r < 0.22:
            day = str(int(rng.integers(1, 32)))
            month = str(rng.choice(["JAN", "FEB", "MARCH", "MAY", "JUNE", "JULY", "OCT", "DEC"]))
            out.append(f"{day} {month} {int(rng.integers(1995, 2031))}")
        elif numbered:
            words = _words_line(rng, int(rng.integers(1, 6)))
            out.append(_fit([f"{item}.", *words]))
            item += 1
            if len(out) < lines and rng.random() < 0.3:
                out.append(_fit(_words_line(rng, int(rng.integers(1, 5)))))
        else:
            out.append(_fit(_words_line(rng, int(rng.integers(1, 6)))))
    return "\n".join(out[:lines])


def normalize_text(text: str) -> str:
    """Upper-case, single spaces, no blank lines: the form truth text is stored in."""
    lines = [" ".join(line.upper().split()) for line in text.splitlines()]
    return "\n".join(line for line in lines if line)
