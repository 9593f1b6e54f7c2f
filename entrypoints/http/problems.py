"""Errors as RFC 9457 problem details with a stable ``code`` member.

HTTP status codes are chosen here and nowhere else.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from domain.throttling import LoginThrottled
from domain.errors import AuthError, PasswordRejected, RequestError, SessionNotFound, StoreUnavailable, TokenError

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

_CODES_BY_STATUS = {
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
    metrics = getattr(request.app.state, "metrics", None)
    if metrics is not None:
        metrics.errors.labels(str(status), code).inc()
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


_REQUEST_ERROR_STATUS = {PasswordRejected: 422, SessionNotFound: 404}


def handle_request_error(request: Request, error: RequestError) -> Response:
    status = _REQUEST_ERROR_STATUS.get(type(error), 400)
    logger.info("request rejected: %s", error.code, extra={"code": error.code, "path": request.url.path})
    return problem(status, error.code, str(error), request)


def handle_store_unavailable(request: Request, error: StoreUnavailable) -> Response:
    # The adapters log the outage once per burst, so nothing is logged here.
    response = problem(503, error.code, "a backing store is unavailable; retry shortly", request)
    response.headers["Retry-After"] = "1"
    return response


def handle_login_throttled(request: Request, error: LoginThrottled) -> Response:
    logger.info("request rejected: %s", error.code, extra={"code": error.code, "path": request.url.path})
    response = problem(429, error.code, str(error), request, retry_after=error.retry_after)
    response.headers["Retry-After"] = str(error.retry_after)
    return response


def handle_validation_error(request: Request, error: ValidationException) -> Response:
    # Only the field and the message go back: echoing the offending value
    # could reflect a password into a response or a log.
    errors = [_field_error(item) for item in (error.extra if isinstance(error.extra, list) else []) if isinstance(item, dict)]
    return problem(422, "invalid_request", "the request body is invalid", request, errors=errors)


def _field_error(item: dict[str, Any]) -> dict[str, Any]:
    # Litestar names the whole body "data", so the message states what is expected instead.
    if item.get("key") == "data":
        return {"field": None, "message": "the request body must be a JSON object with the documented fields"}
    return {"field": item.get("key"), "message": item.get("message")}


def handle_http_error(request: Request, error: HTTPException) -> Response:
    status = error.status_code
    if status >= 500:
        logger.error("HTTP %s on %s: %s", status, request.url.path, error.detail)
        return problem(status, "internal_error", "the server failed to handle the request", request)
    if status == 400:
        # Litestar raises 400 for a body it cannot parse (invalid JSON, wrong
        # media type). To a client that is the same mistake as a body that
        # fails validation, so both get 422.
        return problem(422, "invalid_request", str(error.detail), request)
    code = _CODES_BY_STATUS.get(status, "client_error")
    return problem(status, code, str(error.detail), request)


def handle_unexpected_error(request: Request, error: Exception) -> Response:
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem(500, "internal_error", "the server failed to handle the request", request)


EXCEPTION_HANDLERS = {
    AuthError: handle_auth_error,
    RequestError: handle_request_error,
    StoreUnavailable: handle_store_unavailable,
    LoginThrottled: handle_login_throttled,
    ValidationException: handle_validation_error,
    HTTPException: handle_http_error,
    Exception: handle_unexpected_error,
}
