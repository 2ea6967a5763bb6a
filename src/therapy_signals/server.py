"""The HTTP service: ``therapy-signals serve``, or ``create_app()`` under any ASGI server.

Needs the ``server`` extra (docs/getting-started.md, "Installing with pip"). Endpoints:

- ``POST /v1/explain`` a scenario, get guidance (``?format=cards`` for CDS Hooks cards);
- ``POST /v1/explain/batch`` up to ``max_batch`` scenarios at once, each answered with its
  guidance or its own error; ``POST /v1/cards``;
- ``POST /v1/trace`` a scenario and a rule id: which of the rule's conditions held or failed;
- ``GET /v1/rules``, ``GET /v1/rules/{id}``, ``GET /v1/signals`` (labels in the Engine's locale),
  ``GET /v1/schema/{scenario|guidance}``; the scenario schema, here and in the OpenAPI
  document, lists the loaded rule base's signal ids (packs included) as an enum;
- ``GET /healthz``; the OpenAPI document at ``/openapi.json``.

Every response carries the rule base that answered in an ``X-Rulebook: name version hash``
header, and every JSON body (but the OpenAPI document) in a ``rulebook`` member, so a
client can tell when the rules changed under it. Bodies are read by the library's strict
JSON parser (``_json``) with the Engine's limits: text that is not UTF-8 or not strict JSON
(a key given twice, NaN, nesting or a number over the limits) is a 400 naming the line and
column or the field path; a scenario that is not valid is a 422 listing each field path and
why; a body over ``max_body_bytes`` is a 413, one not sent as JSON a 415; anything
unexpected is a 500 with a generic body, logged by its type only: no stack trace, no
observation, no note ever leaves the process or reaches the log. Every status is in the
OpenAPI document, for each operation that can answer it.

Slow clients are cut off: a request whose headers take over ``header_timeout`` seconds is
answered 408 and closed (by ``SlowClientProtocol``, the uvicorn protocol ``serve`` uses),
and one whose body takes over ``body_timeout`` seconds after them gets a 408 too.

The Engine is shared by every request. ``/v1/explain`` and ``/v1/cards`` call it on the
event loop itself: one explanation takes under a millisecond and holds the GIL and
durable_rules' process-wide lock throughout, so a thread hop would only add a handoff and
GIL contention to every request (decision 0008). The batch endpoint, up to ``max_batch``
explanations long, runs in the threadpool so it cannot stall the loop for its whole length.
Use ``serve --workers N`` (one per core) to use more than one core.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, SkipValidation
from starlette.exceptions import HTTPException
from uvicorn.config import Config as UvicornConfig
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from . import __version__
from ._json import JsonFaultError, parse
from ._schema import json_schema, with_signal_ids
from .conditions import describe
from .engine import BUILTIN, Engine, Trace, default_engine
from .engine._engine import _problem
from .errors import Problem, ScenarioError, UnknownRuleError
from .limits import InputLimits
from .model import Category, Guidance, Level, RuleBookInfo, Scenario
from .render.cards import to_cards

__all__ = [
    "DEFAULT_BODY_TIMEOUT",
    "DEFAULT_HEADER_TIMEOUT",
    "DEFAULT_MAX_BATCH",
    "DEFAULT_MAX_BODY_BYTES",
    "MAX_HEADER_BYTES",
    "JsonLogFormatter",
    "SlowClientProtocol",
    "app_from_env",
    "configure_logging",
    "create_app",
    "freeze_startup_heap",
]

DEFAULT_MAX_BODY_BYTES = 256 * 1024
"""A scenario is at most 100 observations of at most a 2,000-character note: ~250 KB."""
DEFAULT_MAX_BATCH = 100
"""Scenarios per batch request; larger runs belong to ``therapy-signals batch``."""
DEFAULT_HEADER_TIMEOUT = 10.0
"""Seconds to send a request's headers, from connecting or from the request's first byte."""
DEFAULT_BODY_TIMEOUT = 30.0
"""Seconds to send a body once its headers are in: 256 KiB needs only 9 KB/s."""

log = logging.getLogger("therapy_signals.server")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

OutputFormat = Literal["guidance", "cards"]
FormatQuery = Annotated[
    OutputFormat,
    Query(alias="format", description="guidance (the Guidance JSON) or cards (HL7 CDS Hooks cards)."),
]


class JsonLogFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, pid, event, and the record's ``fields``.

    The service only ever logs what it chose to put in ``fields`` (method, path, status,
    milliseconds, an error's type), never a request body, so no observation reaches a log.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": record.process,  # which worker process, under serve --workers
            "event": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, Mapping):
            entry.update(fields)
        return json.dumps(entry, ensure_ascii=False, default=str)


class BodyTooLarge(HTTPException):
    """Raised while the body streams in; an HTTPException so FastAPI does not re-wrap it as a 400."""

    kind = "request too large"

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is over {limit} bytes; send fewer or smaller scenarios")


class _BodyTimeout(HTTPException):
    kind = "request timeout"

    def __init__(self, seconds: float) -> None:
        detail = f"the request body did not arrive within the body timeout ({seconds:g} s); send it without pausing"
        super().__init__(408, detail)  # the guard closes the connection: the rest of the body may still come


class _InvalidJson(HTTPException):
    """A body that is not strict JSON, with where (line:column or a field path) and why."""

    kind = "invalid JSON"

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(400, f"{where}: {reason}")
        self.problem = Problem(where, reason)


class _NotJsonMedia(HTTPException):
    kind = "unsupported media type"

    def __init__(self, content_type: str | None) -> None:
        given = f"Content-Type {content_type!r}" if content_type else "no Content-Type"
        super().__init__(415, f"the body was sent with {given}; send JSON with Content-Type: application/json")


MAX_HEADER_BYTES = 64 * 1024
"""The most bytes a request line and headers may take; httptools alone would take any size."""


@dataclass(frozen=True, slots=True)
class _Connections:
    """What ``SlowClientProtocol`` needs from the app: the header deadline, and the answers it
    sends before any request reaches the app, each a whole response after the status line."""

    header_timeout: float
    replies: Mapping[int, bytes]


_CONNECTIONS = "therapy_signals.connections"
"""The key under which the app publishes its ``_Connections`` in the ASGI lifespan state."""


def _connection_replies(header_timeout: float, rulebook: bytes, info: dict[str, Any]) -> dict[int, bytes]:
    """The ErrorBody answers to a request that never reached the app, with the X-Rulebook header."""
    details = {
        400: ("bad request", "not an HTTP/1.1 request; check the request line and headers"),
        408: (
            "request timeout",
            f"the request headers did not arrive within the header timeout ({header_timeout:g} s); "
            "send them without pausing",
        ),
        431: ("request headers too large", f"the request line and headers are over {MAX_HEADER_BYTES} bytes"),
    }
    replies = {}
    for status, (kind, detail) in details.items():
        body = json.dumps({"error": kind, "detail": detail, "rulebook": info}, separators=(",", ":")).encode()
        replies[status] = (
            b"content-type: application/json\r\nconnection: close\r\nx-rulebook: " + rulebook + b"\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )
    return replies


class _Guard:
    """Outermost ASGI layer: body size limit and deadline, the X-Rulebook header, request logs, last-resort 500.

    It sits inside Starlette's ServerErrorMiddleware but outside everything else, so an
    exception no handler took ends here as a generic 500 and is never re-raised into the
    server's own traceback logging. At start-up it also tells ``SlowClientProtocol``, through
    the lifespan state, how long to wait for headers.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        header_timeout: float,
        body_timeout: float,
        rulebook: str,
        info: dict[str, Any],
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_timeout = body_timeout
        self.header = (b"x-rulebook", rulebook.encode())
        self.info = info
        self.connections = _Connections(header_timeout, _connection_replies(header_timeout, self.header[1], info))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(_Exchange(self, scope, receive, send))
            return
        if scope["type"] == "lifespan" and isinstance(scope.get("state"), dict):
            scope["state"][_CONNECTIONS] = self.connections
        await self.app(scope, receive, send)

    async def _http(self, exchange: _Exchange) -> None:
        scope = exchange.scope
        started = time.perf_counter()
        try:
            declared = _content_length(scope)
            if declared is not None and declared > self.max_body_bytes:
                response = _error(BodyTooLarge(self.max_body_bytes), self.info)
                await response(scope, exchange.receive, exchange.send)
            else:
                await self.app(scope, exchange.receive, exchange.send)
        except Exception as error:  # the last resort: a generic body, the type in the log, nothing else
            log.error("unhandled", extra={"fields": {"error": type(error).__name__, "path": scope.get("path")}})
            if not exchange.response_started:
                body = {"error": "internal error", "detail": "the service failed; it is logged", "rulebook": self.info}
                await JSONResponse(body, status_code=500)(scope, exchange.receive, exchange.send)
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            fields = {
                "method": scope.get("method"),
                "path": scope.get("path"),
                "status": exchange.status,
                "ms": round(elapsed, 2),
            }
            log.info("request", extra={"fields": fields})


