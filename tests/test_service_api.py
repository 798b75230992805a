"""The HTTP API (``forewarn serve``): every endpoint and every error code.

Most tests use FastAPI's TestClient against apps built by ``create_app`` with small
limits; a slow scanner (``make_scanner``) drives the time limit and load shedding. One
test runs uvicorn on 127.0.0.1 to show the body limit is enforced while the body streams.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import multiprocessing
import os
import select
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the service needs the serve extra (fastapi)")

from fastapi.testclient import TestClient
from ingest_helpers import AO3_PREFACE, EpubSpec, build_epub, zip_bytes

from forewarn.audit import audit_work
from forewarn.cli import main
from forewarn.detect.lexicon import LexiconDetector
from forewarn.ingest import read_text
from forewarn.report import Report
from forewarn.scanner import Scanner
from forewarn.service.app import create_app
from forewarn.service.models import (
    AuditOut,
    CheckOut,
    ErrorOut,
    HealthOut,
    ReportOut,
    TaxonomyOut,
)
from forewarn.service.settings import Settings
from forewarn.work import Work

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "the-lighthouse-keeper.txt"
QUIET = ROOT / "tests" / "fixtures" / "stories" / "quiet-months.txt"
SALT = ROOT / "tests" / "fixtures" / "audit" / "salt-and-iron.txt"
INGEST = ROOT / "tests" / "fixtures" / "ingest"
PROFILE = {"avoid": {"pregnancy loss": "depicted", "sh": "mentioned",
                     "blood": {"severity": "graphic", "alias": "the red thing"}}}
BLEEDING = ("Chapter 1\n\nThe tide turned at noon. He fell against the winch and the hook "
            "tore open his arm. Blood poured down his sleeve and pooled on the stones.\n")


def text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def error_of(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The error body of ``response``, checked for shape, status and code."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    data = response.json()
    ErrorOut.model_validate(data)
    assert set(data) == {"error"}
    if code is not None:
        assert data["error"]["code"] == code, data
    assert "Traceback" not in response.text
    return data["error"]


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(access_log=True))) as c:
        yield c


# --- the endpoints ------------------------------------------------------------------------


def test_healthz_says_ok_and_the_model_is_loaded(client: TestClient):
    response = client.get("/healthz")
    assert response.status_code == 200
    data = HealthOut.model_validate(response.json())
    assert data.status == "ok" and data.model_loaded
    assert data.scans.capacity == Settings().scan_workers + Settings().max_queue


def test_taxonomy_lists_every_warning_with_aliases(client: TestClient):
    data = client.get("/v1/taxonomy").json()
    TaxonomyOut.model_validate(data)
    ids = {w["id"] for w in data["warnings"]}
    assert {"miscarriage", "blood-gore", "self-harm"} <= ids
    miscarriage = next(w for w in data["warnings"] if w["id"] == "miscarriage")
    assert "mc" in miscarriage["aliases"] and miscarriage["group"] == "pregnancy"
    assert data["severities"] == ["mentioned", "depicted", "graphic"]


def test_openapi_documents_every_endpoint_and_schema(client: TestClient):
    doc = client.get("/openapi.json").json()
    for path in ("/v1/scan", "/v1/check", "/v1/audit", "/v1/read"):
        op = doc["paths"][path]["post"]
        content = op["requestBody"]["content"]
        assert {"application/json", "multipart/form-data"} <= set(content)
        assert "file" in content["multipart/form-data"]["schema"]["properties"]
        for status in ("413", "415", "422", "503", "504"):
            assert op["responses"][status]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ErrorOut"}
        params = {p["name"] for p in op.get("parameters", [])}
        assert "min_confidence" in params
    assert {"/v1/taxonomy", "/healthz"} <= set(doc["paths"])
    schemas = doc["components"]["schemas"]
    for name in ("ScanRequest", "CheckRequest", "ReadRequest", "ProfileIn", "ReportOut",
                 "DetectedWarningOut", "CheckOut", "AuditOut", "TaxonomyOut", "HealthOut",
                 "ErrorOut"):
        assert name in schemas, name
    scan_ok = doc["paths"]["/v1/scan"]["post"]["responses"]["200"]["content"]
    assert scan_ok["application/json"]["schema"] == {"$ref": "#/components/schemas/ReportOut"}
    # every $ref resolves
    refs = {r for r in _refs(doc)}
    assert refs and all(r.split("/")[-1] in schemas for r in refs)


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def test_scan_returns_the_core_report_unchanged(client: TestClient):
    story = text(EXAMPLE)
    response = client.post("/v1/scan", json={"text": story})
    assert response.status_code == 200
    data = response.json()
    ReportOut.model_validate(data)
    expected = Scanner().scan_work(read_text(story)).to_dict(evidence=False)
    assert data == expected  # the service adds no detection logic of its own
    assert data["schema"] == "forewarn.report/2" and data["spoiler_free"] is True
    assert all("snippet" not in e for w in data["warnings"] for e in w["evidence"])
    names = [w["name"] for w in data["warnings"]]
    assert "Blood and gore" in names and "Death" in names
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_scan_options_evidence_min_confidence_only_and_title(client: TestClient):
    story = text(QUIET)
    full = client.post("/v1/scan?evidence=true", json={"text": story, "title": "Quiet"}).json()
    assert full["spoiler_free"] is False and full["title"] == "Quiet"
    assert any(e.get("snippet") for w in full["warnings"] for e in w["evidence"])
    only = client.post("/v1/scan?only=mc", json={"text": story}).json()
    assert [w["id"] for w in only["warnings"]] == ["miscarriage"]
    high = client.post("/v1/scan?min_confidence=0.99", json={"text": story}).json()
    assert high["min_confidence"] == 0.99
    assert all(w["confidence"] >= 0.99 for w in high["warnings"])
    assert len(high["warnings"]) <= len(full["warnings"])


@pytest.mark.parametrize("name,fixture,fmt", [
    ("story.txt", "plain_story.txt", "text"),
    ("story.md", "story.md", "markdown"),
    ("work.html", "ao3_download.html", "ao3-html"),
])
def test_scan_uploads(client: TestClient, name: str, fixture: str, fmt: str):
    data = (INGEST / fixture).read_bytes()
    response = client.post("/v1/scan", files={"file": (name, data, "application/octet-stream")})
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["format"] == fmt and report["source"] == name and report["word_count"] > 0


def test_scan_an_epub_upload(client: TestClient):
    epub = build_epub(EpubSpec(
        documents=[("preface.xhtml", AO3_PREFACE),
                   ("ch1.xhtml", f"<h2>Chapter 1</h2><p>{BLEEDING.splitlines()[2]}</p>")],
    ))
    response = client.post("/v1/scan", files={"file": ("../../etc/book.epub", epub,
                                                       "application/epub+zip")})
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["format"] == "epub" and report["source"] == "book.epub"
    assert report["title"] == "Salt and Lamplight"
    assert "blood-gore" in [w["id"] for w in report["warnings"]]


def test_scan_text_as_a_form_field_with_a_format(client: TestClient):
    html = "<html><body><h1>Chapter 1</h1><p>" + BLEEDING.splitlines()[2] + "</p></body></html>"
    response = client.post("/v1/scan?format=html", files={"text": (None, html),
                                                          "title": (None, "T")})
    assert response.status_code == 200, response.text
    assert response.json()["format"] == "html" and response.json()["title"] == "T"


def test_check_is_the_same_json_as_the_cli(client: TestClient, tmp_path: Path, capsys):
    profile_path = tmp_path / "me.toml"
    profile_path.write_text('[avoid]\n"pregnancy loss" = "depicted"\n"sh" = "mentioned"\n'
                            '"blood" = { severity = "graphic", alias = "the red thing" }\n',
                            encoding="utf-8")
    assert main(["check", "--json", "--profile", str(profile_path), str(QUIET)]) == 10
    cli = json.loads(capsys.readouterr().out)
    response = client.post("/v1/check", json={"text": text(QUIET), "profile": PROFILE})
    assert response.status_code == 200, response.text
    data = response.json()
    CheckOut.model_validate(data)
    assert data["schema"] == cli["schema"] == "forewarn.check/2"
    ours, theirs = data["works"][0], cli["works"][0]
    assert ours["source"] == "<text>"
    ours.pop("source"), theirs.pop("source")
    assert ours == theirs
    assert ours["safe"] is False
    labels = [w["label"] for w in ours["warnings"]]
    assert "Miscarriage" in labels and set(labels) <= {"Miscarriage", "the red thing"}
    # blood is listed only at the strength the profile avoids, and only under its alias
    assert all(w["severity"] == "graphic" for w in ours["warnings"]
               if w["label"] == "the red thing")


def test_check_alias_never_leaks_the_id_or_the_name(client: TestClient):
    profile = {"avoid": {"blood": {"severity": "mentioned", "alias": "the red thing"}}}
    response = client.post("/v1/check", json={"text": text(EXAMPLE), "profile": profile})
    assert response.status_code == 200
    body = response.text
    assert "the red thing" in body
    assert "blood-gore" not in body and "Blood and gore" not in body
    assert response.json()["works"][0]["safe"] is False


def test_check_with_an_upload_and_a_profile_form_field(client: TestClient):
    response = client.post(
        "/v1/check",
        files={"file": ("quiet.txt", QUIET.read_bytes(), "text/plain")},
        data={"profile": json.dumps({"avoid": ["mc"], "settings": {"min_confidence": 0.6}})},
        # (with files, httpx sends data= fields as multipart parts too)
    )
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["min_confidence"] == 0.6
    assert data["works"][0]["source"] == "quiet.txt" and data["works"][0]["safe"] is False


@pytest.mark.usefixtures("measured_recall")
def test_check_a_safe_story(client: TestClient):
    response = client.post("/v1/check", json={"text": text(EXAMPLE),
                                              "profile": {"avoid": ["dissection"]}})
    assert response.status_code == 200
    work = response.json()["works"][0]
    assert work["safe"] is True and work["answer"] == "safe" and work["reasons"] == []


def test_check_says_uncertain_for_a_warning_forewarn_is_weak_at(client: TestClient):
    response = client.post("/v1/check", json={"text": text(EXAMPLE),
                                              "profile": {"avoid": ["eating-disorders", "self-harm"]}})
    assert response.status_code == 200
    work = response.json()["works"][0]
    assert work["safe"] is None and work["answer"] == "uncertain"
    assert any("Self-harm" in r and "finding nothing says little" in r
               for r in work["reasons"])


def test_check_refuses_a_floor_over_0_99(client: TestClient):
    response = client.post("/v1/check?min_confidence=1", json={
        "text": text(EXAMPLE), "profile": {"avoid": ["dissection"]}})
    assert response.status_code == 422 and "0.99" in response.json()["error"]["message"]


def test_a_profile_naming_a_key_twice_is_refused(client: TestClient):
    body = ('{"text": "A quiet day by the sea.", "profile": {"avoid": '
            '{"dissection": "mentioned", "dissection": "graphic"}}}')
    response = client.post("/v1/check", content=body,
                           headers={"content-type": "application/json"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert "twice" in error["message"] and "dissection" not in response.text


def test_audit_is_the_audit_json(client: TestClient):
    story = text(SALT)
    response = client.post("/v1/audit", json={"text": story})
    assert response.status_code == 200
    data = response.json()
    AuditOut.model_validate(data)
    assert data == audit_work(read_text(story)).to_dict(evidence=False)
    assert data["schema"] == "forewarn.audit/1"
    assert "Graphic Violence" in data["ao3_additional_tags"]
    quoted = client.post("/v1/audit?evidence=true", json={"text": story}).json()
    assert quoted["spoiler_free"] is False


def test_read_returns_the_reading_copy(client: TestClient):
    hostile = BLEEDING + '\nA note: <script>window.__pwned=1</script> <img src=x onerror="x()">\n'
    response = client.post("/v1/read", json={"text": hostile, "title": "<b>T</b>"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "script-src 'none'" in response.headers["content-security-policy"]
    page = response.text
    assert page.startswith("<!DOCTYPE html>") and "<details" in page
    assert "<script>" not in page and "&lt;script&gt;" in page and "<img" not in page
    assert "&lt;b&gt;T&lt;/b&gt;" in page
    # with a profile that does not avoid blood, nothing is collapsed
    calm = client.post("/v1/read", json={"text": BLEEDING, "profile": {"avoid": ["mc"]}})
    assert calm.status_code == 200 and "<details" not in calm.text
    assert "No scenes collapsed for you" in calm.text


def test_read_does_not_show_a_flagged_chapter_title(client: TestClient):
    story = ("Chapter 1: Morning\n\nThe kettle sang on the stove.\n\n"
             "Chapter 2: The Autopsy of My Brother\n\nThe gulls stood on the harbour wall.\n")
    response = client.post("/v1/read", json={"text": story})
    assert response.status_code == 200, response.text
    assert "Autopsy" not in response.text and "Chapter 1: Morning" in response.text
    kept = client.post("/v1/read", json={"text": story, "profile": {"avoid": ["mc"]}})
    assert kept.status_code == 200 and "Chapter 2: The Autopsy of My Brother" in kept.text


def test_the_web_page_and_its_assets(client: TestClient):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "default-src 'none'" in policy
    assert "unsafe-inline" not in policy and "connect-src 'self'" in policy
    assert '<script src="/static/app.js"' in page.text and "<script>" not in page.text
    script = client.get("/static/app.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    for sink in (".innerHTML", ".outerHTML", "insertAdjacentHTML", "document.write"):
        assert sink not in script.text
    assert "eval(" not in script.text
    style = client.get("/static/app.css")
    assert style.status_code == 200 and style.headers["content-type"].startswith("text/css")
    assert "http" not in style.text and "@import" not in style.text


# --- errors -------------------------------------------------------------------------------


def test_unknown_path_and_method_are_json_errors(client: TestClient):
    error_of(client.get("/v2/nothing"), 404, "not-found")
    response = client.get("/v1/scan")
    error_of(response, 405, "method-not-allowed")
    assert "POST" in response.headers["allow"]


def test_413_when_content_length_is_over_the_limit():
    with TestClient(create_app(Settings(max_body_bytes=2_000, warm_up=False))) as small:
        big = {"text": "word " * 1_000}
        error = error_of(small.post("/v1/scan", json=big), 413, "too-large")
        assert "2 KB" in error["message"]
        upload = {"file": ("story.txt", b"word " * 1_000, "text/plain")}
        error_of(small.post("/v1/check", files=upload, data={"profile": '{"avoid":["mc"]}'}),
                 413, "too-large")
        # under the limit is fine
        assert small.post("/v1/scan", json={"text": BLEEDING}).status_code == 200


def test_413_while_a_chunked_body_streams():
    with TestClient(create_app(Settings(max_body_bytes=2_000, warm_up=False))) as small:
        def chunks() -> Iterator[bytes]:
            yield b'{"text": "'
            for _ in range(100):
                yield b"word " * 100
            yield b'"}'

        response = small.post("/v1/scan", content=chunks(),
                              headers={"content-type": "application/json"})
        error_of(response, 413, "too-large")


def test_413_before_the_whole_body_is_sent_to_a_real_server():
    """uvicorn on 127.0.0.1: the 413 comes while the client is still sending."""
    uvicorn = pytest.importorskip("uvicorn")
    app = create_app(Settings(max_body_bytes=10_000, warm_up=False, access_log=False))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error",
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        sent, reply = 0, b""
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"POST /v1/scan HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
            chunk = b"x" * 4096
            try:
                while sent < 4_000_000:  # far more than the limit: stop when answered
                    sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    sent += len(chunk)
                    if select.select([sock], [], [], 0.005)[0]:
                        break
            except (BrokenPipeError, ConnectionResetError):
                pass
            sock.settimeout(10)
            while b"\r\n\r\n" not in reply:
                part = sock.recv(65536)
                if not part:
                    break
                reply += part
        assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
        assert b'"too-large"' in reply or b"content-length" in reply.lower()
        assert sent < 1_000_000, f"the server read {sent} bytes before answering"
    finally:
        server.should_exit = True
        thread.join(10)


@contextlib.contextmanager
def serving(app: Any, **config: Any) -> Iterator[tuple[int, Any]]:
    """``app`` under uvicorn on 127.0.0.1 in a thread; yields the port and the server."""
    uvicorn = pytest.importorskip("uvicorn")
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error",
                                           lifespan="on", **config))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.02)
        yield server.servers[0].sockets[0].getsockname()[1], server
    finally:
        server.should_exit = True
        thread.join(15)


def http_reply(sock: socket.socket, timeout: float = 5.0) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of the one response on ``sock`` (fails if none comes)."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        try:
            part = sock.recv(65536)
        except TimeoutError:
            raise AssertionError(f"no answer within {timeout} s") from None
        assert part, f"the connection closed with no answer: {data!r}"
        data += part
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in
               (line.split(":", 1) for line in lines[1:])}
    while len(body) < int(headers.get("content-length", 0)):
        part = sock.recv(65536)
        if not part:
            break
        body += part
    return int(lines[0].split()[1]), headers, body


def held_back(port: int, length: int, sent: int) -> socket.socket:
    """A POST declaring ``length`` bytes of body that sends only ``sent`` of them."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(b"POST /v1/scan HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                 b"application/json\r\nContent-Length: %d\r\n\r\n" % length)
    sock.sendall(b"x" * sent)
    return sock


