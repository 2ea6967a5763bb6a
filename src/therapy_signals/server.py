"""The HTTP service: ``therapy-signals serve``, or ``create_app()`` under any ASGI server.

Needs the ``server`` extra (``pip install 'therapy-signals[server]'``). Endpoints:

- ``POST /v1/explain`` a scenario, get guidance (``?format=cards`` for CDS Hooks cards);
- ``POST /v1/explain/batch`` up to ``max_batch`` scenarios at once; ``POST /v1/cards``;
- ``GET /v1/rules``, ``GET /v1/rules/{id}``, ``GET /v1/schema/{scenario|guidance}``;
- ``GET /healthz``; the OpenAPI document at ``/openapi.json``.

Every response carries the rule base that answered in an ``X-Rulebook: name version hash``
header, and every JSON body (but the OpenAPI document) in a ``rulebook`` member, so a
client can tell when the rules changed under it. Bad input is a 422 listing each field path
and why; a body over ``max_body_bytes`` is a 413; anything unexpected is a 500 with a
generic body, logged by its type only: no stack trace, no observation, no note ever leaves
the process or reaches the log.

The Engine is shared by every request. ``/v1/explain`` and ``/v1/cards`` call it on the
event loop itself: one explanation takes under a millisecond and holds the GIL and
durable_rules' process-wide lock throughout, so a thread hop would only add a handoff and
GIL contention to every request (decision 0008). The batch endpoint, up to ``max_batch``
explanations long, runs in the threadpool so it cannot stall the loop for its whole length.
Use ``serve --workers N`` (one per core) to use more than one core.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

from . import __version__
from ._evaluate import describe
from .cards import to_cards
from .engine import BUILTIN, Engine, _problem, default_engine
from .errors import Problem, ScenarioError, UnknownRuleError
from .model import Category, Guidance, Level, Scenario

__all__ = [
    "DEFAULT_MAX_BATCH",
    "DEFAULT_MAX_BODY_BYTES",
    "JsonLogFormatter",
    "app_from_env",
    "configure_logging",
    "create_app",
    "freeze_startup_heap",
]

DEFAULT_MAX_BODY_BYTES = 256 * 1024
"""A scenario is at most 100 observations of at most a 2,000-character note: ~250 KB."""
DEFAULT_MAX_BATCH = 100
"""Scenarios per batch request; larger runs belong to ``therapy-signals batch``."""

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

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is over {limit} bytes; send fewer or smaller scenarios")


class _Guard:
    """Outermost ASGI layer: body size limit, the X-Rulebook header, request logs, last-resort 500.

    It sits inside Starlette's ServerErrorMiddleware but outside everything else, so an
    exception no handler took ends here as a generic 500 and is never re-raised into the
    server's own traceback logging.
    """

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, rulebook: str, info: dict[str, str]) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.header = (b"x-rulebook", rulebook.encode())
        self.info = info

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_header(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = int(message["status"])
                message["headers"] = [*message.get("headers", []), self.header]
            await send(message)

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLarge(self.max_body_bytes)
            return message

        try:
            declared = _content_length(scope)
            if declared is not None and declared > self.max_body_bytes:
                await _error(BodyTooLarge(self.max_body_bytes), self.info)(scope, receive, send_with_header)
            else:
                await self.app(scope, limited_receive, send_with_header)
        except Exception as error:  # the last resort: a generic body, the type in the log, nothing else
            log.error("unhandled", extra={"fields": {"error": type(error).__name__, "path": scope.get("path")}})
            if not response_started:
                body = {"error": "internal error", "detail": "the service failed; it is logged", "rulebook": self.info}
                await JSONResponse(body, status_code=500)(scope, receive, send_with_header)
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            fields = {
                "method": scope.get("method"),
                "path": scope.get("path"),
                "status": status,
                "ms": round(elapsed, 2),
            }
            log.info("request", extra={"fields": fields})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _error(error: HTTPException, info: dict[str, str]) -> JSONResponse:
    kind = {404: "not found", 405: "method not allowed", 413: "request too large"}.get(error.status_code, "error")
    body = {"error": kind, "detail": error.detail, "rulebook": info}
    return JSONResponse(body, status_code=error.status_code, headers=error.headers)


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
        if kind == "json_invalid":
            reason = item.get("ctx", {}).get("error", "")
            problems.append(Problem("(body)", f"not valid JSON: {reason}; send a JSON object"))
            continue
        if kind == "missing" and not loc:
            problems.append(Problem("(body)", "required: a JSON object with 'observations'"))
            continue
        # Batch items: strip "scenarios[i]" so the scenario's own wording applies, then put it back.
        prefix = ""
        if loc[:1] == ["scenarios"] and len(loc) > 1 and isinstance(loc[1], int):
            prefix, loc = f"scenarios[{loc[1]}]", loc[2:]
        problem = _problem({**item, "loc": tuple(loc)})  # type: ignore[typeddict-item]
        where = problem.where if not prefix else prefix + ("" if problem.where == "(top)" else "." + problem.where)
        problems.append(Problem(where.replace("..", "."), problem.message))
    return problems


def _invalid(problems: Sequence[Problem], info: dict[str, str]) -> JSONResponse:
    body = {
        "error": "invalid scenario",
        "problems": [{"where": p.where.replace(".[", "["), "message": p.message} for p in problems],
        "rulebook": info,
    }
    return JSONResponse(body, status_code=422)


class BatchRequest(BaseModel):
    """Several scenarios explained in one request, answered in the same order."""

    model_config = ConfigDict(extra="forbid")

    scenarios: list[Scenario] = Field(min_length=1, description="The scenarios; at most the server's max_batch.")


class RuleSummary(BaseModel):
    id: str
    level: Level
    category: Category
    title: str


class RuleList(BaseModel):
    rulebook: dict[str, str]
    rules: list[RuleSummary]


class ErrorBody(BaseModel):
    error: str
    detail: str | None = None
    problems: list[dict[str, str]] | None = None
    rulebook: dict[str, str]


def create_app(
    engine: Engine | None = None,
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    max_batch: int = DEFAULT_MAX_BATCH,
) -> FastAPI:
    """Build the ASGI app around one shared Engine (the shipped rule base by default).

    Args:
        engine: the Engine every request uses; build it with your rule packs, locale and
            resources. It is shared by all requests and threads.
        max_body_bytes: larger request bodies get a 413 before they are parsed.
        max_batch: more scenarios in one batch request get a 413.
    """
    engine = engine or default_engine()
    book = engine.rulebook
    info = {"name": book.name, "version": book.version, "hash": book.content_hash}
    errors: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody}, 422: {"model": ErrorBody}}

    def documented(extra: dict[int | str, dict[str, Any]]) -> dict[int | str, dict[str, Any]]:
        return {**extra, **errors}

    app = FastAPI(
        title="therapy-signals",
        version=__version__,
        summary="Is this normal? Explained guidance about therapist-client relationships.",
        description=(
            f"Rule base {book.name} {book.version} (sha256 {book.content_hash}). "
            "General information, not a diagnosis or professional advice."
        ),
    )
    app.state.engine = engine

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
        responses=documented(
            {200: {"model": Guidance, "description": "Guidance, or {cards, rulebook} with format=cards."}}
        ),
    )
    async def explain(scenario: Scenario, fmt: FormatQuery = "guidance") -> Response:
        return _json(_one(engine.explain(scenario), fmt))

    @app.post(
        "/v1/cards",
        summary="Explain one scenario as HL7 CDS Hooks cards",
        responses=documented({200: {"description": "{cards: [...], rulebook}"}}),
    )
    async def cards(scenario: Scenario) -> Response:
        return _json(_one(engine.explain(scenario), "cards"))

    @app.post(
        "/v1/explain/batch",
        summary=f"Explain up to {max_batch} scenarios, in order",
        responses=documented(
            {200: {"description": "{results: [Guidance or {cards}], rulebook}"}, 413: {"model": ErrorBody}}
        ),
    )
    def explain_batch(batch: BatchRequest, fmt: FormatQuery = "guidance") -> Response:
        if len(batch.scenarios) > max_batch:
            raise HTTPException(413, f"{len(batch.scenarios)} scenarios; at most {max_batch} per request")
        # Check every scenario before explaining any, so a bad one costs nothing and all are named.
        problems: list[Problem] = []
        for index, scenario in enumerate(batch.scenarios):
            try:
                engine.validate(scenario)
            except ScenarioError as error:
                problems.extend(Problem(f"scenarios[{index}].{p.where}", p.message) for p in error.problems)
        if problems:
            raise ScenarioError(problems)
        results = ",".join(_one(engine.explain(s), fmt) for s in batch.scenarios)
        return _json(f'{{"results":[{results}],"rulebook":{json.dumps(info)}}}')

    @app.get("/v1/rules", summary="List the rules", response_model=RuleList)
    def rules(category: Category | None = None, level: Level | None = None) -> RuleList:
        chosen = [
            RuleSummary(id=r.id, level=r.level, category=r.category, title=engine.renderer.words(r).title or r.title)
            for r in book.rules.values()
            if (category is None or r.category is category) and (level is None or r.level is level)
        ]
        return RuleList(rulebook=info, rules=chosen)

    @app.get("/v1/rules/{rule_id}", summary="Show one rule", responses=errors)
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

    @app.get("/v1/schema/{name}", summary="The JSON Schema of a scenario (input) or of guidance (output)")
    def schema(name: Literal["scenario", "guidance"]) -> dict[str, Any]:
        model = Scenario if name == "scenario" else Guidance
        body = model.model_json_schema(mode="validation" if name == "scenario" else "serialization")
        body["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        body["x-rulebook"] = info  # an annotation keyword: validators ignore it
        return body

    @app.get("/healthz", summary="Liveness: the service is up and which rule base it serves")
    def healthz() -> dict[str, Any]:
        return {"status": "ok", "rules": len(book.rules), "locale": engine.locale, "rulebook": info}

    header = f"{book.name} {book.version} {book.content_hash}"
    app.add_middleware(_Guard, max_body_bytes=max_body_bytes, rulebook=header, info=info)
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