class _Exchange:
    """One request through the guard: the body it has read so far, and the answer it started."""

    __slots__ = (
        "_receive",
        "_send",
        "body_done",
        "deadline",
        "guard",
        "received",
        "response_started",
        "scope",
        "status",
    )

    def __init__(self, guard: _Guard, scope: Scope, receive: Receive, send: Send) -> None:
        self.guard = guard
        self.scope = scope
        self._receive = receive
        self._send = send
        self.status = 500
        self.response_started = False
        self.received = 0
        self.body_done = False
        # A deadline for the whole body, not for each read: a body trickled a byte at a time must end too.
        self.deadline = asyncio.get_running_loop().time() + guard.body_timeout

    async def receive(self) -> Message:
        if self.body_done:  # only http.disconnect is left to wait for, and that may take as long as it likes
            return await self._receive()
        try:
            async with asyncio.timeout_at(self.deadline):
                message = await self._receive()
        except TimeoutError:
            raise _BodyTimeout(self.guard.body_timeout) from None
        if message["type"] != "http.request":
            self.body_done = True
            return message
        self.received += len(message.get("body", b""))
        if self.received > self.guard.max_body_bytes:
            raise BodyTooLarge(self.guard.max_body_bytes)
        self.body_done = not message.get("more_body", False)
        return message

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.response_started = True
            self.status = int(message["status"])
            headers = [*message.get("headers", []), self.guard.header]
            if not self.body_done and _declares_body(self.scope):
                # Answered before its body was read (a 413, a GET with a body): keeping the
                # connection would let the client go on sending a body nobody reads.
                headers.append((b"connection", b"close"))
            message["headers"] = headers
        await self._send(message)


