"""What a reviewer's decision writes, and in which order, so nothing is lost or overwritten.

1. ``<stem>.review.json`` (the ReviewRecord) with a conditional write: the commit point. The
   check "is the character still as the reviewer saw it" is made against the record read
   just before; if another reviewer's write lands in between, the conditional write fails,
   the record is read again and the check repeated, so a decision on the same character is
   a conflict the reviewer sees, and one on another character of the page just merges.
2. The labelled crop ``DEST/<LABEL>/<page sha>-<line>-<char>.png`` (and the previous crop of
   that character removed when the label changed).
3. The page's ``.json`` and ``.txt``, derived from the record: every decided character gets
   its decision and ``review`` (with the model's reading kept as ``original``). Each is
   written conditionally on the version read *before* the record was read, so a writer
   holding an older record can never replace what a newer one wrote; a failed write is
   retried from the newer state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from ocr.forms import reading_text
from review.images import PageImages
from review.queue import decision_token, review_key, text_key
from review.store import ABSENT, Conflict, NotFound, Store
from schemas.page import CharacterReview, PageResult, ReviewStatus
from schemas.review import CharacterRef, ReviewDecision, ReviewRecord

TEXT_TYPE = "text/plain; charset=utf-8"

MAX_ATTEMPTS: int = 8
"""Conditional writes retried this often when other reviewers keep writing the same page."""

NOT_A_CHARACTER: ReviewStatus = "not-a-character"
TRAINING_LABELS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
"""Labels a crop is written for: the recognizer's classes (``ocr.classes``), not "."."""


class DecisionError(Exception):
    """A decision that cannot be applied (bad character, unknown position)."""


class DecisionConflict(DecisionError):
    """The character changed since the reviewer saw it; ``current`` is what is stored now."""

    def __init__(self, message: str, current: ReviewDecision | None, key: str = "") -> None:
        super().__init__(message)
        self.current = current
        self.key = key


@dataclass(frozen=True)
class Change:
    """A reviewer's wish for one character, and the state (decision token) they saw."""

    ref: CharacterRef
    status: ReviewStatus
    text: str | None
    seen: str


def _json(doc: PageResult | ReviewRecord) -> bytes:
    return (doc.model_dump_json(indent=2) + "\n").encode()


def crop_key(result: PageResult, ref: CharacterRef, label: str) -> str:
    """``LABEL/<sha>-<line>-<char>.png``; line and character (within the line) 1-based, and
    ``.pNNN`` after the sha for a page of a multi-page file."""
    src = result.source
    page = f".p{src.page_index + 1:03d}" if src.page_count > 1 else ""
    line = result.lines[ref.line]
    index = sum(len(w.characters) for w in line.words[: ref.word]) + ref.char
    return f"{label}/{src.sha256}{page}-{ref.line + 1}-{index + 1}.png"


def check_change(result: PageResult, change: Change) -> None:
    try:
        char = result.lines[change.ref.line].words[change.ref.word].characters[change.ref.char]
    except IndexError as e:
        raise DecisionError(f"no character at {change.ref.model_dump()}") from e
    if change.status == NOT_A_CHARACTER:
        if change.text is not None:
            raise DecisionError("not-a-character takes no text")
        return
    if change.text is None or len(change.text) != 1:
        raise DecisionError("a decision needs one character")
    if change.text not in TRAINING_LABELS and change.text not in (".", ","):
        raise DecisionError(f"{change.text!r} is not a character the recognizer knows (A-Z, 0-9)")
    original = char.review.original if char.review is not None else char.text
    expected: ReviewStatus = "accepted" if change.text == original else "corrected"
    if change.status != expected:
        raise DecisionError(f"{change.status} does not fit {original!r} -> {change.text!r}")


def apply_record(result: PageResult, record: ReviewRecord) -> PageResult:
    """Apply every decision in force to ``result`` (in place: callers pass a freshly read
    copy) and rebuild the texts; not-a-character boxes stay but leave the word's text."""
    out = result
    for ref, d in record.latest().items():
        try:
            char = out.lines[ref.line].words[ref.word].characters[ref.char]
        except IndexError:
            continue  # a record of an older result of this page: nothing to apply it to
        if char.box != d.box:
            continue  # the page was transcribed again and this box is another character
        original = char.review.original if char.review is not None else char.text
        char.review = CharacterReview(
            status=d.status, original=original, reviewer=d.reviewer, at=d.at
        )
        char.text = d.text if d.text is not None else original
    for line in out.lines:
        for word in line.words:
            word.text = "".join(
                c.text
                for c in word.characters
                if c.review is None or c.review.status != NOT_A_CHARACTER
            )
        line.text = " ".join(w.text for w in line.words if w.text)
    # As the pipeline builds it: a form's field values keep their place in the text.
    out.text = (
        reading_text(out.lines, out.fields)
        if out.fields
        else "\n".join(ln.text for ln in out.lines)
    )
    return out


def _new_record(key: str, result: PageResult) -> ReviewRecord:
    return ReviewRecord(
        result=key,
        source=result.source.path_or_uri,
        source_sha256=result.source.sha256,
        page_index=result.source.page_index,
        model=result.model,
        revision=0,
        decisions=[],
        updated_at=datetime.now(UTC),
    )


