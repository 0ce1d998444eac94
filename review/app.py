"""The review web application: routes, pages and the JSON endpoints a keystroke calls.

Server-rendered HTML (Jinja2, autoescaped) and one small plain-JavaScript file; nothing is
built and nothing is fetched from elsewhere. Security (see ``review.security``): a token
when not bound to loopback, a CSRF token on every state-changing request, no uploads, and
only result keys the queue found under SOURCE are ever addressed by a request.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ocr.io.overlay import FLAG_COLOUR, confidence_colour
from review.decisions import NOT_A_CHARACTER, Change, DecisionConflict, DecisionError, decide
from review.images import ImageUnavailable, PageImages
from review.queue import Queue, build_queue, decision_token, read_record, read_result
from review.security import HEALTH_PATH, MAX_BODY_BYTES, SecurityMiddleware
from review.store import Store, StoreError
from review.views import ItemViews
from schemas.page import PageResult, ReviewStatus
from schemas.review import CharacterRef, ReviewDecision

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"

NOT_A_CHARACTER_KEY = "-"
"""The key that marks a box as "not a character" (Delete does too)."""

REFRESH_ALL_AFTER_S: float = 20.0
"""How stale the other pages' review state may get before a queue page re-reads every
record (decisions of other reviewers then show in the progress count)."""

CACHED_RESULTS: int = 256
"""Parsed page results kept (about 0.1-0.3 MB each): the pages of the items around the one
shown, not the whole batch."""

CACHE_IMAGES = "private, max-age=3600"
"""Pictures of an item never change (boxes and page are fixed); the browser may keep them."""

NOTICES = {
    "conflict": "Another reviewer decided this while you were looking at it. Reloaded: this "
    "is what is stored now; decide again if you disagree.",
    "done": "Every character in the queue is reviewed.",
}
"""Messages a redirect may ask a page to show (a code in the URL, never free text)."""


@dataclass
class ReviewConfig:
    source: str
    crops: str
    reviewer: str
    threshold: float
    token: str = ""
    loopback: bool = True


@dataclass
class ReviewState:
    config: ReviewConfig
    store: Store
    crops: Store
    images: PageImages
    queue: Queue
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    refreshed_at: float = field(default_factory=time.monotonic)
    originals: OrderedDict[str, PageResult] = field(default_factory=OrderedDict)
    originals_lock: threading.Lock = field(default_factory=threading.Lock)
    views: ItemViews | None = None
    refreshing: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.views = ItemViews(self.queue.items, self.images, self.result)

    def refresh_soon(self) -> None:
        """Re-read every record in a background thread when they are stale (on S3 that is
        one GET a page: not something a keystroke should wait for)."""
        if time.monotonic() - self.refreshed_at < REFRESH_ALL_AFTER_S:
            return
        if not self.refreshing.acquire(blocking=False):
            return  # one is running

        def run() -> None:
            try:
                self.refresh()
            except (StoreError, OSError, ValidationError) as e:
                log.warning("refreshing the review records failed: %s", e)
            finally:
                self.refreshing.release()

        threading.Thread(target=run, name="review-refresh", daemon=True).start()

    def result(self, key: str) -> PageResult:
        """A page result as first read: boxes and source never change, only texts do."""
        with self.originals_lock:
            if key in self.originals:
                self.originals.move_to_end(key)
                return self.originals[key]
        result = read_result(self.store, key)
        if result is None:
            raise StoreError(f"{self.store.describe(key)}: not a page result")
        with self.originals_lock:
            self.originals[key] = result
            while len(self.originals) > CACHED_RESULTS:
                self.originals.popitem(last=False)
        return result

    def refresh(self, keys: set[str] | None = None) -> None:
        """Re-read review records (all, or of ``keys``): other reviewers' decisions."""
        for key in sorted(keys if keys is not None else self.queue.results):
            self.queue.update(key, read_record(self.store, key))
        if keys is None:
            self.refreshed_at = time.monotonic()


class DecideBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item: int = Field(ge=0)
    text: str | None = Field(max_length=1, description="None = not a character")
    seen: str = Field(max_length=200)


class WordBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    result: str = Field(max_length=1024)
    line: int = Field(ge=0)
    word: int = Field(ge=0)
    text: str = Field(min_length=1, max_length=64)
    seen: list[str] = Field(max_length=64)


_env = Environment(
    loader=PackageLoader("review", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


DIGIT_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def describe(char: str) -> str:
    """ "letter O" / "digit 0 (zero)": in many fonts O and 0, I and 1 look alike, and telling
    them apart is the very decision asked for."""
    if char.isdigit():
        return f"digit {char} ({DIGIT_NAMES[int(char)]})"
    if char.isalpha():
        return f"letter {char}"
    return f"mark {char}"


_env.globals["describe"] = describe


def _css(colour: tuple[int, int, int]) -> str:
    return "rgb({}, {}, {})".format(*colour)


def _html(name: str, **context: Any) -> HTMLResponse:
    return HTMLResponse(_env.get_template(name).render(**context))


def _status_of(original: str, text: str | None) -> ReviewStatus:
    if text is None:
        return NOT_A_CHARACTER
    return "accepted" if text == original else "corrected"


def _item_context(state: ReviewState, i: int) -> dict[str, Any]:
    q = state.queue
    item = q.items[i]
    decision = q.decision(i)
    return {
        "item": item,
        "i": i,
        "decision": decision,
        "seen": decision_token(decision),
        "prev": i - 1 if i > 0 else None,
        "next": i + 1 if i + 1 < len(q.items) else None,
    }


async def queue_page(request: Request) -> Response:
    state: ReviewState = request.app.state.review
    q = state.queue
    notice = NOTICES.get(request.query_params.get("notice", ""))
    raw = request.query_params.get("i")

    def prepare() -> int | None:
        state.refresh_soon()
        if raw is not None:
            i = int(raw) if raw.isdigit() else -1
            if not 0 <= i < len(q.items):
                return -1
            state.refresh({q.items[i].result_key})
            return i
        start = 0
        for _ in range(len(q.items)):  # skip what other reviewers decided meanwhile
            found = q.next_open(start)
            if found is None:
                return None
            before = q.decision(found)
            state.refresh({q.items[found].result_key})
            if q.decision(found) == before:
                return found
            start = found
        return None

    i = await run_in_threadpool(prepare)
    if i is not None and i >= 0 and state.views is not None:
        state.views.prefetch(i, lambda j: q.next_open(j))
    common = {
        "csrf": state.csrf,
        "total": len(q.items),
        "reviewed": q.reviewed(),
        "notice": notice,
        "threshold": state.config.threshold,
        "source": state.config.source,
        "reviewer": state.config.reviewer,
        "not_a_character_key": NOT_A_CHARACTER_KEY,
    }
    if i == -1:
        return _html("message.html", message="No such item in the queue.", **common)
    if i is None:
        return _html("message.html", message=NOTICES["done"], **common)
    return _html("queue.html", **common, **_item_context(state, i))


async def _item_view(request: Request, kind: str) -> Response:
    state: ReviewState = request.app.state.review
    i = int(request.path_params["i"])
    if not 0 <= i < len(state.queue.items) or state.views is None:
        return Response("no such item", status_code=404)
    views = state.views
    try:
        data = await run_in_threadpool(views.get, i, kind)
    except (ImageUnavailable, StoreError) as e:
        return Response(str(e), status_code=404, media_type="text/plain")
    return Response(data, media_type="image/png", headers={"Cache-Control": CACHE_IMAGES})


async def line_image(request: Request) -> Response:
    return await _item_view(request, "line")


async def char_image(request: Request) -> Response:
    return await _item_view(request, "char")


def _known_result(state: ReviewState, key: str | None) -> str | None:
    """Only result keys the queue found under SOURCE may be named by a request."""
    return key if key is not None and key in state.queue.results else None


async def _decision(
    request: Request, model: type[BaseModel], act: Callable[[ReviewState, Any], str | None]
) -> tuple[ReviewState, Any, JSONResponse | None]:
    """Parse the JSON body and run ``act`` (state, body) -> result key touched, in a thread;
    the refusal as a JSON response, or None when the decision was written."""
    state: ReviewState = request.app.state.review
    body = await request.body()
    try:
        if len(body) > MAX_BODY_BYTES:
            raise ValueError("request too large")
        parsed = model.model_validate_json(body)
    except (ValidationError, ValueError) as e:
        return state, None, _error("bad-request", str(e), 400)
    try:
        key = await run_in_threadpool(act, state, parsed)
    except DecisionConflict as e:
        state.refresh({e.key} if e.key else None)
        return state, parsed, _error("conflict", str(e), 409)
    except (DecisionError, ImageUnavailable) as e:
        return state, parsed, _error("refused", str(e), 422)
    if key is None:
        return state, parsed, _error("not-found", "no such item or result", 404)
    return state, parsed, None


def _error(code: str, message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status)


def _decide_item(state: ReviewState, body: DecideBody) -> str | None:
    q = state.queue
    if body.item >= len(q.items):
        return None
    item = q.items[body.item]
    text = body.text.upper() if body.text is not None else None
    change = Change(ref=item.ref, status=_status_of(item.text, text), text=text, seen=body.seen)
    record = decide(
        state.store,
        state.crops,
        state.images,
        item.result_key,
        [change],
        state.config.reviewer,
        state.result(item.result_key),
    )
    q.update(item.result_key, record)
    return item.result_key


async def api_decide(request: Request) -> Response:
    state, body, refused = await _decision(request, DecideBody, _decide_item)
    if refused is not None:
        return refused
    q = state.queue
    nxt = q.next_open(body.item + 1)
    return JSONResponse({"ok": True, "next": nxt, "reviewed": q.reviewed(), "total": len(q.items)})


def _decide_word(state: ReviewState, body: WordBody) -> str | None:
    key = _known_result(state, body.result)
    if key is None:
        return None
    result = state.result(key)
    try:
        chars = result.lines[body.line].words[body.word].characters
    except IndexError as e:
        raise DecisionError("no such word") from e
    if len(body.text) != len(chars) or len(body.seen) != len(chars):
        raise DecisionError(
            f"the word has {len(chars)} boxes: type one character per box "
            f"({NOT_A_CHARACTER_KEY} for a box that holds no character)"
        )
    changes = []
    typed_seen = zip(chars, body.text.upper(), body.seen, strict=True)
    for ci, (char, typed, seen) in enumerate(typed_seen):
        original = char.review.original if char.review is not None else char.text
        text = None if typed == NOT_A_CHARACTER_KEY else typed
        ref = CharacterRef(line=body.line, word=body.word, char=ci)
        changes.append(Change(ref=ref, status=_status_of(original, text), text=text, seen=seen))
    record = decide(
        state.store, state.crops, state.images, key, changes, state.config.reviewer, result
    )
    state.queue.update(key, record)
    return key


async def api_word(request: Request) -> Response:
    state, _, refused = await _decision(request, WordBody, _decide_word)
    return refused or JSONResponse({"ok": True, "reviewed": state.queue.reviewed()})


def _page_boxes(
    result: PageResult, decided: dict[CharacterRef, ReviewDecision]
) -> list[dict[str, Any]]:
    w, h = result.source.width, result.source.height
    words = []
    for li, line in enumerate(result.lines):
        for wi, word in enumerate(line.words):
            chars = []
            for ci, c in enumerate(word.characters):
                d = decided.get(CharacterRef(line=li, word=wi, char=ci))
                chars.append(
                    {
                        "text": c.text,
                        "left": 100 * c.box[0] / w,
                        "top": 100 * c.box[1] / h,
                        "width": 100 * (c.box[2] - c.box[0]) / w,
                        "height": 100 * (c.box[3] - c.box[1]) / h,
                        "colour": _css(confidence_colour(c.confidence)),
                        "flagged": c.flag is not None,
                        "reviewed": c.review is not None,
                        "seen": decision_token(d),
                    }
                )
            words.append(
                {
                    "line": li,
                    "word": wi,
                    "text": word.text,
                    "typed": "".join(
                        NOT_A_CHARACTER_KEY
                        if c.review is not None and c.review.status == NOT_A_CHARACTER
                        else c.text
                        for c in word.characters
                    ),
                    "left": 100 * word.box[0] / w,
                    "top": 100 * word.box[1] / h,
                    "width": 100 * (word.box[2] - word.box[0]) / w,
                    "height": 100 * (word.box[3] - word.box[1]) / h,
                    "chars": chars,
                }
            )
    return words


async def page_view(request: Request) -> Response:
    state: ReviewState = request.app.state.review
    key = _known_result(state, request.query_params.get("r"))
    if key is None:
        return Response("no such result", status_code=404, media_type="text/plain")

    def load() -> tuple[PageResult | None, dict[CharacterRef, ReviewDecision]]:
        record = read_record(state.store, key)
        state.queue.update(key, record)
        return read_result(state.store, key), record.latest() if record else {}

    result, decided = await run_in_threadpool(load)
    if result is None:
        return Response("no such result", status_code=404, media_type="text/plain")
    notice = NOTICES.get(request.query_params.get("notice", ""))
    back = request.query_params.get("i", "")
    return _html(
        "page.html",
        csrf=state.csrf,
        key=key,
        result=result,
        words=_page_boxes(result, decided),
        flag_colour=_css(FLAG_COLOUR),
        notice=notice,
        back=int(back) if back.isdigit() else None,
        total=len(state.queue.items),
        reviewed=state.queue.reviewed(),
        source=state.config.source,
        reviewer=state.config.reviewer,
        not_a_character_key=NOT_A_CHARACTER_KEY,
    )


async def page_image(request: Request) -> Response:
    state: ReviewState = request.app.state.review
    key = _known_result(state, request.query_params.get("r"))
    if key is None:
        return Response("no such result", status_code=404, media_type="text/plain")
    try:
        data = await run_in_threadpool(lambda: state.images.page_view(state.result(key)))
    except (ImageUnavailable, StoreError) as e:
        return Response(str(e), status_code=404, media_type="text/plain")
    return Response(
        data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"}
    )


async def healthz(request: Request) -> Response:
    """For container health checks: answers without the token and tells nothing."""
    return Response("ok\n", media_type="text/plain")


def create_app(config: ReviewConfig, store: Store, crops: Store, images: PageImages) -> Starlette:
    """The application over ``store`` (SOURCE) writing crops to ``crops`` (DEST)."""
    queue = build_queue(store, config.threshold)
    routes = [
        Route("/", queue_page),
        Route(HEALTH_PATH, healthz),
        Route("/img/line/{i:int}.png", line_image),
        Route("/img/char/{i:int}.png", char_image),
        Route("/page", page_view),
        Route("/page.jpg", page_image),
        Route("/api/decide", api_decide, methods=["POST"]),
        Route("/api/word", api_word, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    app = Starlette(routes=routes)
    state = ReviewState(config=config, store=store, crops=crops, images=images, queue=queue)
    app.state.review = state
    app.add_middleware(
        SecurityMiddleware, token=config.token, csrf=state.csrf, loopback=config.loopback
    )
    log.info(
        "review of %s: %d characters to review in %d pages (threshold %.2f)",
        config.source,
        len(queue.items),
        len(queue.results),
        config.threshold,
    )
    return app