def _content_length(scope: Scope) -> int | None:
    value = _header(scope, b"content-length")
    try:
        return None if value is None else int(value)
    except ValueError:
        return None


def _header(scope: Scope, name: bytes) -> str | None:
    """A header's value straight from the scope: building Starlette's Headers costs more than the lookup."""
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def _declares_body(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() not in (b"0", b"")):
            return True
    return False


_KINDS = {404: "not found", 405: "method not allowed", 413: "request too large"}


def _error(error: HTTPException, info: dict[str, Any]) -> JSONResponse:
    kind = getattr(error, "kind", None) or _KINDS.get(error.status_code, "error")
    body: dict[str, Any] = {"error": kind, "detail": error.detail}
    if isinstance(error, _InvalidJson):
        body["problems"] = [{"where": error.problem.where, "message": error.problem.message}]
    body["rulebook"] = info
    return JSONResponse(body, status_code=error.status_code, headers=error.headers)


def _is_json(content_type: str | None) -> bool:
    """The media types FastAPI parses as JSON: application/json and application/*+json."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def _strict_json(body: bytes, limits: InputLimits) -> Any:
    """The body as the library reads a scenario's JSON; _InvalidJson names where and why not."""
    try:
        text = body.decode("utf-8-sig")  # a byte order mark is allowed, as in a scenario file
    except UnicodeDecodeError as error:
        reason = f"not UTF-8 text (byte {error.start} is 0x{body[error.start]:02x}); send the JSON as UTF-8"
        raise _InvalidJson("(body)", reason) from None
    try:
        return parse(text, limits)
    except JsonFaultError as fault:
        raise _InvalidJson(fault.where, fault.reason) from None