def _read_record(store: Store, key: str, result: PageResult) -> tuple[ReviewRecord, str]:
    try:
        v = store.read(review_key(key))
    except NotFound:
        return _new_record(key, result), ABSENT
    return ReviewRecord.model_validate_json(v.data), v.version


def _commit(
    store: Store, key: str, result: PageResult, changes: list[Change], reviewer: str
) -> tuple[ReviewRecord, list[ReviewDecision]]:
    """Step 1: append the decisions to the record with a conditional write. ``result`` gives
    the characters' boxes, readings and probabilities, which reviews never change."""
    for _ in range(MAX_ATTEMPTS):
        record, version = _read_record(store, key, result)
        if record.source_sha256 != result.source.sha256 or record.model != result.model:
            raise DecisionError(
                f"{store.describe(review_key(key))} records decisions on an earlier result "
                f"(another source file or model) than {store.describe(key)}; move it aside "
                "to review the new result"
            )
        latest = record.latest()
        for change in changes:
            check_change(result, change)
            current = latest.get(change.ref)
            if decision_token(current) != change.seen:
                who = (
                    f"now {current.status} by {current.reviewer} at {current.at:%H:%M:%S}"
                    if current is not None
                    else "now undecided"
                )
                raise DecisionConflict(
                    f"this character was changed by another reviewer ({who}) while you "
                    "were looking at it",
                    current,
                    key,
                )
        now = datetime.now(UTC)
        new = []
        for change in changes:
            char = result.lines[change.ref.line].words[change.ref.word].characters[change.ref.char]
            original = char.review.original if char.review is not None else char.text
            label = change.text if change.text in TRAINING_LABELS else None
            new.append(
                ReviewDecision(
                    ref=change.ref,
                    box=char.box,
                    model_text=original,
                    model_confidence=char.confidence,
                    alternatives=char.alternatives,
                    flagged=char.flag is not None,
                    status=change.status,
                    text=change.text,
                    reviewer=reviewer,
                    at=now,
                    crop=crop_key(result, change.ref, label) if label else None,
                )
            )
        updated = record.model_copy(
            update={
                "decisions": record.decisions + new,
                "revision": record.revision + 1,
                "updated_at": now,
            }
        )
        try:
            store.write(review_key(key), _json(updated), "application/json", expected=version)
        except Conflict:
            continue
        return updated, [latest[c.ref] for c in changes if c.ref in latest]
    raise DecisionConflict("the page kept changing under other reviewers; try again", None, key)


def sync_result(store: Store, key: str) -> PageResult:
    """Step 3: bring ``.json`` and ``.txt`` up to the record (idempotent)."""
    for _ in range(MAX_ATTEMPTS):
        before = store.read(key)  # read BEFORE the record: see the module docstring
        result = PageResult.model_validate_json(before.data)
        record, _ = _read_record(store, key, result)
        updated = apply_record(result, record)
        data = _json(updated)
        if data == before.data:
            break
        try:
            store.write(
                key, data, "application/json", expected=before.version, metadata=before.metadata
            )
        except Conflict:
            continue
        break
    else:
        raise DecisionConflict(f"{store.describe(key)} kept changing; try again", None, key)
    txt = text_key(key)
    for _ in range(MAX_ATTEMPTS):
        try:
            old = store.read(txt)
            version, metadata, old_text = old.version, old.metadata, old.data
        except NotFound:
            version, metadata, old_text = ABSENT, {}, None
        now = store.read(key).data  # read AFTER the .txt: the same order argument
        current = updated if now == data else PageResult.model_validate_json(now)
        text = (current.text + "\n").encode()
        if old_text == text:
            return current
        try:
            store.write(txt, text, TEXT_TYPE, expected=version, metadata=metadata)
        except Conflict:
            continue
        return current
    raise DecisionConflict(f"{store.describe(txt)} kept changing; try again", None, key)


def decide(
    store: Store,
    crops: Store,
    images: PageImages,
    key: str,
    changes: list[Change],
    reviewer: str,
    result: PageResult | None = None,
) -> ReviewRecord:
    """Record ``changes`` on the page result ``key`` (all or none), write their crops and
    update the result and its text. ``result``: the page's result as read before (boxes,
    readings), to save reading it again. Raises DecisionConflict / DecisionError."""
    if not changes:
        raise DecisionError("nothing to decide")
    with store.transaction():
        # Cut the crops first: a page image that cannot be read refuses the decision before
        # anything is written, instead of leaving a record whose crop is missing.
        before = result or PageResult.model_validate_json(store.read(key).data)
        pictures = {}
        for change in changes:
            check_change(before, change)
            if change.text in TRAINING_LABELS:
                char = before.lines[change.ref.line].words[change.ref.word]
                box = char.characters[change.ref.char].box
                pictures[change.ref] = images.training_crop(before, _box(box))
        record, previous = _commit(store, key, before, changes, reviewer)
        new = record.decisions[-len(changes) :]
        for d in new:
            if d.crop:
                crops.write(d.crop, pictures[d.ref], "image/png")
        kept = {d.crop for d in new if d.crop}
        for old in previous:
            if old.crop and old.crop not in kept:
                crops.delete(old.crop)
        sync_result(store, key)
    return record


def _box(b: list[int]) -> tuple[int, int, int, int]:
    return (b[0], b[1], b[2], b[3])
