"""The review application over HTTP (a real uvicorn server), on a local results folder and on
an S3 prefix of a moto server: what a decision writes, conflicts between two reviewers, the
token, CSRF and traversal attempts."""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from review_harness import WORKER_MARK, ServerThread, local_batch, s3_batch

from ocr.training.datasets import load
from review.queue import build_queue, is_result_key, needs_review
from review.server import build_app
from review.store import ABSENT, Conflict, LocalStore, S3Store, StoreError, check_key, open_store
from schemas.page import PageResult
from schemas.review import ReviewRecord
from worker.cli import main as scanscribe
from worker.settings import Settings
from worker.storage import Storage
from worker.training import fetch_dataset

THRESHOLD = 0.8
TOKEN = "test-review-token-0123456789"


@pytest.fixture(scope="module")
def made_batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return local_batch(tmp_path_factory.mktemp("review-batch"))


@pytest.fixture
def out(made_batch: Path, tmp_path: Path) -> Path:
    """A fresh copy of the transcribed batch for each test (the images stay where the
    results point)."""
    dest = tmp_path / "out"
    shutil.copytree(made_batch, dest)
    return dest


@dataclass
class Place:
    """A batch to review, where its crops go, and how to read both back."""

    source: str
    crops: str
    store: Any
    crops_store: Any
    client: Any = None

    def app(self, reviewer: str, token: str = "", loopback: bool = True) -> Any:
        return build_app(
            self.source, self.crops, reviewer, THRESHOLD, token, loopback, client=self.client
        )


_bucket_count = iter(range(1000))


@pytest.fixture(params=["local", "s3"])
def place(request: pytest.FixtureRequest, tmp_path: Path) -> Place:
    if request.param == "local":
        out = request.getfixturevalue("out")
        crops = tmp_path / "crops"
        return Place(str(out), str(crops), LocalStore(out), LocalStore(crops))
    moto = request.getfixturevalue("moto_server")
    client = moto.client()
    bucket = f"review-{next(_bucket_count)}"
    source = s3_batch(client, bucket, tmp_path / "pages")
    crops = f"s3://{bucket}/crops/"
    return Place(
        source,
        crops,
        open_store(source, lambda: client),
        open_store(crops, lambda: client),
        client,
    )


@pytest.fixture
def servers() -> Iterator[list[ServerThread]]:
    started: list[ServerThread] = []
    yield started
    for s in started:
        s.stop()


def serve(servers: list[ServerThread], app: Any) -> httpx.Client:
    server = ServerThread(app)
    servers.append(server)
    return httpx.Client(base_url=server.url, timeout=30)


def open_item(c: httpx.Client, i: int | None = None) -> dict[str, str]:
    """What the queue page tells its JavaScript: csrf, item, reading, seen."""
    r = c.get("/" if i is None else f"/?i={i}")
    assert r.status_code == 200, r.text
    fields = dict(re.findall(r'data-(csrf|item|reading|seen)="([^"]*)"', r.text))
    fields["html"] = r.text
    return fields


def decide(c: httpx.Client, page: dict[str, str], text: str | None) -> httpx.Response:
    return c.post(
        "/api/decide",
        json={"item": int(page["item"]), "text": text, "seen": page["seen"].replace("&#43;", "+")},
        headers={"X-CSRF-Token": page["csrf"]},
    )


def other_than(reading: str) -> str:
    return "Q" if reading != "Q" else "W"


def test_queue_holds_every_flagged_or_doubtful_character_most_doubtful_first(out: Path) -> None:
    store = LocalStore(out)
    queue = build_queue(store, THRESHOLD)
    expected = 0
    for key in store.list(".json"):
        if is_result_key(key):
            result = PageResult.model_validate_json(store.read(key).data)
            expected += sum(
                needs_review(c, THRESHOLD)
                for ln in result.lines
                for w in ln.words
                for c in w.characters
            )
    assert len(queue.items) == expected > 0
    confidences = [it.confidence for it in queue.items]
    assert confidences == sorted(confidences)
    assert all(it.flag_readings is not None or it.confidence < THRESHOLD for it in queue.items)


