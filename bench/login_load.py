"""Open-loop login generator: ``POST /auth/login`` at a fixed rate on new connections.

Run as ``python -m bench.login_load``; the password comes from the
``BENCH_LOGIN_PASSWORD`` environment variable so it stays off command lines.
Each login starts on schedule whether or not earlier ones have finished, so
a slow server does not lower the offered rate. Prints one JSON summary.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from collections import Counter

from bench.http_client import AsyncConnection
from bench.stats import count_non_2xx, latency_summary_ms

LOGIN_PATH = "/auth/login"


async def log_in_once(host: str, port: int, body: bytes, latencies_s: list[float], statuses: Counter[int],
                      socket_errors: Counter[str]) -> None:
    connection = AsyncConnection(host, port)
    started = time.perf_counter()
    try:
        # Body transport keeps Set-Cookie headers, which this generator ignores, out of the response.
        headers = {"Content-Type": "application/json", "X-Token-Transport": "body"}
        response = await connection.request("POST", LOGIN_PATH, headers, body)
    except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError) as error:
        socket_errors[type(error).__name__] += 1
        return
    finally:
        await connection.close()
    latencies_s.append(time.perf_counter() - started)
    statuses[response.status] += 1


async def run(host: str, port: int, login: str, password: str, rate: float, duration_s: float) -> dict:
    body = json.dumps({"login": login, "password": password}).encode("utf-8")
    latencies_s: list[float] = []
    statuses: Counter[int] = Counter()
    socket_errors: Counter[str] = Counter()
    count = int(rate * duration_s)
    start = time.perf_counter()
    tasks = []
    for index in range(count):
        await asyncio.sleep(max(0.0, start + index / rate - time.perf_counter()))
        tasks.append(asyncio.create_task(log_in_once(host, port, body, latencies_s, statuses, socket_errors)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    return {
        "attempted": count,
        "completed": len(latencies_s),
        "offered_rate_per_s": rate,
        "achieved_rate_per_s": round(len(latencies_s) / elapsed, 2) if elapsed else 0.0,
        "latency_ms": latency_summary_ms(latencies_s),
        "non_2xx": count_non_2xx(statuses),
        "statuses": {str(status): number for status, number in sorted(statuses.items())},
        "socket_errors": dict(socket_errors),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description="Send logins at a fixed rate and print a JSON summary.")
    parser.add_argument("--host", default="127.0.0.1", help="server address (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, required=True, help="server TCP port")
    parser.add_argument("--login", required=True, help="email or username of the account")
    parser.add_argument("--rate", type=float, required=True, help="logins started per second")
    parser.add_argument("--duration", type=float, required=True, help="seconds during which logins are started")
    arguments = parser.parse_args()
    password = os.environ["BENCH_LOGIN_PASSWORD"]
    result = asyncio.run(run(arguments.host, arguments.port, arguments.login, password, arguments.rate,
                             arguments.duration))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