def json_error(status: int, body: bytes, code: str) -> dict[str, Any]:
    data = json.loads(body)
    ErrorOut.model_validate(data)
    assert data["error"]["code"] == code, data
    return data["error"]


def test_bodies_held_back_are_bounded_by_a_buffer_budget():
    """Slow clients holding back the last byte of big bodies: the worker buffers at most
    the budget, and refuses what does not fit at once (503), before reading it."""
    settings = Settings(max_body_bytes=10_000, max_buffered_bytes=20_000,
                        body_timeout_s=30, warm_up=False, access_log=False)
    app = create_app(settings)
    budget = app.state.body_budget
    with serving(app) as (port, _server):
        holders = [held_back(port, 9_000, 8_999) for _ in range(2)]
        try:
            deadline = time.monotonic() + 5
            while budget.used < 18_000:
                assert time.monotonic() < deadline, budget.used
                time.sleep(0.02)
            # a third declared body does not fit: 503 at once, nothing of it read
            with held_back(port, 9_000, 0) as third:
                status, headers, body = http_reply(third)
            assert status == 503 and int(headers["retry-after"]) >= 1
            assert "too much at once" in json_error(status, body, "overloaded")["message"]
            # a chunked one is refused as soon as what it sends passes the budget
            with socket.create_connection(("127.0.0.1", port), timeout=10) as chunked:
                chunked.sendall(b"POST /v1/scan HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                b"Content-Type: application/json\r\n"
                                b"Transfer-Encoding: chunked\r\n\r\n")
                chunked.sendall(b"1000\r\n" + b"x" * 4096 + b"\r\n")
                status, _, body = http_reply(chunked)
            json_error(status, body, "overloaded")
            assert budget.used == 18_000 and budget.peak <= 20_000
        finally:
            for sock in holders:
                sock.close()
        # the clients went away: what they held is given back
        deadline = time.monotonic() + 5
        while budget.used:
            assert time.monotonic() < deadline, budget.used
            time.sleep(0.02)
        story = json.dumps({"text": BLEEDING}).encode()
        with held_back(port, len(story), 0) as sock:
            sock.sendall(story)
            assert http_reply(sock)[0] == 200