class _StrictJsonRequest(Request):
    """A request whose JSON body goes through the strict parser with the Engine's limits.

    FastAPI calls ``json()`` for a JSON media type and validates the result against the
    endpoint's model, so the OpenAPI request bodies stay as they are.
    """

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = _strict_json(await self.body(), self.app.state.engine.limits)
        return self._json


class _StrictJsonRoute(APIRoute):
    """A route that reads its body with ``_StrictJsonRequest`` and refuses bodies not sent as JSON.

    FastAPI would hand a body of another media type to the model as bytes, which fails
    validation with a message about dictionaries; a 415 says what to send instead.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if self.body_field is None:
            return handler

        async def strict(request: Request) -> Response:
            request = _StrictJsonRequest(request.scope, request.receive)
            content_type = _header(request.scope, b"content-type")
            if not _is_json(content_type) and await request.body():
                raise _NotJsonMedia(content_type)
            return await handler(request)

        return strict


def _problems(error: RequestValidationError) -> list[Problem]:
    """FastAPI's validation errors as the library's problems: a field path and what is allowed."""
    problems = []
    for item in error.errors():
        loc = list(item.get("loc", ()))
        kind = item.get("type")
        if loc[:1] == ["query"] or loc[:1] == ["path"]:
            problems.append(Problem(f"{loc[0]}.{'.'.join(map(str, loc[1:]))}", str(item.get("msg"))))
            continue
        loc = loc[1:] if loc[:1] == ["body"] else loc
        if kind == "missing" and not loc:
            problems.append(Problem("(body)", "required: a JSON object with 'observations'"))
            continue
        # A scenario inside the body (a trace's): strip its key so the scenario's own wording
        # applies, then put it back.
        prefix = ""
        if loc[:1] == ["scenario"]:
            prefix, loc = "scenario", loc[1:]
        problem = _problem({**item, "loc": tuple(loc)})  # type: ignore[typeddict-item]
        where = problem.where if not prefix else prefix + ("" if problem.where == "(top)" else "." + problem.where)
        problems.append(Problem(where.replace("..", "."), problem.message))
    return problems


def _invalid(problems: Sequence[Problem], info: dict[str, Any]) -> JSONResponse:
    body = {"error": "invalid scenario", "problems": _problem_list(problems), "rulebook": info}
    return JSONResponse(body, status_code=422)


def _problem_list(problems: Sequence[Problem]) -> list[dict[str, str]]:
    return [{"where": p.where.replace(".[", "["), "message": p.message} for p in problems]


def _under(prefix: str, problems: Sequence[Problem]) -> list[Problem]:
    """Problems of a scenario found inside the body, their paths from the body's top."""
    return [Problem(prefix if p.where == "(top)" else f"{prefix}.{p.where}", p.message) for p in problems]


_JSON_KINDS = {str: "a string", int: "a number", float: "a number", bool: "a boolean", list: "an array"}


def _batch_item(engine: Engine, index: int, item: Any) -> Scenario | list[Problem]:
    """A batch item validated as a scenario, or its problems, their paths from the body's top."""
    where = f"scenarios[{index}]"
    if not isinstance(item, Mapping):  # JSON text in a string is not a scenario here: never parse it
        kind = "null" if item is None else _JSON_KINDS.get(type(item), type(item).__name__)
        return [Problem(where, f"expected an object with 'observations', got {kind}")]
    try:
        return engine.validate(item)
    except ScenarioError as error:
        return _under(where, error.problems)


