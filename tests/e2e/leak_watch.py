"""Watches every e2e request for secrets reaching a log line or an error body.

Each client made by ``asgi_client`` reports what it sends and receives: the
passwords and refresh tokens in request bodies, the token and CSRF cookies
and body tokens in responses, and the text of every problem response. A
logging handler keeps every record. After each test, no secret may appear
in any record or problem body.
"""

from __future__ import annotations

import json
import logging

import httpx

# Shorter values (such as the 7-character passwords of the policy tests)
# occur inside ordinary words and would match by chance.
MIN_SECRET_LENGTH = 10
OWN_LOGGERS = ("domain", "application", "adapters", "entrypoints", "keyturn", "litestar", "uvicorn")
_SECRET_BODY_KEYS = ("password", "current_password", "new_password", "refresh_token")
_SECRET_RESPONSE_KEYS = ("access_token", "refresh_token")


class LeakWatch(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.secrets: set[str] = set()
        self.problem_bodies: list[str] = []
        self.log_lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.log_lines.append(f"{record.getMessage()} {record.__dict__}")

    def _add(self, value: object) -> None:
        if isinstance(value, str) and len(value) >= MIN_SECRET_LENGTH:
            self.secrets.add(value)

    async def on_request(self, request: httpx.Request) -> None:
        body = _json_object(request.content)
        for key in _SECRET_BODY_KEYS:
            self._add(body.get(key))

    async def on_response(self, response: httpx.Response) -> None:
        await response.aread()
        for value in response.cookies.values():
            self._add(value)
        content_type = response.headers.get("content-type", "")
        if content_type.startswith("application/problem+json"):
            self.problem_bodies.append(response.text)
        elif content_type.startswith("application/json"):
            body = _json_object(response.content)
            for key in _SECRET_RESPONSE_KEYS:
                self._add(body.get(key))

    def leaks(self) -> list[str]:
        texts = self.problem_bodies + self.log_lines
        return [f"a secret of length {len(secret)} in: {text[:100]}" for secret in self.secrets for text in texts if secret in text]


def _json_object(content: bytes) -> dict:
    try:
        value = json.loads(content) if content else {}
    except (ValueError, UnicodeDecodeError):
        return {}
    return value if isinstance(value, dict) else {}


WATCH: LeakWatch | None = None
