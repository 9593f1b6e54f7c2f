"""Errors as RFC 9457 problem details with a stable ``code`` member.

HTTP status codes are chosen here and nowhere else.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from domain.errors import AuthError, TokenError

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

_CODES_BY_STATUS = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def problem(status: int, code: str, detail: str, request: Request, **extra: Any) -> Response:
    body = {
        "type": f"urn:keyturn:problem:{code}",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "code": code,
        "detail": detail,
        "instance": request.url.path,
        **extra,
    }
    headers = {}
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="keyturn"'
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def handle_auth_error(request: Request, error: AuthError) -> Response:
    log_ids = {"code": error.code, "path": request.url.path}
    logger.info("request rejected: %s", error.code, extra=log_ids)
    response = problem(401, error.code, str(error), request)
    if isinstance(error, TokenError):
        response.headers["WWW-Authenticate"] = 'Bearer realm="keyturn", error="invalid_token"'
    return response


def handle_validation_error(request: Request, error: ValidationException) -> Response:
    # Only the field and the message go back: echoing the offending value
    # could reflect a password into a response or a log.
    errors = [
        {"field": item.get("key"), "message": item.get("message")}
        for item in (error.extra if isinstance(error.extra, list) else [])
        if isinstance(item, dict)
    ]
    return problem(422, "invalid_request", "the request body is invalid", request, errors=errors)


def handle_http_error(request: Request, error: HTTPException) -> Response:
    status = error.status_code
    if status >= 500:
        logger.error("HTTP %s on %s: %s", status, request.url.path, error.detail)
        return problem(status, "internal_error", "the server failed to handle the request", request)
    code = _CODES_BY_STATUS.get(status, "client_error")
    return problem(status, code, str(error.detail), request)


def handle_unexpected_error(request: Request, error: Exception) -> Response:
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem(500, "internal_error", "the server failed to handle the request", request)


EXCEPTION_HANDLERS = {
    AuthError: handle_auth_error,
    ValidationException: handle_validation_error,
    HTTPException: handle_http_error,
    Exception: handle_unexpected_error,
}