class SlowClientProtocol(HttpToolsProtocol):
    """uvicorn's HTTP/1.1 protocol (httptools) with a deadline and a size limit on each request's head.

    uvicorn has no header timeout: a client that connects and sends nothing, or sends its
    headers a byte at a time, keeps its connection for as long as it likes, and enough of
    them keep every other client out. Nor does httptools bound the headers' size: it keeps
    a header's pieces in memory until the header ends (an 8 MB one was answered). Here a
    connection has ``header_timeout`` seconds from when it opens, and each later request as
    long from its first byte, to finish its request line and headers, which may take at
    most MAX_HEADER_BYTES; past either it gets a 408 or a 431 and is closed (a connection
    that sent nothing is closed without one). A request that is not HTTP gets the 400 as
    JSON. The body has a deadline of its own, kept by the app.

    Use it as ``uvicorn.Config(app, http=SlowClientProtocol)``, as ``serve`` does. It reads
    the deadline and its answers from the app ``create_app`` built, through the ASGI lifespan
    state, so uvicorn's lifespan must be on (its default); without it the default deadline
    applies and a late client is closed without an answer.
    """

    def __init__(
        self,
        config: UvicornConfig,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._settings: _Connections = app_state.get(_CONNECTIONS) or _Connections(DEFAULT_HEADER_TIMEOUT, {})
        self._header_timer: asyncio.TimerHandle | None = None
        self._awaiting_headers = True
        self._head_bytes = 0  # of the request whose head is coming in; 0 before its first byte
        self._heads = 0  # request heads completed on this connection

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        awaiting, heads = self._awaiting_headers, self._heads
        if awaiting and self._header_timer is None:
            self._arm()
        super().data_received(data)
        if awaiting and heads == self._heads and not self.transport.is_closing():
            # A head was coming and none ended in this chunk, so all of it belongs to that head.
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEADER_BYTES:
                self._refuse(431, "headers too large")

    def on_headers_complete(self) -> None:
        self._disarm()
        self._awaiting_headers = False
        self._head_bytes = 0
        self._heads += 1
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._awaiting_headers = True
        super().on_message_complete()

    def send_400_response(self, msg: str) -> None:
        self._refuse(400, "not HTTP")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._header_timer = self.loop.call_later(self._settings.header_timeout, self._headers_late)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_late(self) -> None:
        self._header_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            # The next request is late while this one is still being answered: finish it, then close.
            self.cycle.keep_alive = False
            return
        if self._head_bytes:
            self._refuse(408, "header timeout")
        else:
            self.transport.close()  # nothing came: there is no request to answer

    def _refuse(self, status: int, why: str) -> None:
        """Answer a request that never reached the app, and close: what else it sends is not read."""
        reply = self._settings.replies.get(status)
        if reply is not None and not self.transport.is_closing():
            head = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n".encode()]
            head += [name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers]
            self.transport.write(b"".join(head) + reply)
            log.info(why, extra={"fields": {"status": status}})
        self.transport.close()


class BatchRequest(BaseModel):
    """Several scenarios explained in one request, answered in the same order."""

    model_config = ConfigDict(extra="forbid")

    # Each item is documented as a Scenario but validated by the endpoint, one by one, so an
    # invalid item gets its own error and the others their guidance (SkipValidation keeps the schema).
    scenarios: list[SkipValidation[Scenario]] = Field(
        min_length=1, description="The scenarios; at most the server's max_batch."
    )


class FieldProblem(BaseModel):
    where: str = Field(description="The field path, from the request body: scenarios[1].observations[0].signal.")
    message: str


class BatchItemError(BaseModel):
    """A batch item that is not a valid scenario; the other items are answered all the same."""

    error: Literal["invalid scenario"]
    status: Literal[422] = Field(description="The status this scenario alone would have had.")
    problems: list[FieldProblem]


class CardsAnswer(BaseModel):
    cards: list[dict[str, Any]]
    rulebook: RuleBookInfo


class BatchAnswer(BaseModel):
    results: list[Guidance | CardsAnswer | BatchItemError] = Field(
        description="One per scenario, in order: its guidance (or cards with format=cards), or a BatchItemError."
    )
    rulebook: RuleBookInfo


class TraceRequest(BaseModel):
    """A scenario and the id of the rule to trace on it."""

    model_config = ConfigDict(extra="forbid")

    scenario: Scenario
    rule_id: str = Field(min_length=1, max_length=200, description="A rule id, as GET /v1/rules lists them.")


class SignalSummary(BaseModel):
    id: str
    category: Category
    label: str = Field(description="A short phrase, in the service's locale.")


class SignalList(BaseModel):
    locale: str
    rulebook: RuleBookInfo
    signals: list[SignalSummary]


class RuleSummary(BaseModel):
    id: str
    level: Level
    category: Category
    title: str


class RuleList(BaseModel):
    rulebook: RuleBookInfo
    rules: list[RuleSummary]


class ErrorBody(BaseModel):
    error: str
    detail: str | None = None
    problems: list[dict[str, str]] | None = None
    rulebook: RuleBookInfo


_WHY = {
    400: (
        "Not strict JSON: not UTF-8, a syntax error, a key given twice, NaN or Infinity, or nesting or "
        "a number longer than the limits. `problems` names the line:column or the field path."
    ),
    404: "No rule with that id; `detail` suggests the closest.",
    408: "The body did not arrive within the body timeout; the connection is closed.",
    413: "The request declares or sends a body over the size limit.",
    415: "A body sent without Content-Type: application/json.",
    422: "Valid JSON but not a valid request: `problems` lists each field path or parameter, and why.",
    500: "An unexpected failure; a generic body, logged by its type only.",
}


def _answer(description: str, model: type[BaseModel] | None = None) -> dict[int | str, dict[str, Any]]:
    return {200: {"description": description} | ({"model": model} if model else {})}


def _documented(*statuses: int, why: str | None = None) -> dict[int | str, dict[str, Any]]:
    """OpenAPI responses for these error statuses, each an ErrorBody."""
    return {status: {"model": ErrorBody, "description": why or _WHY[status]} for status in statuses}


def create_app(
    engine: Engine | None = None,
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    max_batch: int = DEFAULT_MAX_BATCH,
    header_timeout: float = DEFAULT_HEADER_TIMEOUT,
    body_timeout: float = DEFAULT_BODY_TIMEOUT,
) -> FastAPI:
    """Build the ASGI app around one shared Engine (the shipped rule base by default).

    Request bodies are read as strictly as a scenario file, with ``engine.limits``: a key
    given twice, NaN, nesting or a number over the limits, or text that is not UTF-8 is a 400
    naming the line and column or the field path.

    Args:
        engine: the Engine every request uses; build it with your rule packs, locale,
            resources and input limits. It is shared by all requests and threads.
        max_body_bytes: larger request bodies get a 413 before they are parsed.
        max_batch: more scenarios in one batch request get a 413.
        header_timeout: seconds a client has to send a request's headers; it takes effect
            when uvicorn serves the app with ``SlowClientProtocol``, as ``serve`` does.
        body_timeout: seconds a client has to send a body once its headers are in; later
            is a 408 and the connection is closed.

    Raises:
        ValueError: a timeout that is not a positive number of seconds.
    """
    for name, seconds in (("header_timeout", header_timeout), ("body_timeout", body_timeout)):
        if not seconds > 0:
            raise ValueError(f"{name} must be a positive number of seconds, not {seconds!r}")
    engine = engine or default_engine()
    book = engine.rulebook
    info = engine.rulebook_info.model_dump(mode="json")  # what each guidance says, packs included
    with_body = _documented(400, 408, 413, 415, 422, 500)
    signal_ids = sorted(book.signals)

    app = FastAPI(
        title="therapy-signals",
        version=__version__,
        summary="Is this normal? Explained guidance about therapist-client relationships.",
        description=(
            f"Rule base {book.name} {book.version} (sha256 {book.content_hash}). "
            "General information, not a diagnosis or professional advice.\n\n"
            "Every error is a JSON ErrorBody. Besides the statuses each operation lists, a connection "
            "can be answered before its request reaches any operation, and then closed: 400 when it is "
            f"not HTTP/1.1, 408 when its request line and headers take over {header_timeout:g} s, "
            f"431 when they take over {MAX_HEADER_BYTES} bytes."
        ),
    )
    app.state.engine = engine
    app.router.route_class = _StrictJsonRoute

    @app.exception_handler(RequestValidationError)
    async def _on_invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        return _invalid(_problems(error), info)

    @app.exception_handler(HTTPException)
    async def _on_http(request: Request, error: HTTPException) -> JSONResponse:
        return _error(error, info)

    @app.exception_handler(ScenarioError)
    async def _on_scenario(request: Request, error: ScenarioError) -> JSONResponse:
        return _invalid(error.problems, info)

    def _json(content: Any) -> Response:
        return Response(content, media_type="application/json")

    def _one(guidance: Guidance, fmt: OutputFormat) -> str:
        if fmt == "cards":
            return json.dumps({"cards": to_cards(guidance), "rulebook": info}, ensure_ascii=False)
        return guidance.model_dump_json()

    @app.post(
        "/v1/explain",
        summary="Explain one scenario",
        responses=_answer("Guidance, or {cards, rulebook} with format=cards.", Guidance) | with_body,
    )
    async def explain(scenario: Scenario, fmt: FormatQuery = "guidance") -> Response:
        return _json(_one(engine.explain(scenario), fmt))

    @app.post(
        "/v1/cards",
        summary="Explain one scenario as HL7 CDS Hooks cards",
        responses=_answer("{cards: [...], rulebook}") | with_body,
    )
    async def cards(scenario: Scenario) -> Response:
        return _json(_one(engine.explain(scenario), "cards"))

    @app.post(
        "/v1/explain/batch",
        summary=f"Explain up to {max_batch} scenarios, in order",
        responses=_answer(
            "One result per scenario, in order: its guidance (or {cards, rulebook} with format=cards), or, for a "
            "scenario that is not valid, a BatchItemError with status 422 and each problem's path from the body's "
            "top; the other scenarios are answered all the same. The whole request is a 422 only when the body is "
            "not {scenarios: [...]} with at least one item.",
            BatchAnswer,
        )
        | with_body
        | _documented(413, why=f"The body is over {max_body_bytes} bytes, or holds over {max_batch} scenarios."),
    )
    def explain_batch(batch: BatchRequest, fmt: FormatQuery = "guidance") -> Response:
        if len(batch.scenarios) > max_batch:
            raise HTTPException(413, f"{len(batch.scenarios)} scenarios; at most {max_batch} per request")
        results: list[str] = []
        for index, item in enumerate(batch.scenarios):
            scenario = _batch_item(engine, index, item)
            if isinstance(scenario, Scenario):
                results.append(_one(engine.explain(scenario), fmt))
            else:
                failed = {"error": "invalid scenario", "status": 422, "problems": _problem_list(scenario)}
                results.append(json.dumps(failed, ensure_ascii=False, separators=(",", ":")))
        return _json(f'{{"results":[{",".join(results)}],"rulebook":{json.dumps(info)}}}')

    @app.post(
        "/v1/trace",
        summary="Why a rule did or did not fire for a scenario",
        responses=_answer("The rule's condition tree, each node held or failed, and whether it gave way.", Trace)
        | with_body,
    )
    async def trace(request: TraceRequest) -> Response:
        try:
            result = engine.trace(request.scenario, request.rule_id)
        except UnknownRuleError as error:
            return _invalid([Problem("rule_id", str(error))], info)
        except ScenarioError as error:
            return _invalid(_under("scenario", error.problems), info)
        return _json(result.model_dump_json())

    @app.get(
        "/v1/signals",
        summary="List the signals, with labels in the service's locale",
        response_model=SignalList,
        responses=_documented(413, 422, 500),
    )
    def signals(category: Category | None = None) -> SignalList:
        chosen = [
            SignalSummary(id=s.id, category=s.category, label=engine.renderer.label(s.id))
            for s in book.signals.values()
            if category is None or s.category is category
        ]
        return SignalList(locale=engine.locale, rulebook=info, signals=chosen)

    @app.get("/v1/rules", summary="List the rules", response_model=RuleList, responses=_documented(413, 422, 500))
    def rules(category: Category | None = None, level: Level | None = None) -> RuleList:
        chosen = [
            RuleSummary(id=r.id, level=r.level, category=r.category, title=engine.renderer.words(r).title or r.title)
            for r in book.rules.values()
            if (category is None or r.category is category) and (level is None or r.level is level)
        ]
        return RuleList(rulebook=info, rules=chosen)

    @app.get("/v1/rules/{rule_id}", summary="Show one rule", responses=_documented(404, 413, 422, 500))
    def rule(rule_id: Annotated[str, Path(max_length=200)]) -> dict[str, Any]:
        try:
            found = book.rule(rule_id)
        except UnknownRuleError as error:
            raise HTTPException(404, str(error)) from None
        words = engine.renderer.words(found)
        body = found.model_dump(mode="json", exclude_none=True)
        body.update(
            title=words.title or found.title,
            normal_when=words.normal_when or found.normal_when,
            say=list(words.say or ()),
            steps=list(words.steps or ()),
            condition=describe(found.when),
        )
        return {"rule": body, "rulebook": info}

    @app.get(
        "/v1/schema/{name}",
        summary="The JSON Schema of a scenario (input) or of guidance (output)",
        responses=_documented(413, 422, 500),
    )
    def schema(name: Literal["scenario", "guidance"]) -> dict[str, Any]:
        body = json_schema(name, book)
        body["x-rulebook"] = info  # an annotation keyword: validators ignore it
        return body

    @app.get(
        "/healthz",
        summary="Liveness: the service is up and which rule base it serves",
        responses=_documented(413, 500),
    )
    def healthz() -> dict[str, Any]:
        return {"status": "ok", "rules": len(book.rules), "locale": engine.locale, "rulebook": info}

    build_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        document = build_openapi()
        with_signal_ids(document["components"]["schemas"], signal_ids)
        return document

    app.openapi = openapi  # type: ignore[method-assign]

    header = f"{book.name} {book.version} {book.content_hash}"
    app.add_middleware(
        _Guard,
        max_body_bytes=max_body_bytes,
        header_timeout=header_timeout,
        body_timeout=body_timeout,
        rulebook=header,
        info=info,
    )
    return app


SERVE_CONFIG_ENV = "THERAPY_SIGNALS_SERVE"
"""Environment variable through which ``serve --workers N`` hands its options to each worker."""


def configure_logging() -> None:
    """One JSON line per request on standard error, from the ``therapy_signals.server`` logger."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLogFormatter())
    service_log = logging.getLogger("therapy_signals.server")
    service_log.handlers[:] = [handler]
    service_log.setLevel(logging.INFO)
    service_log.propagate = False


def freeze_startup_heap() -> None:
    """Move everything built so far (the Engine, its rule base, the app) out of the GC's reach.

    The Engine, the rule base and the app are some 60,000 long-lived objects, and a full collection
    walked them all: one took 10.7 ms in 20,000 explains, and every request queued behind
    it waited that much longer. ``gc.freeze()`` leaves them out of every later collection.
    ``serve`` calls this in each worker once the app is built; an app that embeds
    ``create_app`` can call it after its own start-up.
    """
    gc.collect()
    gc.freeze()


def app_from_env() -> FastAPI:
    """uvicorn factory for ``serve --workers N``: each worker process builds its own Engine.

    durable_rules state and the Engine's lock are per process, so worker processes share
    nothing; the options come from ``$THERAPY_SIGNALS_SERVE`` (JSON), set by ``serve``.
    """
    config = json.loads(os.environ.get(SERVE_CONFIG_ENV) or "{}")
    engine = Engine(rule_paths=config.get("rule_paths") or [BUILTIN], locale=config.get("locale"))
    configure_logging()
    app = create_app(engine, **config.get("limits", {}))
    freeze_startup_heap()
    return app
