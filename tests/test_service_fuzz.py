"""Fuzzing the HTTP API from its own OpenAPI document: no input ever gets a 500.

Schemathesis reads ``/openapi.json`` from the app (in process, no network) and sends
generated requests, valid and invalid, to every operation (JSON and multipart bodies,
query options). Each response must not be a server error, must have a status code the
document lists for that operation, the content type it lists, and (for JSON) match the
documented schema. Bounded: at most 30 examples per operation and mode, derandomized so a
run is repeatable. Also a Hypothesis test of arbitrary bytes posted to each endpoint
under every content type the service knows.

Skipped when schemathesis (test dependency of the ``serve`` extra) is not installed.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the service needs the serve extra (fastapi)")
schemathesis = pytest.importorskip("schemathesis", reason="fuzzing needs schemathesis")

from fastapi.testclient import TestClient  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from forewarn.service.app import create_app  # noqa: E402
from forewarn.service.settings import Settings  # noqa: E402

# Small limits keep every example fast; the real scanner and readers are used.
APP = create_app(Settings(max_body_bytes=64_000, timeout_s=30, warm_up=False,
                          access_log=False))
SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", APP)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
FUZZ = settings(max_examples=30, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))


@SCHEMA.parametrize()
@FUZZ
def test_no_server_errors(case: Any) -> None:
    case.call_and_validate(checks=CHECKS)


ENDPOINTS = ["/v1/scan", "/v1/check", "/v1/audit", "/v1/read"]
CONTENT_TYPES = [
    "application/json",
    "multipart/form-data; boundary=xyz",
    "multipart/form-data",
    "text/plain",
    "application/x-www-form-urlencoded",
    "",
]


@pytest.fixture(scope="module")
def client() -> Any:
    with TestClient(APP, raise_server_exceptions=False) as c:
        yield c


@FUZZ
@given(
    endpoint=st.sampled_from(ENDPOINTS),
    content_type=st.sampled_from(CONTENT_TYPES),
    body=st.one_of(
        st.binary(max_size=2000),
        st.builds(lambda d: json.dumps(d).encode(),
                  st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=50),
                               lambda kids: st.lists(kids, max_size=4)
                               | st.dictionaries(st.sampled_from(
                                   ["text", "title", "profile", "avoid", "settings", "x"]),
                                   kids, max_size=4),
                               max_leaves=12)),
        st.builds(lambda parts: b"".join(parts), st.lists(st.sampled_from([
            b"--xyz\r\n", b'Content-Disposition: form-data; name="file"; filename="a.txt"\r\n',
            b'Content-Disposition: form-data; name="text"\r\n', b"Content-Type: image/png\r\n",
            b"\r\n", b"She was bleeding.\r\n", b"--xyz--\r\n", b"PK\x03\x04", b"%PDF-1.7",
            b'{"avoid": ["mc"]}', b'Content-Disposition: form-data; name="profile"\r\n',
        ]), max_size=12)),
    ),
    query=st.sampled_from(["", "?evidence=true", "?min_confidence=0.7", "?only=mc",
                           "?format=epub", "?gap=3", "?min_confidence=nan", "?only=%00"]),
)
def test_arbitrary_bodies_never_500(client: Any, endpoint: str, content_type: str,
                                     body: bytes, query: str) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = client.post(endpoint + query, content=body, headers=headers)
    assert response.status_code < 500 or response.status_code in (503, 504), response.text
    if response.headers.get("content-type", "").startswith("application/json"):
        data = response.json()
        if response.status_code >= 400:
            assert set(data) == {"error"} and {"code", "message"} <= set(data["error"])