def test_408_when_a_body_does_not_arrive_in_time():
    settings = Settings(body_timeout_s=0.5, warm_up=False, access_log=False)
    app = create_app(settings)
    with serving(app) as (port, _server):
        for length, sent in ((100, 50), (100, 0)):
            started = time.monotonic()
            with held_back(port, length, sent) as sock:
                status, headers, body = http_reply(sock)
            assert status == 408 and time.monotonic() - started < 3
            assert headers.get("connection") == "close"
            assert "0.5 s" in json_error(status, body, "body-timeout")["message"]
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"POST /v1/check HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                         b"application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                         b"5\r\n{\"tex\r\n")
            status, _, body = http_reply(sock)
        json_error(status, body, "body-timeout")
        deadline = time.monotonic() + 5
        while app.state.body_budget.used:  # given back as each request ends
            assert time.monotonic() < deadline
            time.sleep(0.02)


def test_the_body_limit_is_the_readers_limit():
    from forewarn.ingest import DEFAULT_MAX_BYTES
    from forewarn.service.jobs import Job, WorkInput

    assert Settings().max_body_bytes == DEFAULT_MAX_BYTES == 32 * 1024 * 1024
    assert Job("scan", WorkInput(text="x")).max_bytes == DEFAULT_MAX_BYTES
    with TestClient(create_app(Settings(warm_up=False))) as c:
        response = c.post("/v1/scan", content=b"{}", headers={
            "content-type": "application/json",
            "content-length": str(DEFAULT_MAX_BYTES + 1)})
        assert "32 MiB" in error_of(response, 413, "too-large")["message"]