def test_decisions_write_record_result_text_and_crops(
    place: Place, servers: list[ServerThread], tmp_path: Path
) -> None:
    c = serve(servers, place.app("alice"))
    first = open_item(c)
    assert "0 of" in first["html"]
    wrong = other_than(first["reading"])
    r = decide(c, first, wrong)
    assert r.status_code == 200, r.text
    second = open_item(c, r.json()["next"])
    r = decide(c, second, second["reading"])  # Enter: accept
    assert r.status_code == 200, r.text
    assert r.json()["reviewed"] == 2

    queue = build_queue(place.store, THRESHOLD)
    items = [queue.items[int(first["item"])], queue.items[int(second["item"])]]
    for item, status, text in zip(
        items, ["corrected", "accepted"], [wrong, second["reading"]], strict=True
    ):
        key = item.result_key
        record = ReviewRecord.model_validate_json(
            place.store.read(key[: -len(".json")] + ".review.json").data
        )
        d = record.latest()[item.ref]
        assert (d.status, d.text, d.reviewer, d.model_text) == (status, text, "alice", item.text)
        result = PageResult.model_validate_json(place.store.read(key).data)
        char = result.lines[item.ref.line].words[item.ref.word].characters[item.ref.char]
        assert char.text == text
        assert char.review is not None and char.review.status == status
        assert char.review.original == item.text  # the model's reading is kept
        word = result.lines[item.ref.line].words[item.ref.word]
        assert word.text[item.ref.char] == text
        txt = place.store.read(key[: -len(".json")] + ".txt").data.decode()
        assert txt == result.text + "\n" and word.text in txt
        assert d.crop is not None and d.crop.startswith(f"{text}/{result.source.sha256}-")
        if place.client is not None:  # the worker's marks survive the rewrite
            for doc in (key, key[: -len(".json")] + ".txt"):
                assert WORKER_MARK in place.store.read(doc).metadata
        png = place.crops_store.read(d.crop).data
        assert png[:8] == b"\x89PNG\r\n\x1a\n"

    # The crops are what `retrain --data folder:DEST` reads (from S3: as the task fetches it).
    if place.client is not None:
        storage = Storage(place.client, Settings().max_download_bytes)
        spec = fetch_dataset(storage, f"folder:{place.crops}", tmp_path / "fetched")
    else:
        spec = f"folder:{place.crops}"
    data = load(spec)
    assert len(data) == 2 and data.images.shape[1:] == (32, 32)
    assert float(data.images.max()) > 0.5  # ink found on the crop's paper


def test_not_a_character_and_a_changed_mind(out: Path, servers: list[ServerThread]) -> None:
    crops = out.parent / "crops"
    c = serve(servers, build_app(str(out), str(crops), "bob", THRESHOLD))
    page = open_item(c)
    wrong = other_than(page["reading"])
    assert decide(c, page, wrong).status_code == 200
    assert len(list((crops / wrong).glob("*.png"))) == 1
    again = open_item(c, int(page["item"]))  # Backspace: back to it, decided
    assert 'data-status="corrected"' in again["html"]
    assert decide(c, again, None).status_code == 200  # "-": not a character
    assert not list((crops / wrong).glob("*.png"))  # the wrong label's crop is gone

    item = build_queue(LocalStore(out), THRESHOLD).items[int(page["item"])]
    result = PageResult.model_validate_json((out / item.result_key).read_bytes())
    word = result.lines[item.ref.line].words[item.ref.word]
    char = word.characters[item.ref.char]
    assert char.review is not None and char.review.status == "not-a-character"
    assert len(word.text) == len(word.characters) - 1
    record = ReviewRecord.model_validate_json(
        (out / item.result_key.replace(".json", ".review.json")).read_bytes()
    )
    assert [d.status for d in record.decisions] == ["corrected", "not-a-character"]


def test_two_reviewers_conflict_on_a_character_and_merge_on_others(
    place: Place, servers: list[ServerThread]
) -> None:
    a = serve(servers, place.app("alice"))
    b = serve(servers, place.app("bob"))
    seen_by_a, seen_by_b = open_item(a, 0), open_item(b, 0)
    assert decide(a, seen_by_a, seen_by_a["reading"]).status_code == 200
    r = decide(b, seen_by_b, other_than(seen_by_b["reading"]))
    assert r.status_code == 409
    assert "another reviewer" in r.json()["message"] and "alice" in r.json()["message"]
    reloaded = open_item(b, 0)  # what the page shows after the conflict
    assert "by alice" in reloaded["html"]
    assert decide(b, reloaded, other_than(reloaded["reading"])).status_code == 200

    queue = build_queue(place.store, THRESHOLD)
    key = queue.items[0].result_key
    same_page = next(i for i, it in enumerate(queue.items) if it.result_key == key and i != 0)
    pa, pb = open_item(a, same_page), open_item(b, 1 if same_page != 1 else 2)
    assert decide(a, pa, pa["reading"]).status_code == 200
    assert decide(b, pb, pb["reading"]).status_code == 200
    record = ReviewRecord.model_validate_json(
        place.store.read(key.replace(".json", ".review.json")).data
    )
    assert {d.reviewer for d in record.decisions} == {"alice", "bob"}
    assert record.revision == len(record.decisions)  # one write per decision, none lost


