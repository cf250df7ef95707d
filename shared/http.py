"""HTTP pieces every service shares: RFC 9457 problem responses, health and metrics."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.failures import dependency_away

log = structlog.get_logger(__name__)

PROBLEM_JSON = "application/problem+json"
# What a client is told to wait before it retries a request that met a dependency away.
RETRY_AFTER_S = 2

Check = Callable[[], Awaitable[None]]


def problem(status: int, title: str, detail: str | None = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def install_problem_handlers(app: FastAPI) -> None:
    async def http_error(_request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        response = problem(error.status_code, _reason(error.status_code), str(error.detail))
        response.headers.update(error.headers or {})
        return response

    async def validation_error(_request: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        errors = [
            {"field": ".".join(str(part) for part in item["loc"]), "message": item["msg"]}
            for item in error.errors()
        ]
        return problem(422, "Unprocessable Content", "the request is not valid", errors=errors)

    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_middleware(DependencyAway)


class DependencyAway:
    """A request that fails because the database or the bus is away gets 503 with
    Retry-After, as a problem: the client may retry. (It got a plain-text 500, which
    says "a bug" and not "try again".)"""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        answered = False

        async def answering(message: Message) -> None:
            nonlocal answered
            answered = answered or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, answering)
        except Exception as error:
            if answered or not dependency_away(error):
                raise
            log.warning("http.dependency_away", path=scope["path"], error=repr(error))
            response = problem(
                503, "Service Unavailable", "the database or the event log is not reachable"
            )
            response.headers["retry-after"] = str(RETRY_AFTER_S)
            await response(scope, receive, send)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def health_router(checks: Mapping[str, Check], *, timeout_s: float = 2.0) -> APIRouter:
    """/healthz: the process answers. /readyz: every dependency answers, else 503."""
    router = APIRouter(tags=["health"])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", response_model=None)
    async def readyz() -> dict[str, Any] | JSONResponse:
        results = {name: await _run(check, timeout_s) for name, check in checks.items()}
        if all(result == "ok" for result in results.values()):
            return {"status": "ok", "checks": results}
        return problem(503, "Service Unavailable", "a dependency is not reachable", checks=results)

    @router.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


async def _run(check: Check, timeout_s: float) -> str:
    try:
        await asyncio.wait_for(check(), timeout_s)
    except Exception as error:
        return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return "ok"
