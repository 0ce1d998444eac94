"""The queue's pictures, made ahead of the keystroke that asks for them.

Why: the queue goes in doubt order across the whole batch, so the next item is nearly always
on another page, and decoding a 3-4 MP photo takes longer than the whole keystroke budget.
While the reviewer looks at item i, one background thread decodes the pages of the next
items and renders their pictures; the request for them then finds them ready (or waits for
the render already under way instead of starting a second one).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from review.images import ImageUnavailable, PageImages
from review.queue import Item
from schemas.page import PageResult

log = logging.getLogger(__name__)

PREFETCH_AHEAD: int = 3
"""Items rendered ahead of the one shown: the next decision's item and a little slack for
skips; more would only compete with the reviewer's own requests for the CPU."""

CACHED_VIEWS: int = 96
"""Rendered pictures kept (two per item, ~50-150 KB each)."""

KINDS = ("line", "char")

Key = tuple[int, str]


class ItemViews:
    def __init__(
        self,
        items: list[Item],
        images: PageImages,
        result: Callable[[str], PageResult],
        ahead: int = PREFETCH_AHEAD,
    ) -> None:
        self.items = items
        self.images = images
        self.result = result
        self.ahead = ahead
        self._done: OrderedDict[Key, bytes] = OrderedDict()
        self._running: dict[Key, Future[bytes]] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="review-prefetch")

    def _render(self, key: Key) -> bytes:
        i, kind = key
        item = self.items[i]
        result = self.result(item.result_key)
        if kind == "line":
            return self.images.line_view(result, item.line_box, item.word_box, item.box)
        return self.images.char_view(result, item.line_box, item.box)

    def _store(self, key: Key, data: bytes) -> None:
        with self._lock:
            self._running.pop(key, None)
            self._done[key] = data
            while len(self._done) > CACHED_VIEWS:
                self._done.popitem(last=False)

    def get(self, i: int, kind: str) -> bytes:
        """The picture, from the cache, from a render under way, or rendered now."""
        key = (i, kind)
        with self._lock:
            if key in self._done:
                self._done.move_to_end(key)
                return self._done[key]
            running = self._running.get(key)
        if running is not None:
            try:
                return running.result()
            except ImageUnavailable:
                pass  # rendered again below, so the error reaches this request
        data = self._render(key)
        self._store(key, data)
        return data

    def prefetch(self, after: int, order: Callable[[int], int | None]) -> None:
        """Render the pictures of the ``ahead`` items that follow ``after`` (``order``
        gives the item after an index, e.g. the next undecided one)."""
        i: int | None = after
        for _ in range(self.ahead):
            i = order(i + 1) if i is not None else None
            if i is None or i == after:
                return
            for kind in KINDS:
                key = (i, kind)
                with self._lock:
                    if key in self._done or key in self._running:
                        continue
                    self._running[key] = self._pool.submit(self._background, key)

    def _background(self, key: Key) -> bytes:
        try:
            data = self._render(key)
        except ImageUnavailable as e:
            with self._lock:
                self._running.pop(key, None)
            log.warning("item %d: %s", key[0], e)
            raise
        self._store(key, data)
        return data

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
