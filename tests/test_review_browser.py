"""The review application in a real browser: Debian's headless Chromium driven by Selenium
through Debian's chromedriver (both given by path, so nothing is downloaded).

Keyboard only: one character corrected, one accepted, Backspace back; then the record, the
result, the text and the crops are checked, and the crops are read as ``--data folder:``.
The README's screenshot is taken here (``REVIEW_SCREENSHOT=docs/review-queue.png``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from review_harness import CHROMEDRIVER, CHROMIUM, ServerThread, chromium, local_batch

from ocr.training.datasets import load
from review.queue import build_queue, review_key, text_key
from review.server import build_app
from review.store import LocalStore
from schemas.page import PageResult
from schemas.review import ReviewRecord

THRESHOLD = 0.8
WAIT_S: float = 30.0
"""Generous: the 2-core machine may be running other test suites at the same time."""


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip(
            "Debian's chromium and chromium-driver are not installed (`make tools` installs "
            "them as root)"
        )
    pytest.importorskip("selenium.webdriver")
    driver = chromium(tmp_path / "profile")
    driver.set_page_load_timeout(WAIT_S)
    yield driver
    driver.quit()


def _wait(driver: Any, condition: Any) -> Any:
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    # A keystroke navigates: elements found on the old page go stale (or "do not belong to
    # the document") while the new one loads; the condition is asked again until it holds.
    ignored = (WebDriverException,)
    return WebDriverWait(driver, WAIT_S, ignored_exceptions=ignored).until(condition)


def _body(driver: Any, name: str) -> str:
    return str(driver.find_element("tag name", "body").get_attribute(f"data-{name}"))


def _press(driver: Any, key: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver).send_keys(key).perform()


def _goes_to_another_item(driver: Any, key: str) -> str:
    """Press ``key`` and wait for the next item's page; its item index."""
    before = _body(driver, "item")
    _press(driver, key)
    _wait(driver, lambda d: _body(d, "item") not in (before, "None", ""))
    _wait(driver, lambda d: d.execute_script("return document.readyState") == "complete")
    return _body(driver, "item")


def screenshot(driver: Any, path: Path) -> Path:
    """The README's picture of the queue: the page as the reviewer sees it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(path))
    return path


def test_keyboard_review_in_chromium_writes_record_result_text_and_crops(
    browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.keys import Keys

    out = local_batch(tmp_path / "batch")
    crops = tmp_path / "crops"
    server = ServerThread(build_app(str(out), str(crops), "reviewer1", THRESHOLD))
    try:
        browser.get(server.url + "/")
        _wait(browser, lambda d: d.find_element("id", "reading").text)
        _wait(
            browser,
            lambda d: d.execute_script(
                "return [...document.images].every(i => i.complete && i.naturalWidth > 0)"
            ),
        )
        shot = Path(os.environ.get("REVIEW_SCREENSHOT", tmp_path / "queue.png"))
        assert screenshot(browser, shot).stat().st_size > 0
        assert " of " in browser.find_element("id", "progress").text

        first = int(_body(browser, "item"))
        reading = _body(browser, "reading")
        correction = "Q" if reading != "Q" else "W"
        second = int(_goes_to_another_item(browser, correction.lower()))  # typed lower case
        accepted = _body(browser, "reading")
        third = _goes_to_another_item(browser, Keys.ENTER)
        assert int(third) != second
        total = build_queue(LocalStore(out), THRESHOLD).items
        assert browser.find_element("id", "progress").text == f"2 of {len(total)} reviewed"
        back = _goes_to_another_item(browser, Keys.BACKSPACE)
        assert int(back) == int(third) - 1
        assert browser.find_element("id", "decision").get_attribute("data-status") in (
            "accepted",
            "corrected",
        )
    finally:
        server.stop()

    queue = build_queue(LocalStore(out), THRESHOLD)
    for index, status, text in ((first, "corrected", correction), (second, "accepted", accepted)):
        item = queue.items[index]
        record = ReviewRecord.model_validate_json((out / review_key(item.result_key)).read_bytes())
        decision = record.latest()[item.ref]
        assert (decision.status, decision.text, decision.reviewer) == (status, text, "reviewer1")
        result = PageResult.model_validate_json((out / item.result_key).read_bytes())
        char = result.lines[item.ref.line].words[item.ref.word].characters[item.ref.char]
        assert char.text == text and char.review is not None
        assert char.review.original == item.text
        assert (out / text_key(item.result_key)).read_text() == result.text + "\n"
        assert decision.crop is not None and (crops / decision.crop).is_file()

    data = load(f"folder:{crops}")  # what `scanscribe retrain --data folder:DEST` trains on
    assert len(data) == 2


def test_page_view_fixes_a_whole_word(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.keys import Keys

    out = local_batch(tmp_path / "batch")
    server = ServerThread(build_app(str(out), str(tmp_path / "crops"), "reviewer2", THRESHOLD))
    try:
        key = sorted(build_queue(LocalStore(out), THRESHOLD).results)[0]
        browser.get(f"{server.url}/page?r={key}")
        word = _wait(browser, lambda d: d.find_elements("css selector", ".wbox"))[0]
        line, index = int(word.get_attribute("data-line")), int(word.get_attribute("data-word"))
        length = len(str(word.get_attribute("data-typed")))
        word.click()
        field = _wait(browser, lambda d: d.find_element("id", "word-input"))
        field.send_keys(Keys.CONTROL, "a")
        fixed = ("XY" * length)[:length]
        field.send_keys(fixed.lower(), Keys.ENTER)
        _wait(browser, lambda d: fixed in d.find_element("id", "page-text").text)
    finally:
        server.stop()
    result = PageResult.model_validate_json((out / key).read_bytes())
    assert result.lines[line].words[index].text == fixed
    assert all(c.review is not None for c in result.lines[line].words[index].characters)


def test_conflict_shows_a_message_and_reloads_the_stored_state(
    browser: Any, tmp_path: Path
) -> None:
    import re

    import httpx
    from selenium.webdriver.common.keys import Keys

    out = local_batch(tmp_path / "batch")
    crops = str(tmp_path / "crops")
    mine = ServerThread(build_app(str(out), crops, "me", THRESHOLD))
    theirs = ServerThread(build_app(str(out), crops, "someone-else", THRESHOLD))
    try:
        browser.get(mine.url + "/?i=0")
        _wait(browser, lambda d: d.find_element("id", "reading").text)
        # Meanwhile another reviewer decides the same character on their own server.
        other = httpx.Client(base_url=theirs.url)
        html = other.get("/?i=0").text
        csrf = re.search(r'data-csrf="([^"]+)"', html)
        assert csrf is not None
        r = other.post(
            "/api/decide",
            json={"item": 0, "text": None, "seen": ""},
            headers={"X-CSRF-Token": csrf.group(1)},
        )
        assert r.status_code == 200
        _press(browser, Keys.ENTER)
        notice = _wait(browser, lambda d: d.find_element("id", "notice").text)
        assert "Another reviewer decided this" in notice
        assert "someone-else" in browser.find_element("id", "status").text
        assert _body(browser, "item") == "0"
    finally:
        mine.stop()
        theirs.stop()
    item = build_queue(LocalStore(out), THRESHOLD).items[0]
    record = ReviewRecord.model_validate_json((out / review_key(item.result_key)).read_bytes())
    assert [(d.reviewer, d.status) for d in record.decisions] == [
        ("someone-else", "not-a-character")
    ]
