"""The service under hostile clients, over real loopback: slow headers and bodies, strict JSON,
bodies built to break the parser, and an OpenAPI document that lists every status it returns.

The servers here have half-second timeouts so the slow clients finish quickly. No assertion
is about time: each wait on the server is bounded by a hang guard (HANG) far above the
configured timeout, only so that a server that never answers fails the test instead of
hanging it.
"""

from __future__ import annotations

import json
import select
import socket
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from therapy_signals import BUILTIN, Engine, _workers
from therapy_signals.model import Guidance
from therapy_signals.server import MAX_HEADER_BYTES, BatchItemError, ErrorBody, create_app
from therapy_signals.strategies import scenarios

from .conftest import running
from .test_workers import children, serving

TIMEOUT = 0.5  # the servers' header and body timeouts, in seconds
HANG = 30.0  # hang guard: far above TIMEOUT, never a measure of how fast the server is
LIMIT = 256 * 1024  # the default max_body_bytes, so that '[' * 100000 reaches the parser
JSON = {"content-type": "application/json"}
CHALLENGED = {"observations": [{"signal": "feeling_challenged_in_session"}]}
POSTS = ("/v1/explain", "/v1/cards", "/v1/explain/batch")

# Every status this module saw, by (method, OpenAPI path): the last test checks they are documented.
OBSERVED: defaultdict[tuple[str, str], set[int]] = defaultdict(set)


@pytest.fixture(scope="module")
def url(engine: Engine) -> Iterator[str]:
    app = create_app(engine, max_body_bytes=LIMIT, max_batch=20, header_timeout=TIMEOUT, body_timeout=TIMEOUT)
    with running(app) as base:
        yield base


@pytest.fixture(scope="module")
def http(url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=url, timeout=HANG) as client:
        yield client


@pytest.fixture(scope="module")
def openapi(http: httpx.Client) -> dict[str, Any]:
    document: dict[str, Any] = http.get("/openapi.json").json()
    return document


def _observe(method: str, path: str, status: int) -> int:
    OBSERVED[(method, path)].add(status)
    return status


def _post(client: httpx.Client, path: str, body: bytes | str, headers: dict[str, str] | None = None) -> httpx.Response:
    response = client.post(path, content=body, headers=JSON if headers is None else headers)
    _observe("post", path.split("?")[0], response.status_code)
    return response


def _get(client: httpx.Client, path: str, template: str, **options: Any) -> httpx.Response:
    response = client.get(path, **options)
    _observe("get", template, response.status_code)
    return response


def _healthy(client: httpx.Client) -> None:
    """A good request still gets its answer, on a new connection and on a pooled one."""
    for _ in range(2):
        response = client.post("/v1/explain", json=CHALLENGED)
        assert response.status_code == 200, response.text
        assert response.json()["level"] == "normal"


def _error_body(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["x-rulebook"]
    body: dict[str, Any] = response.json()
    ErrorBody.model_validate(body)
    return body


# --- Raw sockets: clients that never finish ---------------------------------------------------


def _connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=HANG)
    return sock


def _until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes; the hang guard fails a server that never does."""
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            pytest.fail(f"the server kept the connection open for {HANG:.0f} s")
        except ConnectionResetError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def _trickle(sock: socket.socket, data: bytes, pause: float = 0.05) -> None:
    """Send a byte at a time until the server answers or closes (or, at worst, all of it is sent)."""
    for index in range(len(data)):
        try:
            sock.sendall(data[index : index + 1])
        except (BrokenPipeError, ConnectionResetError):
            return
        readable, _, _ = select.select([sock], [], [], pause)
        if readable:
            return


def _answer(raw: bytes) -> tuple[int, dict[str, str], dict[str, Any]]:
    """Status, headers and JSON body of one raw HTTP/1.1 response."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, json.loads(body)


def _request_head(path: str, length: int) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


