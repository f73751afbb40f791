"""The one place where domain errors become HTTP responses: {"error": {code, message, details}}."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException

from clarion.core.errors import ClarionError
from clarion.core.validation import problems_from

STATUS: dict[str, int] = {
    "invalid_input": 422,
    "malformed_json": 400,
    "too_large": 413,
    "not_found": 404,
    "illegal_transition": 409,
    "conflict": 409,
    "unauthorized": 401,
    "store_busy": 503,
    "not_initialised": 503,
    "not_committed": 503,
}


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON shape of every error Clarion's API returns."""
    return {"error": {"code": code, "message": message, "details": details or {}}}


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ClarionError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.code == "unauthorized" else None
    return JSONResponse(
        error_body(exc.code, exc.message, exc.details),
        status_code=STATUS.get(exc.code, 400),
        headers=headers,
    )


async def _request_invalid(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError | ValidationError)
    problems = problems_from(exc.errors(), strip=("body",))
    first = problems[0] if problems else None
    message = f"invalid request: {first.path}: {first.problem}" if first else "invalid request"
    if len(problems) > 1:
        message += f" (and {len(problems) - 1} more)"
    return JSONResponse(
        error_body("invalid_input", message, {"problems": [p.as_dict() for p in problems]}),
        status_code=422,
    )


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized"}.get(
        exc.status_code, "http_error"
    )
    return JSONResponse(
        error_body(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
    )


def install_error_handlers(app: FastAPI) -> None:
    """Map every error type to the one JSON error shape."""
    app.add_exception_handler(ClarionError, _domain_error)
    app.add_exception_handler(RequestValidationError, _request_invalid)
    app.add_exception_handler(ValidationError, _request_invalid)  # bodies parsed by hand
    app.add_exception_handler(HTTPException, _http_error)
