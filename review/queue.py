"""The review queue: every character of a batch that a person should look at, most doubtful
first.

Why these characters: a confusion flag means the classifier (or a context rule) chose between
two classic look-alikes, and a low top-1 probability means the classifier itself doubted;
everything else is read reliably enough that asking about it would waste the reviewer's time
(``bench/review_coverage.py`` measures both sides of that trade).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from pydantic import ValidationError

from review.store import NotFound, Store, StoreError
from schemas.page import Character, PageResult
from schemas.review import CharacterRef, ReviewDecision, ReviewRecord

log = logging.getLogger(__name__)

RESULT_SUFFIX = ".json"
REVIEW_SUFFIX = ".review.json"
NOT_RESULTS = (REVIEW_SUFFIX, ".error.json")
BATCH_SUMMARY = "_batch.json"

DEFAULT_THRESHOLD: float = 0.8
"""Characters whose top-1 probability is below this are asked about even without a flag
(see the README's coverage table for what other values ask and catch)."""

PUNCTUATION = "."
"""Marks found by shape, not by the classifier (confidence 1.0): never asked about."""


def review_key(result_key: str) -> str:
    """``dir/page.json`` -> ``dir/page.review.json``."""
    return result_key[: -len(RESULT_SUFFIX)] + REVIEW_SUFFIX


def text_key(result_key: str) -> str:
    return result_key[: -len(RESULT_SUFFIX)] + ".txt"


def is_result_key(key: str) -> bool:
    name = key.rsplit("/", 1)[-1]
    return key.endswith(RESULT_SUFFIX) and not key.endswith(NOT_RESULTS) and name != BATCH_SUMMARY


def needs_review(char: Character, threshold: float) -> bool:
    if char.text == PUNCTUATION and not char.alternatives:
        return False
    return char.flag is not None or char.confidence < threshold


@dataclass(frozen=True)
class Item:
    """One character to review, with what the queue page shows about it."""

    result_key: str
    ref: CharacterRef
    text: str
    confidence: float
    alternatives: tuple[tuple[str, float], ...]
    flag_readings: tuple[str, ...] | None
    flag_rule: str | None
    box: tuple[int, int, int, int]
    word_box: tuple[int, int, int, int]
    line_box: tuple[int, int, int, int]
    word_text: str
    line_text: str

    @property
    def key(self) -> tuple[str, CharacterRef]:
        return (self.result_key, self.ref)


def decision_token(d: ReviewDecision | None) -> str:
    """What a client saw of a character's state; a write whose token no longer matches the
    stored state is a conflict (someone decided in between)."""
    if d is None:
        return ""
    return f"{d.status}:{d.text or ''}:{d.reviewer}:{d.at.isoformat()}"


def page_items(key: str, result: PageResult, threshold: float) -> list[Item]:
    out = []
    for li, line in enumerate(result.lines):
        for wi, word in enumerate(line.words):
            for ci, char in enumerate(word.characters):
                if not needs_review(char, threshold):
                    continue
                original = char.review.original if char.review is not None else char.text
                out.append(
                    Item(
                        result_key=key,
                        ref=CharacterRef(line=li, word=wi, char=ci),
                        text=original,
                        confidence=char.confidence,
                        alternatives=tuple((a.char, a.prob) for a in char.alternatives),
                        flag_readings=tuple(char.flag.readings) if char.flag else None,
                        flag_rule=(char.flag.rule or char.flag.reason) if char.flag else None,
                        box=_box(char.box),
                        word_box=_box(word.box),
                        line_box=_box(line.box),
                        word_text=word.text,
                        line_text=line.text,
                    )
                )
    return out


def _box(b: list[int]) -> tuple[int, int, int, int]:
    return (b[0], b[1], b[2], b[3])


def read_result(store: Store, key: str) -> PageResult | None:
    """The PageResult under ``key``, or None for another document (an error record, a
    summary) or one that does not parse (logged: the rest of the batch is still reviewable)."""
    try:
        data = store.read(key).data
    except NotFound:
        return None
    except StoreError as e:  # e.g. a symlink out of SOURCE: never followed
        log.warning("%s left out of the queue: %s", key, e)
        return None
    try:
        return PageResult.model_validate_json(data)
    except ValidationError as e:
        log.warning("%s: not a page result, left out of the queue (%s)", store.describe(key), e)
        return None


def read_record(store: Store, result_key: str) -> ReviewRecord | None:
    try:
        data = store.read(review_key(result_key)).data
    except NotFound:
        return None
    return ReviewRecord.model_validate_json(data)


@dataclass
class Queue:
    """The batch's queue in review order, and which of its items are decided."""

    items: list[Item]
    results: set[str]
    decided: dict[tuple[str, CharacterRef], ReviewDecision] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    boxes: dict[str, dict[CharacterRef, tuple[int, int, int, int]]] = field(default_factory=dict)
    """Per page, the box of each queued character: a decision counts only on its own box."""

    def __post_init__(self) -> None:
        for it in self.items:
            self.boxes.setdefault(it.result_key, {})[it.ref] = it.box

    def index_of(self, key: str, ref: CharacterRef) -> int | None:
        for i, item in enumerate(self.items):
            if item.result_key == key and item.ref == ref:
                return i
        return None

    def reviewed(self) -> int:
        with self.lock:
            return sum(item.key in self.decided for item in self.items)

    def decision(self, i: int) -> ReviewDecision | None:
        with self.lock:
            return self.decided.get(self.items[i].key)

    def next_open(self, start: int) -> int | None:
        """The first undecided item at or after ``start``, wrapping round; None when all
        are decided."""
        n = len(self.items)
        with self.lock:
            for k in range(n):
                i = (start + k) % n
                if self.items[i].key not in self.decided:
                    return i
        return None

    def update(self, key: str, record: ReviewRecord | None) -> None:
        """Take a page's decisions as they are stored now (ours or another reviewer's)."""
        if record is None:
            return
        boxes = self.boxes.get(key, {})
        with self.lock:
            for ref, d in record.latest().items():
                if boxes.get(ref) == tuple(d.box):  # not a decision on an earlier result
                    self.decided[(key, ref)] = d


def build_queue(store: Store, threshold: float) -> Queue:
    """Read every page result under the store's root; which items are decided comes from
    the review records."""
    items: list[Item] = []
    results: set[str] = set()
    records: dict[str, ReviewRecord] = {}
    for key in store.list(RESULT_SUFFIX):
        if not is_result_key(key):
            continue
        result = read_result(store, key)
        if result is None:
            continue
        results.add(key)
        items += page_items(key, result, threshold)
        try:
            record = read_record(store, key)
        except (StoreError, ValidationError) as e:
            log.warning("%s: unreadable review record (%s)", store.describe(review_key(key)), e)
            continue
        if record is not None:
            records[key] = record
    page_order = {key: i for i, key in enumerate(sorted(results))}
    items.sort(
        key=lambda it: (
            it.confidence,
            it.flag_readings is None,
            page_order[it.result_key],
            (it.ref.line, it.ref.word, it.ref.char),
        )
    )
    queue = Queue(items=items, results=results)
    for key, record in records.items():
        queue.update(key, record)
    return queue