def test_headers_that_stop_halfway_get_a_408_and_are_closed(url: str, http: httpx.Client) -> None:
    with _connect(url) as sock:
        sock.sendall(b"POST /v1/explain HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty")
        status, headers, body = _answer(_until_closed(sock))
    assert status == 408
    assert headers["connection"] == "close" and headers["x-rulebook"]
    assert body["error"] == "request timeout" and "header timeout (0.5 s)" in body["detail"]
    ErrorBody.model_validate(body)
    _healthy(http)


def test_headers_sent_a_byte_at_a_time_are_cut_off(url: str, http: httpx.Client) -> None:
    """Each byte comes well inside any per-read timeout; the deadline is for the whole head."""
    head = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"a" * 600
    with _connect(url) as sock:
        _trickle(sock, head)
        raw = _until_closed(sock)
    # A byte sent just as the server closed can turn its close into a reset that drops the 408.
    if raw:
        assert _answer(raw)[0] == 408
    _healthy(http)


def test_a_connection_that_sends_nothing_is_closed_without_an_answer(url: str, http: httpx.Client) -> None:
    with _connect(url) as sock:
        assert _until_closed(sock) == b""
    _healthy(http)


def test_headers_over_the_limit_get_a_431_and_are_closed(url: str, http: httpx.Client) -> None:
    with _connect(url) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"a" * (MAX_HEADER_BYTES + 1024))
        status, headers, body = _answer(_until_closed(sock))
    assert status == 431 and headers["connection"] == "close" and headers["x-rulebook"]
    assert body["detail"] == f"the request line and headers are over {MAX_HEADER_BYTES} bytes"
    big_but_allowed = {"x-padding": "a" * (MAX_HEADER_BYTES // 2)}
    assert http.get("/healthz", headers=big_but_allowed).status_code == 200
    _healthy(http)


def test_large_bodies_and_pipelined_requests_are_not_taken_for_long_headers(url: str, http: httpx.Client) -> None:
    """Body bytes never count against the head limit, whatever chunks they arrive in."""
    notes = [{"signal": "feeling_challenged_in_session", "note": f"{i:04d}" + "n" * 1900} for i in range(100)]
    for _ in range(2):  # twice on one connection
        response = _post(http, "/v1/explain", json.dumps({"observations": notes}))
        assert response.status_code == 200, response.text[:300]
    body = json.dumps(CHALLENGED).encode()
    request = _request_head("/v1/explain", len(body)).replace(b"\r\n\r\n", b"\r\nConnection: keep-alive\r\n\r\n") + body
    closing = _request_head("/v1/explain", len(body)).replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n") + body
    with _connect(url) as sock:
        sock.sendall(request * 3 + closing)  # four requests in one write
        raw = _until_closed(sock)
    assert raw.count(b"HTTP/1.1 200 OK") == 4, raw[:300]


def test_a_request_that_is_not_http_gets_the_error_body(url: str, http: httpx.Client) -> None:
    with _connect(url) as sock:
        sock.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 hello\r\n\r\n")  # a TLS hello, say
        status, headers, body = _answer(_until_closed(sock))
    assert status == 400 and headers["x-rulebook"]
    assert body["error"] == "bad request" and "not an HTTP/1.1 request" in body["detail"]
    ErrorBody.model_validate(body)
    _healthy(http)


@pytest.mark.parametrize("path", POSTS)
def test_a_body_that_stalls_gets_a_408_and_the_connection_closes(url: str, http: httpx.Client, path: str) -> None:
    with _connect(url) as sock:
        sock.sendall(_request_head(path, 1000) + b'{"observat')
        status, headers, body = _answer(_until_closed(sock))
    _observe("post", path, status)
    assert status == 408
    assert headers["connection"] == "close" and headers["x-rulebook"]
    assert body["error"] == "request timeout" and "body timeout (0.5 s)" in body["detail"]
    ErrorBody.model_validate(body)
    _healthy(http)


def test_a_body_trickled_a_byte_at_a_time_is_cut_off(url: str, http: httpx.Client) -> None:
    body = json.dumps({"observations": [{"signal": "feeling_challenged_in_session", "note": "n" * 600}]}).encode()
    with _connect(url) as sock:
        sock.sendall(_request_head("/v1/explain", len(body)))
        _trickle(sock, body)
        raw = _until_closed(sock)
    if raw:  # see the header trickle above
        assert _answer(raw)[0] == 408
    _healthy(http)


def test_a_body_declared_too_large_is_refused_unread_and_the_connection_closed(url: str, http: httpx.Client) -> None:
    with _connect(url) as sock:
        sock.sendall(_request_head("/v1/explain", 10 * LIMIT) + b'{"observations": [')
        status, headers, body = _answer(_until_closed(sock))
    assert status == 413 and headers["connection"] == "close"
    assert f"over {LIMIT} bytes" in body["detail"]
    _healthy(http)


@pytest.mark.skipif(not _workers.supported(), reason="serve's SO_REUSEPORT workers are Linux-only")
def test_serve_with_workers_times_out_slow_clients_in_every_worker(tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    with serving(log, 2, "--header-timeout", str(TIMEOUT), "--body-timeout", str(TIMEOUT)) as (process, port):
        workers = children(process.pid)
        url = f"http://127.0.0.1:{port}"
        # 16 connections: the kernel spreads them over both workers (see test_workers).
        heads, bodies = [_connect(url) for _ in range(8)], [_connect(url) for _ in range(8)]
        for sock in heads:
            sock.sendall(b"POST /v1/explain HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        for sock in bodies:
            sock.sendall(_request_head("/v1/explain", 1000) + b"{")
        statuses = [_answer(_until_closed(sock))[0] for sock in heads + bodies]
        for sock in heads + bodies:
            sock.close()
        assert httpx.post(f"{url}/v1/explain", json=CHALLENGED, timeout=HANG).status_code == 200
    assert statuses == [408] * 16
    entries = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    assert {entry["pid"] for entry in entries if entry.get("status") == 408} == workers
    assert {entry["event"] for entry in entries if entry.get("status") == 408} == {"header timeout", "request"}


# --- Bodies the strict parser refuses, and the model after it ---------------------------------

OBSERVATION = '{"signal": "feeling_challenged_in_session"}'
HOSTILE: dict[str, tuple[bytes | str, int, str, str]] = {
    # name: (body, status, where, part of the message)
    "duplicate key": (
        '{"observations": [{"signal": "feeling_challenged_in_session", "signal": "sexual_contact"}]}',
        400,
        "observations[0]",
        "the key 'signal' appears more than once",
    ),
    "duplicate top-level key": (
        '{"observations": [' + OBSERVATION + '], "observations": []}',
        400,
        "(top)",
        "the key 'observations' appears more than once",
    ),
    "deep nesting": ("[" * 100_000, 400, "(top)", "nested deeper than 32 levels"),
    "nesting inside a field": (
        '{"observations": [' + OBSERVATION + '], "id": ' + "[" * 40 + "]" * 40 + "}",
        400,
        "id[0][0]",  # _json names a value nested too deep by a path at most a scenario's own depth long
        "nested deeper than 32 levels",
    ),
    "5000 digits": (
        '{"sessions": ' + "7" * 5000 + ', "observations": [' + OBSERVATION + "]}",
        400,
        "sessions",
        "a number of 5,000 characters; at most 20",
    ),
    "NaN": ('{"sessions": NaN, "observations": [' + OBSERVATION + "]}", 400, "sessions", "NaN is not a JSON number"),
    "Infinity": (
        '{"observations": [{"signal": "feeling_challenged_in_session", "months_after_ending": -Infinity}]}',
        400,
        "observations[0].months_after_ending",
        "-Infinity is not a JSON number",
    ),
    "broken JSON": ('{"observations": [', 400, "1:19", "not valid JSON"),
    "invalid UTF-8": (
        b'{"observations": [{"signal": "feeling_challenged_in_session", "note": "\xff\xfe"}]}',
        400,
        "(body)",
        "not UTF-8 text (byte 71 is 0xff)",
    ),
    "UTF-16": (('{"observations": [' + OBSERVATION + "]}").encode("utf-16"), 400, "(body)", "not UTF-8 text"),
    'sessions "7"': (
        '{"sessions": "7", "observations": [' + OBSERVATION + "]}",
        422,
        "sessions",
        "a whole number (written without quotes), not the string '7'",
    ),
    'raised "yes"': (
        '{"observations": [{"signal": "feeling_challenged_in_session", "raised": "yes"}]}',
        422,
        "observations[0].raised",
        "true or false (written without quotes), not the string 'yes'",
    ),
    "raised 1": (
        '{"observations": [{"signal": "feeling_challenged_in_session", "raised": 1}]}',
        422,
        "observations[0].raised",
        "true or false (written without quotes), not a number",
    ),
    "sessions 7.0": (
        '{"sessions": 7.0, "observations": [' + OBSERVATION + "]}",
        422,
        "sessions",
        "a whole number (written without quotes), not the decimal 7.0",
    ),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_bodies_name_the_problem(http: httpx.Client, name: str) -> None:
    body, status, where, message = HOSTILE[name]
    answer = _error_body(_post(http, "/v1/explain", body), status)
    assert answer["error"] == ("invalid JSON" if status == 400 else "invalid scenario")
    assert [p["where"] for p in answer["problems"]] == [where], answer
    assert message in answer["problems"][0]["message"], answer
    _healthy(http)


def test_the_strict_parser_guards_cards_and_batches(http: httpx.Client) -> None:
    twice = '{"observations": [{"signal": "feeling_challenged_in_session", "signal": "x"}]}'
    answer = _error_body(_post(http, "/v1/cards", twice), 400)
    assert answer["problems"][0]["where"] == "observations[0]"
    batch = '{"scenarios": [' + json.dumps(CHALLENGED) + ", " + twice + "]}"
    answer = _error_body(_post(http, "/v1/explain/batch", batch), 400)
    # The batch's two levels count against the depth to which _json spells out a path.
    assert answer["problems"][0]["where"] == "scenarios[1].observations"
    wrong = '{"scenarios": [{"sessions": "7", "observations": [' + OBSERVATION + "]}]}"
    # Strict JSON is the whole body's (a 400 above); a scenario's own problems are its item's.
    response = _post(http, "/v1/explain/batch", wrong)
    assert response.status_code == 200, response.text
    assert response.json()["results"][0]["problems"] == [
        {"where": "scenarios[0].sessions", "message": "a whole number (written without quotes), not the string '7'"}
    ]
    _healthy(http)


def test_a_byte_order_mark_is_allowed_as_in_a_scenario_file(http: httpx.Client) -> None:
    response = _post(http, "/v1/explain", b"\xef\xbb\xbf" + json.dumps(CHALLENGED).encode())
    assert response.status_code == 200, response.text
    assert response.json()["level"] == "normal"


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_a_body_not_sent_as_json_is_a_415(http: httpx.Client, content_type: str | None) -> None:
    headers = {} if content_type is None else {"content-type": content_type}
    answer = _error_body(_post(http, "/v1/explain", json.dumps(CHALLENGED), headers), 415)
    assert "send JSON with Content-Type: application/json" in answer["detail"]
    assert (content_type or "no Content-Type") in answer["detail"]
    _healthy(http)


def test_json_media_types_are_json(http: httpx.Client) -> None:
    for content_type in ("application/json; charset=utf-8", "application/scenario+json", "Application/JSON"):
        response = _post(http, "/v1/explain", json.dumps(CHALLENGED), {"content-type": content_type})
        assert response.status_code == 200, (content_type, response.text)


def test_a_body_over_the_limit_is_a_413(http: httpx.Client) -> None:
    big = {"observations": [{"signal": "feeling_challenged_in_session", "note": "x" * LIMIT}]}
    for path in POSTS:
        body = json.dumps(big if path != "/v1/explain/batch" else {"scenarios": [big]})
        answer = _error_body(_post(http, path, body), 413)
        assert f"over {LIMIT} bytes" in answer["detail"]
    _healthy(http)


# --- Fuzzing: bodies built from hostile pieces --------------------------------------------------


def _valid_scenarios() -> st.SearchStrategy[dict[str, Any]]:
    return scenarios().map(lambda s: s.model_dump(mode="json", exclude_none=True))


_WRONG = st.sampled_from(["7", "yes", "", None, 1.5, -1, 10**25, True, [], {}, [[[[]]]], "x" * 3000])
_FIELDS = ("sessions", "setting", "id", "observations", "signal", "raised", "months_after_ending", "frequency")


def _retyped(draw: st.DrawFn, scenario: dict[str, Any]) -> str:
    field, value = draw(st.sampled_from(_FIELDS)), draw(_WRONG)
    target = scenario if field in {"sessions", "setting", "id", "observations"} else scenario["observations"][0]
    target[field] = value
    return json.dumps(scenario)


def _doubled(draw: st.DrawFn, text: str) -> str:
    key = draw(st.sampled_from(['"observations": [], ', '"setting": "couples", ', '"id": "a", ']))
    return "{" + key + text[1:] if draw(st.booleans()) else text.replace('{"signal": ', '{"signal": "x", "signal": ', 1)


def _nested(draw: st.DrawFn, text: str) -> str:
    depth = draw(st.integers(min_value=25, max_value=20_000))
    opener, closer = draw(st.sampled_from([("[", "]"), ('{"a": ', "}")]))
    return opener * depth + text + closer * depth * draw(st.sampled_from([0, 1]))


def _long_number(draw: st.DrawFn, scenario: dict[str, Any]) -> str:
    digits = draw(st.integers(min_value=15, max_value=6_000))
    number = draw(
        st.sampled_from(["7" * digits, "0." + "3" * digits, "1e" + "9" * min(digits, 400), "-" + "1" * digits])
    )
    slot = scenario if draw(st.booleans()) else scenario["observations"][0]
    slot["sessions" if slot is scenario else "months_after_ending"] = "@@"
    return json.dumps(scenario).replace('"@@"', number)


@st.composite
def hostile_bodies(draw: st.DrawFn) -> bytes:
    """A body made from a valid scenario by one hostile change, or noise."""
    scenario = draw(_valid_scenarios())
    text = json.dumps(scenario)
    kind = draw(st.sampled_from(["valid", "retyped", "doubled", "nested", "long", "constant", "cut", "flip", "noise"]))
    if kind == "retyped":
        text = _retyped(draw, scenario)
    elif kind == "doubled":
        text = _doubled(draw, text)
    elif kind == "nested":
        text = _nested(draw, text)
    elif kind == "long":
        text = _long_number(draw, scenario)
    elif kind == "constant":
        text = '{"sessions": ' + draw(st.sampled_from(["NaN", "Infinity", "-Infinity"])) + ", " + text[1:]
    elif kind == "cut":
        text = text[: draw(st.integers(min_value=0, max_value=len(text) - 1))]
    data = text.encode()
    if kind == "flip":
        index = draw(st.integers(min_value=0, max_value=len(data) - 1))
        data = data[:index] + bytes([draw(st.integers(min_value=0, max_value=255))]) + data[index + 1 :]
    elif kind == "noise":
        data = draw(st.binary(max_size=400))
    return data


def _documented(openapi: dict[str, Any], method: str, path: str) -> set[int]:
    return {int(status) for status in openapi["paths"][path][method]["responses"]}


def _check_success(path: str, fmt: str | None, body: dict[str, Any]) -> None:
    if path == "/v1/explain/batch":
        assert set(body) == {"results", "rulebook"}
        results = body["results"]
    else:
        results = [body]
    for result in results:
        if "error" in result:  # a batch item that is not a valid scenario
            assert path == "/v1/explain/batch"
            BatchItemError.model_validate(result)
            assert all(p["where"].startswith("scenarios[0]") for p in result["problems"])
        elif path == "/v1/cards" or fmt == "cards":
            assert set(result) >= {"cards", "rulebook"}
        else:
            Guidance.model_validate(result)


@settings(max_examples=100, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(
    body=hostile_bodies(),
    path=st.sampled_from(POSTS),
    batched=st.booleans(),
    fmt=st.sampled_from([None, "guidance", "cards"]),
    content_type=st.sampled_from(["application/json"] * 8 + ["text/plain", ""]),
)
def test_hostile_bodies_get_a_documented_answer(
    http: httpx.Client,
    openapi: dict[str, Any],
    body: bytes,
    path: str,
    batched: bool,
    fmt: str | None,
    content_type: str,
) -> None:
    if path == "/v1/explain/batch" and batched:
        body = b'{"scenarios": [' + body + b"]}"
    query = f"?format={fmt}" if fmt and path != "/v1/cards" else ""
    response = _post(http, path + query, body, {"content-type": content_type} if content_type else {})
    assert response.status_code in _documented(openapi, "post", path) - {500}, response.text
    assert response.headers["x-rulebook"]
    answer = response.json()
    if response.status_code == 200:
        _check_success(path, fmt, answer)
    else:
        ErrorBody.model_validate(answer)
        if response.status_code in (400, 422):
            assert answer["problems"] and all(p["where"] and p["message"] for p in answer["problems"])
    assert "Traceback" not in response.text


# --- The OpenAPI document lists what the service answers -----------------------------------------


def _exercise_gets(url: str, http: httpx.Client) -> None:
    gets = [
        ("/v1/rules", "/v1/rules"),
        ("/v1/rules?level=extreme", "/v1/rules"),
        ("/v1/rules/safety.sexual-contact", "/v1/rules/{rule_id}"),
        ("/v1/rules/nope", "/v1/rules/{rule_id}"),
        ("/v1/rules/" + "r" * 300, "/v1/rules/{rule_id}"),
        ("/v1/schema/scenario", "/v1/schema/{name}"),
        ("/v1/schema/other", "/v1/schema/{name}"),
        ("/healthz", "/healthz"),
    ]
    for path, template in gets:
        _get(http, path, template)
        # The same with a body declared over the limit, which no GET reads (raw: httpx would wait to send it).
        with _connect(url) as sock:
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {10 * LIMIT}\r\n\r\n".encode())
            _observe("get", template, _answer(_until_closed(sock))[0])


def _exercise_a_failing_pack(tmp_path: Path) -> None:
    """A real 500 on each POST: a pack template that divides by zero once sessions are given (as in test_http)."""
    pack = tmp_path / "broken"
    (pack / "templates" / "en" / "everyday").mkdir(parents=True)
    (pack / "pack.yaml").write_text("name: broken\nversion: 1.0.0\n")
    (pack / "templates" / "en" / "everyday" / "feeling-challenged.j2").write_text("{{ 1 // (0 if sessions else 1) }}\n")
    failing = {"sessions": 3, **CHALLENGED}
    with running(create_app(Engine(rule_paths=[BUILTIN, str(pack)]))) as base, httpx.Client(base_url=base) as client:
        for path in POSTS:
            body = {"scenarios": [failing]} if path == "/v1/explain/batch" else failing
            assert _post(client, path, json.dumps(body)).status_code == 500


def _exercise_posts(http: httpx.Client) -> None:
    for path in POSTS:
        good = {"scenarios": [CHALLENGED]} if path == "/v1/explain/batch" else CHALLENGED
        _post(http, path, json.dumps(good))
        _post(http, path, "{")
        _post(http, path, json.dumps(good), {"content-type": "text/plain"})
        _post(http, path, json.dumps({"observations": [{"signal": "nope"}]}))
        _post(http, path, json.dumps({"scenarios": [CHALLENGED] * 21}))


def test_every_status_seen_is_documented_with_the_error_body(
    url: str, http: httpx.Client, openapi: dict[str, Any], tmp_path: Path
) -> None:
    """Runs last in the module: the statuses seen here, and in every test above, per operation.

    Any operation can fail unexpectedly, so each must document a 500, seen or not.
    """
    _exercise_gets(url, http)
    _exercise_posts(http)
    _exercise_a_failing_pack(tmp_path)
    for (method, path), statuses in OBSERVED.items():
        assert statuses <= _documented(openapi, method, path), (method, path, statuses)
    seen = {status for statuses in OBSERVED.values() for status in statuses}
    assert {200, 400, 404, 408, 413, 415, 422, 500} <= seen, seen
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            assert "500" in operation["responses"], (method, path)
            for status, response in operation["responses"].items():
                if status != "200":
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path, status)
