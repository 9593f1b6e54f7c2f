"""Small helpers for driving the auth routes and reading their responses."""

import re

PROBLEM = "application/problem+json"


async def login(service, login: str, password: str):
    return await service.client.post("/auth/login", json={"login": login, "password": password})


def set_cookie_headers(response) -> dict[str, str]:
    return {value.split("=", 1)[0]: value for value in response.headers.get_list("set-cookie")}


def cookie_header(name: str, value: str) -> dict[str, bytes]:
    """Send one cookie as a raw header, so tests can send bytes a browser might."""
    return {"Cookie": f"{name}={value}".encode("utf-8")}


def max_age(set_cookie: str) -> int:
    match = re.search(r"max-age=(\d+)", set_cookie, re.IGNORECASE)
    assert match, set_cookie
    return int(match.group(1))


def assert_problem(response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["code"] == code


CSRF_COOKIE = "csrf_token"


def csrf_headers(client) -> dict[str, str]:
    """The header a browser page adds to unsafe requests: the value of the client's CSRF cookie."""
    return {"X-CSRF-Token": client.cookies.get(CSRF_COOKIE) or ""}


def refresh_cookie_headers(refresh: str, csrf: str) -> dict[str, bytes | str]:
    """Send one refresh cookie as a browser holding it would: with its session's CSRF cookie and header."""
    return {"Cookie": f"refresh_token={refresh}; {CSRF_COOKIE}={csrf}".encode("utf-8"), "X-CSRF-Token": csrf}