def test_conditional_writes_refuse_stale_versions(place: Place) -> None:
    store = place.store
    v1 = store.write("probe.txt", b"one", "text/plain", expected=ABSENT)
    with pytest.raises(Conflict):
        store.write("probe.txt", b"two", "text/plain", expected=ABSENT)
    v2 = store.write("probe.txt", b"two", "text/plain", expected=v1)
    with pytest.raises(Conflict):
        store.write("probe.txt", b"three", "text/plain", expected=v1)
    assert store.read("probe.txt").data == b"two" and store.version("probe.txt") == v2


def test_token_is_required_off_loopback(
    out: Path, servers: list[ServerThread], monkeypatch: pytest.MonkeyPatch
) -> None:
    from worker.settings import get_settings

    monkeypatch.delenv("SCANSCRIBE_REVIEW_TOKEN", raising=False)
    get_settings.cache_clear()
    try:
        code = scanscribe(["review", str(out), "--host", "0.0.0.0", "--port", "1"])
    finally:
        get_settings.cache_clear()
    assert code == 2

    c = serve(servers, build_app(str(out), str(out / "c"), "t", THRESHOLD, TOKEN, False))
    assert c.get("/").status_code == 401
    assert c.get("/page.jpg", params={"r": "page_00.json"}).status_code == 401
    assert c.get("/healthz").text == "ok\n"  # for the container's health check only
    assert c.get("/", params={"token": "wrong"}).status_code == 401
    r = c.get("/", params={"token": TOKEN, "i": "0"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/?i=0"
    assert "httponly" in r.headers["set-cookie"].lower()
    assert "samesite=strict" in r.headers["set-cookie"].lower()
    page = open_item(c, 0)  # the cookie now carries the token
    bearer = httpx.Client(base_url=str(c.base_url), headers={"Authorization": f"Bearer {TOKEN}"})
    assert bearer.get("/?i=0").status_code == 200
    r = bearer.post("/api/decide", json={"item": 0, "text": "A", "seen": ""})
    assert r.status_code == 403  # the token is not a CSRF token
    assert decide(c, page, page["reading"]).status_code == 200


def test_loopback_server_answers_only_loopback_host_names(
    out: Path, servers: list[ServerThread]
) -> None:
    c = serve(servers, build_app(str(out), str(out / "c"), "t", THRESHOLD))
    assert c.get("/", headers={"Host": "localhost"}).status_code == 200
    assert c.get("/", headers={"Host": "evil.example:8080"}).status_code == 421


def test_traversal_attempts_read_and_write_nothing_outside_source(
    out: Path, servers: list[ServerThread], tmp_path: Path
) -> None:
    secret = tmp_path / "secret.json"
    secret.write_text('{"kind": "page"}')
    (out / "escape.json").symlink_to(secret)
    c = serve(servers, build_app(str(out), str(out / "c"), "t", THRESHOLD))
    csrf = open_item(c)["csrf"]
    for url in [
        "/page?r=../secret.json",
        "/page?r=" + str(secret),
        "/page?r=escape.json",
        "/page.jpg?r=..%2F..%2Fetc%2Fpasswd",
        "/page.jpg?r=../in/page_00.jpg",
        "/static/../app.py",
        "/static/%2e%2e/app.py",
        "/static/..%2Fapp.py",
        "/img/line/99999.png",
        "/?i=-1",
    ]:
        r = c.get(url)
        assert r.status_code in (404, 200) and "secret" not in r.text and "import" not in r.text
        if url.startswith(("/page", "/static", "/img")):
            assert r.status_code == 404, url
    r = c.post(
        "/api/word",
        json={"result": "../secret.json", "line": 0, "word": 0, "text": "A", "seen": [""]},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 404
    assert secret.read_text() == '{"kind": "page"}'
    for bad in ["../x", "/etc/passwd", "a/../../x", "a//b", "a\\b", ".", ""]:
        with pytest.raises(StoreError):
            check_key(bad)
    with pytest.raises(StoreError):
        LocalStore(out).read("escape.json")


def test_state_changes_need_the_csrf_token_and_uploads_are_refused(
    out: Path, servers: list[ServerThread]
) -> None:
    c = serve(servers, build_app(str(out), str(out / "c"), "t", THRESHOLD))
    page = open_item(c)
    body = {"item": 0, "text": "A", "seen": ""}
    assert c.post("/api/decide", json=body).status_code == 403
    assert c.post("/api/decide", json=body, headers={"X-CSRF-Token": "x"}).status_code == 403
    good = {"X-CSRF-Token": page["csrf"]}
    assert c.post("/api/decide", data={"item": "0"}, headers=good).status_code == 415
    files = {"file": ("a.png", b"\x89PNG....", "image/png")}
    assert c.post("/api/decide", files=files, headers=good).status_code == 415
    cross = {**good, "Origin": "http://evil.example"}
    assert c.post("/api/decide", json=body, headers=cross).status_code == 403
    big = {"item": 0, "text": "A", "seen": "x" * 20000}
    assert c.post("/api/decide", json=big, headers=good).status_code == 413
    assert c.put("/api/decide", json=body, headers=good).status_code == 405
    assert not list(out.glob("*.review.json"))  # nothing above wrote anything
    r = c.get("/")
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY"


def test_s3_store_keys_stay_under_the_prefix(moto_server: Any) -> None:
    client = moto_server.client()
    client.create_bucket(Bucket="review-prefix")
    store = S3Store(client, "review-prefix", "out/")
    store.write("a/b.json", b"{}", "application/json")
    assert list(store.list(".json")) == ["a/b.json"]
    assert store.describe("a/b.json") == "s3://review-prefix/out/a/b.json"
    with pytest.raises(StoreError):
        store.read("../secret.json")


def test_crop_image_is_the_character_box_of_the_page(
    place: Place, servers: list[ServerThread]
) -> None:
    c = serve(servers, place.app("carol"))
    page = open_item(c)
    assert decide(c, page, page["reading"]).status_code == 200
    item = build_queue(place.store, THRESHOLD).items[int(page["item"])]
    record = ReviewRecord.model_validate_json(
        place.store.read(item.result_key.replace(".json", ".review.json")).data
    )
    crop = record.latest()[item.ref].crop
    assert crop is not None
    img = Image.open(io.BytesIO(place.crops_store.read(crop).data))
    x0, y0, x1, y1 = item.box
    assert img.mode == "L"
    assert abs(img.width - (x1 - x0)) <= 2 and abs(img.height - (y1 - y0)) <= 2
    for view in ("line", "char"):
        r = c.get(f"/img/{view}/{page['item']}.png")
        assert r.status_code == 200 and r.headers["content-type"] == "image/png"


def test_a_record_of_an_earlier_result_is_not_applied_to_a_new_one(
    out: Path, servers: list[ServerThread]
) -> None:
    c = serve(servers, build_app(str(out), str(out / "c"), "dave", THRESHOLD))
    page = open_item(c, 0)
    assert decide(c, page, page["reading"]).status_code == 200
    item = build_queue(LocalStore(out), THRESHOLD).items[0]
    record_path = out / item.result_key.replace(".json", ".review.json")
    record = ReviewRecord.model_validate_json(record_path.read_bytes())
    old = record.model_copy(deep=True)
    old.model.version = "an-earlier-model"  # as if the page was transcribed again since
    record_path.write_text(old.model_dump_json())
    again = open_item(c, 0)
    r = decide(c, again, other_than(again["reading"]))
    assert r.status_code == 422 and "earlier result" in r.json()["message"]
    assert ReviewRecord.model_validate_json(record_path.read_bytes()) == old  # untouched

    moved = record.model_copy(deep=True)
    moved.decisions[0].box = [0, 0, 1, 1]  # a decision about a box this result does not have
    fresh = build_queue(LocalStore(out), THRESHOLD)
    fresh.decided.clear()  # forget what build_queue read from disk
    fresh.update(item.result_key, moved)
    assert fresh.reviewed() == 0
    fresh.update(item.result_key, record)
    assert fresh.reviewed() == 1


def test_applying_decisions_keeps_a_forms_field_values_in_the_text(tmp_path: Path) -> None:
    """The text is rebuilt after decisions as the pipeline builds it: with a form's field
    values in reading order, not from the free lines alone."""
    from ocr.io.imageio import read_pages
    from ocr.model.store import load_model
    from ocr.pipeline import PipelineOptions, transcribe_page
    from ocr.synth.forms import make_forms, save_form
    from review.decisions import _new_record, apply_record

    form = save_form(make_forms(1, [0], seed=5, source="builtin")[0], tmp_path, "form")
    result = transcribe_page(next(read_pages(form)), load_model(), PipelineOptions(fields=True))
    assert any(f.value for f in result.fields)
    text = result.text
    applied = apply_record(result.model_copy(deep=True), _new_record("form.jpg.json", result))
    assert applied.text == text
