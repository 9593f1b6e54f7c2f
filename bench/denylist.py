"""Verification latency and memory with a small and a huge denylist, on a private Redis.

For each denylist size the script starts a throwaway ``redis-server`` on a
free loopback port, denies that many random ``jti``s through Keyturn's own
Redis revocation store, then measures:

- Redis memory per denied token (``used_memory`` before and after);
- the replica's process memory per denied token (live Python objects traced
  by ``tracemalloc``, and the growth of the resident set);
- the time of one ``VerifyAccessToken.execute`` call for a valid token, with
  the local replica and with direct store reads.

Run: ``.venv/bin/python -m bench.denylist --sizes 10 1000000``. It prints one
JSON object per size.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import time
import tracemalloc
from datetime import timedelta

from adapters.redis.client import create_redis_client
from adapters.redis.errors import redis_outage_log
from adapters.redis.revocation_feed import RedisRevocationFeed
from adapters.redis.revocations import RedisRevocationStore
from adapters.revocation_replica import ReplicatedRevocationStore
from application.verify import VerifyAccessToken
from bench.private_redis import start_private_redis
from domain.clock import SystemClock
from domain.revocation import Denial, RevocationPlan
from domain.tokens import AccessToken, new_token_id
from entrypoints.container import Container
from entrypoints.settings import Settings

PREFIX = "bench:"
CONCURRENT_WRITES = 32


async def fill(store: RedisRevocationStore, count: int, until) -> None:
    """Deny ``count`` random ids, one plan each, as ``count`` logouts would."""
    pending: list = []
    for _ in range(count):
        pending.append(store.apply(RevocationPlan(tokens=(Denial(new_token_id(), until),))))
        if len(pending) == CONCURRENT_WRITES:
            await asyncio.gather(*pending)
            pending = []
    await asyncio.gather(*pending)


def resident_bytes() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("VmRSS not found")


async def load_replica(
    store: RedisRevocationStore, url: str, clock: SystemClock
) -> tuple[int, float, ReplicatedRevocationStore]:
    """Start a replica and wait until it is current; return the resident-set growth, the load time and the replica."""
    gc.collect()
    rss_before = resident_bytes()
    feed = RedisRevocationFeed(create_redis_client(url, 30), PREFIX, redis_outage_log())
    replica = ReplicatedRevocationStore(store, feed, clock, max_silence=timedelta(minutes=10))
    started = time.perf_counter()
    replica.start()
    while not replica.is_current:
        await asyncio.sleep(0.01)
    load_seconds = time.perf_counter() - started
    gc.collect()
    return resident_bytes() - rss_before, load_seconds, replica


async def time_verifications(verify: VerifyAccessToken, raw: str, rounds: int) -> dict[str, float]:
    for _ in range(1000):
        await verify.execute(raw)
    samples = []
    for _ in range(rounds):
        started = time.perf_counter_ns()
        await verify.execute(raw)
        samples.append(time.perf_counter_ns() - started)
    samples.sort()
    return {
        "mean_us": round(statistics.fmean(samples) / 1000, 2),
        "p50_us": round(samples[len(samples) // 2] / 1000, 2),
        "p99_us": round(samples[int(len(samples) * 0.99)] / 1000, 2),
    }


async def measure(size: int, rounds: int) -> dict[str, object]:
    port, redis_process = start_private_redis()
    url = f"redis://127.0.0.1:{port}/0"
    settings = Settings.from_environ(
        {"APP_ENV": "development", "KEYTURN_REDIS_URL": url, "KEYTURN_REDIS_PREFIX": PREFIX, "KEYTURN_STORE_TIMEOUT_MS": "5000"}
    )
    container = Container(settings=settings)
    client = create_redis_client(url, 30)
    try:
        clock = SystemClock()
        policy = settings.token_policy
        store = RedisRevocationStore(client, PREFIX, clock)
        before = (await client.info("memory"))["used_memory"]
        await fill(store, size, clock.now() + timedelta(hours=1))
        redis_bytes = (await client.info("memory"))["used_memory"] - before

        codec = container.codec()
        token = AccessToken.issue(
            subject="1", session_id="bench-session", issued_at=clock.now(), lifetime=policy.lifetimes.access,
            issuer=policy.issuer, audience=policy.audience,
        )
        raw = codec.encode(token)
        direct = VerifyAccessToken(codec, store, policy, clock)
        direct_timing = await time_verifications(direct, raw, rounds)

        rss_growth, load_seconds, replica = await load_replica(store, url, clock)
        await replica.stop()
        tracemalloc.start()
        traced_before, _ = tracemalloc.get_traced_memory()
        _, _, replica = await load_replica(store, url, clock)
        traced = tracemalloc.get_traced_memory()[0] - traced_before
        tracemalloc.stop()
        replica_timing = await time_verifications(VerifyAccessToken(codec, replica, policy, clock), raw, rounds)
        entries = replica.size
        await replica.stop()
        return {
            "denied_tokens": size,
            "replica_entries": entries,
            "redis_bytes": redis_bytes,
            "replica_traced_bytes": traced,
            "redis_bytes_per_token": round(redis_bytes / size, 1),
            "replica_traced_bytes_per_token": round(traced / size, 1),
            "replica_rss_bytes_per_token": round(rss_growth / size, 1),
            "replica_load_seconds": round(load_seconds, 2),
            "verify_direct": direct_timing,
            "verify_replica": replica_timing,
        }
    finally:
        await client.aclose()
        redis_process.terminate()
        redis_process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 1_000_000])
    parser.add_argument("--rounds", type=int, default=20_000)
    arguments = parser.parse_args()
    for size in arguments.sizes:
        print(json.dumps(asyncio.run(measure(size, arguments.rounds))), flush=True)


if __name__ == "__main__":
    main()
