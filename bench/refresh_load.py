"""Load driver for ``POST /auth/refresh`` over cookies, as a browser refreshes.

Run as ``python -m bench.refresh_load`` with a sessions file of JSON lines,
one per connection, each with the cookie names and values that a login
set. Every connection rotates its own session: it sends the refresh and CSRF
cookies plus the ``X-CSRF-Token`` header, then keeps the refresh token from
the response's ``Set-Cookie`` for its next request. Prints one JSON summary.

Requests that start during the warm-up are sent but not counted. A 401 ends
that connection, because its session is then revoked or its token unknown.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.http_client import AsyncConnection, cookie_value
from bench.stats import count_non_2xx, latency_summary_ms

REFRESH_PATH = "/auth/refresh"


@dataclass
class Session:
    """Cookie names and current values of one logged-in session."""

    refresh_name: str
    refresh_token: str
    csrf_name: str
    csrf_token: str

    def request_headers(self) -> dict[str, str]:
        cookie = f"{self.refresh_name}={self.refresh_token}; {self.csrf_name}={self.csrf_token}"
        return {"Cookie": cookie, "X-CSRF-Token": self.csrf_token}

    def update(self, set_cookies: dict[str, str]) -> None:
        if self.refresh_name in set_cookies:
            self.refresh_token = cookie_value(set_cookies[self.refresh_name])
        if self.csrf_name in set_cookies:
            self.csrf_token = cookie_value(set_cookies[self.csrf_name])


@dataclass
class Tally:
    latencies_s: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    socket_errors: Counter[str] = field(default_factory=Counter)
    connections_ended: int = 0


async def drive(host: str, port: int, session: Session, window: tuple[float, float], tally: Tally) -> None:
    measure_from, stop_at = window
    connection = AsyncConnection(host, port)
    try:
        while (started := time.perf_counter()) < stop_at:
            try:
                response = await connection.request("POST", REFRESH_PATH, session.request_headers())
            except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError) as error:
                if started >= measure_from:
                    tally.socket_errors[type(error).__name__] += 1
                await connection.close()
                continue
            if started >= measure_from:
                tally.latencies_s.append(time.perf_counter() - started)
                tally.statuses[response.status] += 1
            if response.status == 200:
                session.update(response.set_cookies())
            elif response.status == 401:
                tally.connections_ended += 1
                return
    finally:
        await connection.close()


async def run(host: str, port: int, sessions: list[Session], warmup_s: float, duration_s: float) -> dict:
    start = time.perf_counter()
    window = (start + warmup_s, start + warmup_s + duration_s)
    tally = Tally()
    await asyncio.gather(*(drive(host, port, session, window, tally) for session in sessions))
    requests = len(tally.latencies_s)
    return {
        "requests": requests,
        "duration_s": duration_s,
        "requests_per_s": round(requests / duration_s, 1),
        "latency_ms": latency_summary_ms(tally.latencies_s),
        "non_2xx": count_non_2xx(tally.statuses),
        "statuses": {str(status): count for status, count in sorted(tally.statuses.items())},
        "socket_errors": dict(tally.socket_errors),
        "connections_ended_by_401": tally.connections_ended,
    }


def read_sessions(path: Path) -> list[Session]:
    return [Session(**json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def main() -> int:
    parser = argparse.ArgumentParser(description="Drive POST /auth/refresh with rotating cookies and print a JSON summary.")
    parser.add_argument("--host", default="127.0.0.1", help="server address (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, required=True, help="server TCP port")
    parser.add_argument("--sessions", type=Path, required=True, help="JSON lines file, one session per connection")
    parser.add_argument("--warmup", type=float, required=True, help="warm-up seconds whose requests are not counted")
    parser.add_argument("--duration", type=float, required=True, help="seconds of counted requests after the warm-up")
    arguments = parser.parse_args()
    sessions = read_sessions(arguments.sessions)
    if not sessions:
        print(f"refresh_load: {arguments.sessions} is empty; write one JSON line per connection", file=sys.stderr)
        return 2
    result = asyncio.run(run(arguments.host, arguments.port, sessions, arguments.warmup, arguments.duration))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