@pytest.mark.parametrize("name,data,media", [
    ("paper.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "application/pdf"),
    ("photo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "image/png"),
    ("photo", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "application/octet-stream"),
    ("scan.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 64, ""),
    ("letter.docx", zip_bytes({"word/document.xml": "<w/>"}), "application/octet-stream"),
])
def test_415_for_formats_forewarn_does_not_read(client: TestClient, name: str, data: bytes,
                                                media: str):
    part = (name, data, media) if media else (name, data)
    error_of(client.post("/v1/scan", files={"file": part}), 415, "unsupported-format")


@pytest.mark.parametrize("content_type", ["text/html", "application/xml", None])
def test_415_for_a_body_that_is_neither_json_nor_multipart(client: TestClient,
                                                           content_type: str | None):
    headers = {"content-type": content_type} if content_type else {}
    error = error_of(client.post("/v1/scan", content=b"story", headers=headers), 415,
                     "unsupported-media-type")
    assert "application/json" in error["message"]


@pytest.mark.parametrize("body,code,where", [
    (b"{not json", "malformed-json", "body"),
    (b'{"title": "x"}', "invalid-request", "body.text"),
    (b'{"text": ""}', "invalid-request", "body.text"),
    (b'{"text": 5}', "invalid-request", "body.text"),
    (b'{"text": "x", "colour": "red"}', "invalid-request", "body.colour"),
    (b"[]", "invalid-request", "body"),
])
def test_422_for_malformed_json(client: TestClient, body: bytes, code: str, where: str):
    response = client.post("/v1/scan", content=body, headers={"content-type": "application/json"})
    error = error_of(response, 422, code)
    assert any(d["location"] == where for d in error["details"]), error


def test_422_for_an_empty_story(client: TestClient):
    error_of(client.post("/v1/scan", json={"text": "   \n\n  "}), 422, "empty")


@pytest.mark.parametrize("query", ["min_confidence=2", "min_confidence=-0.1",
                                   "min_confidence=abc", "min_confidence=nan",
                                   "evidence=perhaps", "format=pdf"])
def test_422_for_bad_query_options(client: TestClient, query: str):
    error = error_of(client.post(f"/v1/scan?{query}", json={"text": BLEEDING}), 422,
                     "invalid-request")
    name = query.split("=")[0]
    assert error["details"][0]["location"] == f"query.{name}"
    assert name in error["message"]


def test_422_for_an_unknown_warning_in_only(client: TestClient):
    error = error_of(client.post("/v1/scan?only=mc,bogus-thing", json={"text": BLEEDING}), 422,
                     "unknown-warning")
    assert "bogus-thing" in error["message"]
    # a list naming nothing is refused too, not taken as "scan for nothing"
    error = error_of(client.post("/v1/scan?only=,", json={"text": BLEEDING}), 422,
                     "unknown-warning")
    assert "no warning named" in error["message"]


@pytest.mark.parametrize("profile,code,fragment", [
    ({"avoid": {"not a real warning": "depicted"}}, "bad-profile", "not a real warning"),
    ({"avoid": {"mc": "sometimes"}}, "bad-profile", "sometimes"),
    ({"avoid": {}}, "bad-profile", "empty"),
    ({"avoid": {"mc": "depicted", "miscarriage": "graphic"}}, "bad-profile", "same warning"),
    ({"avoids": ["mc"]}, "invalid-request", "profile"),
    ({"avoid": ["mc"], "settings": {"min_confidence": 3}}, "invalid-request", "min_confidence"),
    ("mc", "invalid-request", "profile"),
])
def test_422_for_a_bad_profile(client: TestClient, profile: Any, code: str, fragment: str):
    response = client.post("/v1/check", json={"text": BLEEDING, "profile": profile})
    error = error_of(response, 422, code)
    assert fragment in json.dumps(error)


def test_422_when_check_has_no_profile(client: TestClient):
    error = error_of(client.post("/v1/check", json={"text": BLEEDING}), 422, "invalid-request")
    assert error["details"][0]["location"] == "body.profile"
    error_of(client.post("/v1/check", files={"file": ("a.txt", BLEEDING.encode())}), 422,
             "invalid-request")


def test_422_for_a_broken_epub(client: TestClient):
    broken = zip_bytes({"mimetype": "application/epub+zip", "OEBPS/ch1.xhtml": "<p>x</p>"})
    error = error_of(client.post("/v1/scan", files={"file": ("book.epub", broken)}), 422,
                     "malformed")
    assert "book.epub" in error["message"] and "EPUB" in error["message"]
    truncated = build_epub(EpubSpec(documents=[("c.xhtml", "<p>Hello there.</p>")]))[:200]
    error_of(client.post("/v1/scan", files={"file": ("cut.epub", truncated)}), 422, "malformed")


def test_hostile_charsets_and_epub_bombs_are_4xx_not_500():
    """A charset that is not a text encoding is 422; an EPUB whose text (or one member) is
    over the upload limit once extracted is 413, like a file over it."""
    with TestClient(create_app(Settings(max_body_bytes=50_000, warm_up=False))) as small:
        page = b'<html><head><meta charset="rot13"></head><body><p>Caf\xe9.</p></body></html>'
        error = error_of(small.post("/v1/scan", files={"file": ("r.html", page)}), 422,
                         "malformed")
        assert error["message"] == "r.html: declared charset 'rot13' is not a text encoding"
        words = "<p>" + "The tide came in over the stones. " * 200 + "</p>"
        spine = [(f"c{i}.xhtml", words) for i in range(12)]
        book = build_epub(EpubSpec(documents=spine))
        assert len(book) < 50_000
        error = error_of(small.post("/v1/scan", files={"file": ("many.epub", book)}), 413,
                         "too-large")
        assert error["message"].startswith("many.epub: the book's text is too large")


def test_zip_bombs_and_climbing_member_names_are_refused():
    """The EPUB reader's own limits hold through the API (it reads the archive in memory,
    never extracting): the upload limit also bounds what an EPUB may expand to (8 times
    it), and a member named ``../..`` is never read."""
    with TestClient(create_app(Settings(max_body_bytes=50_000, warm_up=False))) as small:
        bomb = zip_bytes({"mimetype": "application/epub+zip",
                          "META-INF/container.xml": "<container/>",
                          "OEBPS/zeros.xhtml": b"\0" * 1_000_000})
        assert len(bomb) < 50_000
        error = error_of(small.post("/v1/scan", files={"file": ("bomb.epub", bomb)}), 422,
                         "malformed")
        assert "zip bomb" in error["message"]
        climbing = build_epub(EpubSpec(documents=[("ch1.xhtml", f"<p>{BLEEDING}</p>")]))
        climbing = climbing.replace(b"OEBPS/ch1.xhtml", b"../../ch1.xhtml")
        response = small.post("/v1/scan", files={"file": ("up.epub", climbing)})
        assert response.status_code == 422, response.text


def test_422_for_malformed_forms(client: TestClient):
    both = client.post("/v1/scan", files={"file": ("a.txt", b"story")}, data={"text": "story"})
    error_of(both, 422, "invalid-request")
    error_of(client.post("/v1/scan", files={"story": (None, "x")}), 422, "malformed-form")
    error_of(client.post("/v1/scan", files={"title": (None, "x")}), 422, "invalid-request")
    error_of(client.post("/v1/scan", content=b"--b\r\nnonsense",
                         headers={"content-type": "multipart/form-data; boundary=b"}),
             422, "malformed-form")
    error_of(client.post("/v1/scan", content=b"x",
                         headers={"content-type": "multipart/form-data"}),
             422, "malformed-form")
    error_of(client.post("/v1/scan", files={"text": (None, "x"),
                                            "profile": (None, '{"avoid": ["mc"]}')}), 422,
             "malformed-form")
    bad_profile = client.post("/v1/check", files={"text": (None, BLEEDING),
                                                  "profile": (None, "{nope")})
    error_of(bad_profile, 422, "malformed-json")
    error_of(client.post("/v1/read?gap=-1", json={"text": BLEEDING}), 422, "invalid-request")


# --- time limit, load shedding, internal errors --------------------------------------------


class SlowScanner(Scanner):
    """The lexicon scanner, after waiting ``delay`` seconds or until ``release`` is set."""

    def __init__(self, floor: float, delay: float = 0.0,
                 release: threading.Event | None = None,
                 started: threading.Event | None = None) -> None:
        super().__init__(detectors=[LexiconDetector()], min_confidence=floor)
        self.delay = delay
        self.release = release
        self.started = started

    def scan_work(self, work: Work) -> Report:
        if self.started is not None:
            self.started.set()
        if self.release is not None:
            self.release.wait(10)
        else:
            time.sleep(self.delay)
        return super().scan_work(work)


def test_504_when_the_time_limit_passes():
    settings = Settings(timeout_s=0.3, warm_up=False)
    app = create_app(settings, make_scanner=lambda floor: SlowScanner(floor, delay=1.5))
    with TestClient(app) as c:
        started = time.perf_counter()
        error = error_of(c.post("/v1/scan", json={"text": BLEEDING}), 504, "timeout")
        assert time.perf_counter() - started < 1.2
        assert "0.3 s" in error["message"]
        # the scan still running keeps its slot until it ends, then the slot is free
        assert c.get("/healthz").json()["scans"]["running"] == 1
        deadline = time.monotonic() + 5
        while c.get("/healthz").json()["scans"]["running"]:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert c.get("/healthz").json()["scans"]["timed_out"] == 1


def _process_alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return False
    return stat.rsplit(b")", 1)[1].split()[0] != b"Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_scan_past_its_deadline_is_stopped_and_its_slot_is_free_again():
    """In scan processes (``forewarn serve``'s default) a scan still running at its
    deadline is killed with its process, and the slot gets a fresh process at once."""
    import service_helpers

    from forewarn.service.limits import ScanGate, TimedOut

    gate = ScanGate(1, 0, timeout=3.0, processes=True)

    async def scenario() -> None:
        gate.start()
        first = await gate.run(service_helpers.pid)  # the slot's process is up
        started = time.monotonic()
        with pytest.raises(TimedOut):
            await gate.run(service_helpers.slow, 120)
        assert time.monotonic() - started < 5
        # the slot is free again at once (before: held until the scan ended, 2 minutes)
        assert not gate.full()
        assert gate.stats()["running"] == 0 and gate.stats()["timed_out"] == 1
        assert gate.stopped == 1
        second = await gate.run(service_helpers.pid)
        assert second != first  # a fresh process; the one scanning was killed
        deadline = time.monotonic() + 5
        while _process_alive(first):
            assert time.monotonic() < deadline, "the timed-out scan's process is alive"
            await asyncio.sleep(0.05)
        assert await gate.run(service_helpers.slow, 0.01) == second

    try:
        asyncio.run(scenario())
    finally:
        gate.close(grace=1)


def test_503_with_retry_after_when_the_worker_is_full_and_healthz_still_answers():
    release, started = threading.Event(), threading.Event()
    settings = Settings(scan_workers=1, max_queue=1, timeout_s=20, warm_up=False)
    app = create_app(settings, make_scanner=lambda floor: SlowScanner(
        floor, release=release, started=started))
    results: list[int] = []
    with TestClient(app) as c:
        def send() -> None:
            results.append(c.post("/v1/scan", json={"text": BLEEDING}).status_code)

        workers = [threading.Thread(target=send) for _ in range(2)]
        try:
            workers[0].start()
            assert started.wait(5)
            workers[1].start()  # waits in the queue
            deadline = time.monotonic() + 5
            while c.get("/healthz").json()["scans"]["waiting"] < 1:
                assert time.monotonic() < deadline
                time.sleep(0.02)
            # full: the third request is refused at once, with Retry-After
            before = time.perf_counter()
            response = c.post("/v1/check", json={"text": BLEEDING, "profile": {"avoid": ["mc"]}})
            assert time.perf_counter() - before < 0.5
            error_of(response, 503, "overloaded")
            assert int(response.headers["retry-after"]) >= 1
            # /healthz answers quickly while the scan thread is busy
            before = time.perf_counter()
            health = c.get("/healthz")
            assert health.status_code == 200 and time.perf_counter() - before < 0.5
            assert health.json()["scans"] == {"running": 1, "waiting": 1, "capacity": 2,
                                              "shed": 1, "timed_out": 0}
        finally:
            release.set()
            for w in workers:
                w.join(10)
        assert results == [200, 200]
        # and after the load, new requests are served again
        assert c.post("/v1/scan", json={"text": BLEEDING}).status_code == 200


def test_scans_in_a_process_pool_give_the_same_answers(client: TestClient):
    """``forewarn serve``'s default: scans in spawned processes, the model loaded once each."""
    story = text(QUIET)
    settings = Settings(scan_processes=True, scan_workers=1, access_log=False)
    with TestClient(create_app(settings)) as pooled:
        assert pooled.get("/healthz").json()["model_loaded"] is True
        response = pooled.post("/v1/scan?evidence=true", json={"text": story})
        assert response.status_code == 200
        assert response.json() == client.post("/v1/scan?evidence=true",
                                              json={"text": story}).json()
        verdict = pooled.post("/v1/check", json={"text": story, "profile": PROFILE})
        assert verdict.json()["works"][0]["safe"] is False
        # errors raised in the scan process come back as the same JSON errors
        broken = zip_bytes({"mimetype": "application/epub+zip"})
        error_of(pooled.post("/v1/scan", files={"file": ("b.epub", broken)}), 422, "malformed")
        # a scan process that dies (the OOM killer, say) costs one 503, then a new pool
        for child in multiprocessing.active_children():
            child.kill()
            child.join(5)
        deadline = time.monotonic() + 30
        statuses = []
        while time.monotonic() < deadline:
            response = pooled.post("/v1/scan", json={"text": BLEEDING})
            statuses.append(response.status_code)
            if response.status_code == 200:
                break
            error_of(response, 503, "unavailable")
            assert response.headers["retry-after"] == "1"
        assert statuses[-1] == 200 and len(statuses) <= 3, statuses
    with pytest.raises(ValueError):
        create_app(settings, make_scanner=lambda floor: Scanner())


def test_requests_running_at_shutdown_are_answered_503_after_the_grace_period():
    """Shutdown (SIGTERM / Ctrl-C, which start ``app.state.draining``): a request still
    running after ``shutdown_grace_s`` gets a JSON 503 rather than an empty reply."""
    release, started = threading.Event(), threading.Event()
    settings = Settings(shutdown_grace_s=0.5, timeout_s=30, warm_up=False, access_log=False)
    app = create_app(settings, make_scanner=lambda floor: SlowScanner(
        floor, release=release, started=started))
    try:
        with serving(app, timeout_graceful_shutdown=5) as (port, server):
            story = json.dumps({"text": BLEEDING}).encode()
            with held_back(port, len(story), 0) as sock:
                sock.sendall(story)
                assert started.wait(10)
                begun = time.monotonic()
                app.state.draining.start()  # what the SIGTERM handler does first
                server.should_exit = True  # and then uvicorn's own
                status, headers, body = http_reply(sock, timeout=4)
            assert status == 503 and 0.4 < time.monotonic() - begun < 3
            assert "shutting down" in json_error(status, body, "shutting-down")["message"]
            assert headers["retry-after"] == "1"
    finally:
        release.set()


def test_requests_arriving_during_shutdown_are_answered_503():
    with TestClient(create_app(Settings(warm_up=False))) as c:
        assert c.get("/healthz").status_code == 200
        c.app.state.draining.start()
        error_of(c.get("/healthz"), 503, "shutting-down")
        response = c.post("/v1/scan", json={"text": BLEEDING})
        error_of(response, 503, "shutting-down")
        assert response.headers["connection"] == "close"


SIGTERM_SERVER = """
import sys, threading, uvicorn
sys.path.insert(0, sys.argv[1])
from test_service_api import SlowScanner
from forewarn.service.app import create_app
from forewarn.service.settings import Settings
release = threading.Event()
app = create_app(Settings(shutdown_grace_s=1, warm_up=False, access_log=False),
                 make_scanner=lambda floor: SlowScanner(floor, release=release))
config = uvicorn.Config(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="error",
                        timeout_graceful_shutdown=5)
uvicorn.Server(config).run()
release.set()
"""


def test_sigterm_answers_the_running_request_503_and_the_server_exits(tmp_path: Path):
    """The real thing: uvicorn in its own process, SIGTERM while a scan runs."""
    import signal
    import subprocess
    import sys

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    script = tmp_path / "server.py"
    script.write_text(SIGTERM_SERVER, encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(script), str(Path(__file__).parent),
                             str(port)], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=10)
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "no server"
                time.sleep(0.1)
        with sock:
            story = json.dumps({"text": BLEEDING}).encode()
            sock.sendall(b"POST /v1/scan HTTP/1.1\r\nHost: x\r\nContent-Type: "
                         b"application/json\r\nContent-Length: %d\r\n\r\n" % len(story)
                         + story)
            time.sleep(0.5)  # the scan is running (it waits for ever)
            proc.send_signal(signal.SIGTERM)
            status, _, body = http_reply(sock, timeout=6)
        json_error(status, body, "shutting-down")
        # uvicorn ends by the signal it was stopped with, once it has shut down cleanly
        assert proc.wait(timeout=15) in (0, -signal.SIGTERM)
        assert b"Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_an_unexpected_error_is_a_json_500_without_internals(caplog: pytest.LogCaptureFixture):
    class Broken(Scanner):
        def scan_work(self, work: Work) -> Report:
            raise RuntimeError(f"secret detail {work.chapters[0].text[:20]}")

    app = create_app(Settings(warm_up=False), make_scanner=lambda floor: Broken())
    with caplog.at_level(logging.INFO), TestClient(app, raise_server_exceptions=False) as c:
        response = c.post("/v1/scan", json={"text": "A private story about lighthouses."})
        error = error_of(response, 500, "internal")
    assert "secret" not in response.text and "RuntimeError" not in response.text
    assert "lighthouses" not in caplog.text and "secret" not in caplog.text
    assert "RuntimeError" in caplog.text  # the operator learns the type, nothing more
    assert error["message"]


def test_nothing_of_the_request_is_logged(client: TestClient, caplog: pytest.LogCaptureFixture):
    marker = "Zanzibar-marmalade-7781"
    with caplog.at_level(logging.DEBUG):
        story = f"Title: {marker}\n\n{BLEEDING}\n{marker} bled."
        assert client.post("/v1/scan?only=blood&evidence=true",
                           json={"text": story}).status_code == 200
        client.post("/v1/check", json={"text": story, "profile": {"avoid": [marker]}})
        client.post("/v1/scan", files={"file": (f"{marker}.txt", story.encode())})
    # what the server logs (the test client logs its own requests: not ours)
    server = [r for r in caplog.records
              if r.name.split(".")[0] in ("forewarn", "uvicorn", "fastapi", "starlette")]
    logged = "\n".join(r.getMessage() for r in server)
    assert marker not in logged
    assert "only=" not in logged and "blood" not in logged and "evidence" not in logged
    access = [r.getMessage() for r in server if r.name == "forewarn.service.access"]
    assert "POST /v1/scan 200" in access[0]
    assert all(len(line.split()) == 4 for line in access), access


def test_settings_round_trip_and_validation():
    settings = Settings(max_body_bytes=1234, timeout_s=2.5, max_queue=3, lexicon_only=True)
    assert Settings.from_json(settings.to_json()) == settings
    assert dataclasses.replace(settings, access_log=False).access_log is False
    with pytest.raises(ValueError):
        Settings(timeout_s=0)
    with pytest.raises(ValueError):
        Settings(scan_workers=0)


def test_serve_command_options(monkeypatch: pytest.MonkeyPatch):
    import uvicorn

    from forewarn.service.settings import ENV_SETTINGS

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append({"app": app, **kw}))
    monkeypatch.setenv(ENV_SETTINGS, "{}")  # restored after the test
    assert main(["serve", "--port", "8123", "--workers", "2", "--max-body", "1MB",
                 "--timeout", "5", "--max-queue", "4"]) == 0
    call = calls[0]
    assert call["app"] == "forewarn.service.app:app_from_env" and call["factory"] is True
    assert call["host"] == "127.0.0.1" and call["port"] == 8123 and call["workers"] == 2
    assert call["access_log"] is False  # ours logs method, path, status, time only
    settings = Settings.from_json(os.environ[ENV_SETTINGS])
    assert settings.max_body_bytes == 1_000_000 and settings.timeout_s == 5
    assert settings.max_queue == 4
    assert call["limit_concurrency"] == 256 and call["timeout_graceful_shutdown"] == 10
    from forewarn.ingest import DEFAULT_MAX_BYTES

    main(["serve"])
    defaults = Settings.from_json(os.environ[ENV_SETTINGS])
    assert defaults.max_body_bytes == DEFAULT_MAX_BYTES
    assert defaults.max_buffered_bytes == 4 * DEFAULT_MAX_BYTES
    assert defaults.body_timeout_s == 30
    main(["serve", "--max-connections", "20", "--body-timeout", "5", "--max-buffered",
          "64MB"])
    assert calls[-1]["limit_concurrency"] == 20
    tuned = Settings.from_json(os.environ[ENV_SETTINGS])
    assert tuned.body_timeout_s == 5 and tuned.max_buffered_bytes == 64_000_000
    assert settings.scan_processes and settings.scan_workers == (os.cpu_count() or 1)
    main(["serve", "--scan-processes", "0"])
    threads = Settings.from_json(os.environ[ENV_SETTINGS])
    assert not threads.scan_processes and threads.scan_workers == 1
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--max-body", "lots"])
    assert exit_info.value.code == 2


def test_check_can_return_the_report_from_the_same_scan(client: TestClient):
    body = {"text": text(EXAMPLE), "profile": {"avoid": ["blood"]}}
    plain = client.post("/v1/check", json=body).json()
    assert "report" not in plain
    both = client.post("/v1/check?report=true&evidence=true", json=body).json()
    assert both["works"] == plain["works"]
    scan = client.post("/v1/scan?evidence=true", json={"text": text(EXAMPLE)}).json()
    assert both["report"]["warnings"] == scan["warnings"]
    assert both["report"]["schema"] == "forewarn.report/2"


def test_text_plain_bodies_for_pages_on_other_origins(client: TestClient):
    # a browser sends text/plain without a CORS preflight: JSON in it is read as JSON,
    # anything else is the story (for /v1/scan; /v1/check needs the JSON with a profile)
    plain = {"content-type": "text/plain; charset=utf-8"}
    story = text(EXAMPLE)
    as_text = client.post("/v1/scan", content=story.encode(), headers=plain)
    as_json = client.post("/v1/scan", json={"text": story})
    assert as_text.status_code == 200
    assert as_text.json()["warnings"] == as_json.json()["warnings"]
    body = json.dumps({"text": story, "profile": {"avoid": ["blood"]}}).encode()
    checked = client.post("/v1/check", content=body, headers=plain)
    assert checked.status_code == 200 and checked.json()["works"][0]["safe"] is False
    error_of(client.post("/v1/check", content=b"just a story", headers=plain), 422,
             "invalid-request")


def test_cors_is_off_unless_origins_are_named():
    from forewarn.service.app import create_app
    from forewarn.service.settings import Settings

    origin = {"Origin": "https://archiveofourown.org"}
    with TestClient(create_app(Settings(warm_up=False))) as closed:
        assert "access-control-allow-origin" not in closed.get("/healthz", headers=origin).headers
    settings = Settings(warm_up=False, cors_origins=("https://archiveofourown.org",))
    with TestClient(create_app(settings)) as open_:
        got = open_.get("/healthz", headers=origin).headers
        assert got["access-control-allow-origin"] == "https://archiveofourown.org"
        other = open_.get("/healthz", headers={"Origin": "https://example.com"}).headers
        assert "access-control-allow-origin" not in other
        assert Settings.from_json(settings.to_json()) == settings


def test_read_uses_the_query_floor_over_the_profiles_as_check_does():
    """A scene /v1/check calls not safe at ``?min_confidence=`` is collapsed by /v1/read at
    the same floor, whatever the profile's own ``min_confidence``."""
    app = create_app(Settings(warm_up=False), make_scanner=lambda floor: SlowScanner(floor))
    profile = {"avoid": {"blood": "depicted"}, "settings": {"min_confidence": 0.99}}
    with TestClient(app) as c:
        strict = c.post("/v1/read", json={"text": BLEEDING, "profile": profile})
        assert strict.status_code == 200 and "<details" not in strict.text
        loose = c.post("/v1/read?min_confidence=0.5", json={"text": BLEEDING,
                                                             "profile": profile})
        assert loose.status_code == 200 and loose.text.count("<details") == 1
        verdict = c.post("/v1/check?min_confidence=0.5", json={"text": BLEEDING,
                                                               "profile": profile})
        assert verdict.json()["works"][0]["safe"] is False
