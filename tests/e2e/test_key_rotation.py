"""Key rotation as an operator runs it: HS256 secret change, EdDSA generate, rotate and prune, and JWKS use.

The last test starts a real ``keyturn serve`` process. It needs the settings,
container, app and CLI wiring for ``KEYTURN_KEY_DIR`` and is skipped, naming
what is missing, until that wiring exists.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import jwt
import pytest
import uvicorn
from dependency_injector import providers
from litestar import Litestar
from litestar.testing import AsyncTestClient

from adapters.jwt_codec import JwtCodec
from adapters.key_directory import KeyDirectory, KeyRingSource
from adapters.keys import derive_hs256_key, key_ring_from_secrets
from adapters.sql import migrate
from domain.clock import FixedClock, SystemClock
from domain.keys import KeyManagementError
from domain.policy import TokenPolicy
from domain.tokens import AccessToken
from entrypoints.cli import build_parser
from entrypoints.container import Container
from entrypoints.http.app import create_app
from entrypoints.http.jwks import jwks_route
from entrypoints.key_commands import generate_key, list_keys, prune_keys, rotate_keys
from entrypoints.settings import Settings
from tests.conftest import account
from tests.e2e.conftest import SECRET, make_settings
from tests.e2e.http_helpers import assert_problem
from tests.e2e.processes import KEYTURN, clean_environment, free_port, request, start_keyturn, stop
from tests.e2e.test_crafted_tokens import start_keyed_service

NEW_SECRET = "e2e-rotated-secret-abcdef0123456789abcdef0123"
RELOAD = timedelta(seconds=10)
POLICY = TokenPolicy()
# Access lifetime (15 min) plus leeway (60 s) plus one reload interval.
RETENTION = timedelta(minutes=16, seconds=10)
VERIFY_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "verify_with_jwks.py"


async def start_hs_service(database: Path, clock: FixedClock, **overrides: str) -> AsyncTestClient:
    container = Container(settings=make_settings(database, **overrides))
    container.clock.override(providers.Object(clock))
    return AsyncTestClient(create_app(container), base_url="https://testserver.local")


async def access_token_of(client: AsyncTestClient, username: str = "alice") -> str:
    response = await client.post("/auth/login", json={"login": username, "password": account(username)["password"]})
    assert response.status_code == 200, response.text
    token = client.cookies["access_token"]
    client.cookies.clear()
    return token


async def me(client: AsyncTestClient, token: str):
    return await client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})


def kid_of(token: str) -> str:
    return jwt.get_unverified_header(token)["kid"]


@pytest.fixture
async def migrated_db(legacy_db: Path) -> Path:
    settings = make_settings(legacy_db)
    await migrate.upgrade(settings.database_url, settings.users_table)
    return legacy_db


async def test_session_secret_change_keeps_old_tokens(migrated_db):
    clock = FixedClock(SystemClock().now())
    async with await start_hs_service(migrated_db, clock) as old_service:
        old_token = await access_token_of(old_service)

    rotated = await start_hs_service(migrated_db, clock, SESSION_SECRET=NEW_SECRET, SESSION_SECRET_PREVIOUS=SECRET)
    async with rotated:
        old_still_valid = await me(rotated, old_token)
        new_token = await access_token_of(rotated)
        clock.advance(POLICY.lifetimes.access + POLICY.leeway.delta)
        old_after_expiry = await me(rotated, old_token)

    assert kid_of(old_token) == derive_hs256_key(SECRET).kid
    assert old_still_valid.status_code == 200, old_still_valid.text
    assert kid_of(new_token) == derive_hs256_key(NEW_SECRET).kid
    assert kid_of(new_token) != kid_of(old_token)
    assert_problem(old_after_expiry, 401, "token_expired")


async def test_secret_change_without_previous_rejects_old_tokens(migrated_db):
    clock = FixedClock(SystemClock().now())
    async with await start_hs_service(migrated_db, clock) as old_service:
        old_token = await access_token_of(old_service)

    async with await start_hs_service(migrated_db, clock, SESSION_SECRET=NEW_SECRET) as rotated:
        response = await me(rotated, old_token)

    assert_problem(response, 401, "token_invalid")


async def test_eddsa_generate_rotate_prune(migrated_db, tmp_path):
    # Whole seconds, the manifest's precision, so the retention boundary is exact.
    clock = FixedClock(SystemClock().now().replace(microsecond=0))
    directory = KeyDirectory(tmp_path / "keys")
    generate_key(directory, "EdDSA", RELOAD, clock)
    clock.advance(RELOAD)
    rotate_keys(directory, RELOAD, clock, force=False)
    first_kid = directory.read_manifest().active.kid

    service = await start_keyed_service(migrated_db, directory.path, clock)
    async with service.client as client:
        first_token = await access_token_of(client)

        generate_key(directory, "EdDSA", RELOAD, clock)
        # A pending key verifies at once but does not sign yet.
        service.source.reload_now()
        still_first = await access_token_of(client)
        with pytest.raises(KeyManagementError, match="reload interval"):
            rotate_keys(directory, RELOAD, clock, force=False)
        clock.advance(RELOAD)
        rotate_keys(directory, RELOAD, clock, force=False)
        second_kid = directory.read_manifest().active.kid
        # What SIGHUP or the next reload check does in a running process.
        service.source.reload_now()

        old_after_rotation = await me(client, first_token)
        second_token = await access_token_of(client)

        nothing_pruned = prune_keys(directory, POLICY, RELOAD, clock)
        clock.advance(RETENTION)
        old_after_expiry = await me(client, first_token)
        pruned = prune_keys(directory, POLICY, RELOAD, clock)
        service.source.reload_now()
        old_after_prune = await me(client, first_token)
        third_token = await access_token_of(client)
        listing = "\n".join(list_keys(directory))

    assert kid_of(first_token) == first_kid
    assert kid_of(still_first) == first_kid
    assert old_after_rotation.status_code == 200, old_after_rotation.text
    assert kid_of(second_token) == second_kid != first_kid
    assert "nothing to prune" in nothing_pruned[0]
    assert_problem(old_after_expiry, 401, "token_expired")
    assert pruned == [f"deleted retired key {first_kid} (EdDSA)"]
    assert_problem(old_after_prune, 401, "token_invalid")
    assert first_kid not in [key.kid for key in service.source.current()]
    assert not directory.private_key_path(first_kid).exists()
    assert kid_of(third_token) == second_kid
    assert first_kid not in listing


# The verification script against a server on a loopback port.


@pytest.fixture
def jwks_server(tmp_path: Path) -> Iterator[tuple[int, KeyRingSource]]:
    """Serve only the JWKS route from a thread, so the script can be checked without the full wiring."""
    clock = FixedClock(SystemClock().now())
    directory = KeyDirectory(tmp_path / "keys")
    directory.generate("EdDSA", clock.now())
    directory.rotate(clock.now(), RELOAD, force=True)
    source = KeyRingSource(key_ring_from_secrets(SECRET), directory, RELOAD)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(Litestar([jwks_route(source)]), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "the JWKS test server did not start"
    yield port, source
    server.should_exit = True
    thread.join(timeout=10)


def run_verify_script(port: int, token: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(VERIFY_SCRIPT), "--port", str(port)],
        input=token, capture_output=True, text=True, timeout=60,
    )


def current_access_token(codec: JwtCodec) -> str:
    token = AccessToken.issue(
        subject="1", session_id="script-session", issued_at=SystemClock().now(), lifetime=timedelta(minutes=15),
        issuer=POLICY.issuer, audience=POLICY.audience,
    )
    return codec.encode(token)


def test_script_verifies_eddsa_token(jwks_server):
    port, source = jwks_server
    token = current_access_token(JwtCodec(source, POLICY))

    result = run_verify_script(port, token)

    assert result.returncode == 0, result.stderr
    assert f"kid={kid_of(token)}" in result.stdout


def test_script_rejects_tampered_token(jwks_server):
    port, source = jwks_server
    header, payload, signature = current_access_token(JwtCodec(source, POLICY)).split(".")
    other = current_access_token(JwtCodec(source, POLICY)).split(".")[1]

    result = run_verify_script(port, f"{header}.{other}.{signature}")

    assert other != payload
    assert result.returncode == 1
    assert "invalid token" in result.stderr


def test_script_rejects_hs256_token(jwks_server):
    port, _ = jwks_server
    token = current_access_token(JwtCodec(key_ring_from_secrets(SECRET), POLICY))

    result = run_verify_script(port, token)

    assert result.returncode == 1


# A real `keyturn serve` process: needs the lead's wiring.


def missing_key_wiring() -> list[str]:
    missing = []
    if "key_dir" not in Settings.__dataclass_fields__:
        missing.append("Settings.key_dir (KEYTURN_KEY_DIR)")
    if "key_ring_source" not in Container.providers:
        missing.append("Container.key_ring_source")
    try:
        build_parser().parse_args(["keys", "list"])
    except SystemExit:
        missing.append("the `keyturn keys` command")
    return missing


def wait_for_key_count(port: int, count: int, timeout: float = 10) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        _, _, jwks = request(port, "GET", "/.well-known/jwks.json")
        if len(jwks["keys"]) == count or time.monotonic() > deadline:
            return jwks
        time.sleep(0.1)


def run_keyturn(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([KEYTURN, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(bool(missing_key_wiring()), reason=f"needs key wiring: {', '.join(missing_key_wiring())}")
def test_real_server_jwks_verifies_token(tmp_path, legacy_db):
    key_dir = tmp_path / "keys"
    env = clean_environment(
        APP_ENV="production",
        SESSION_SECRET="p" * 40,
        KEYTURN_COOKIE_SECURE="true",
        KEYTURN_DATABASE_URL=f"sqlite:///{legacy_db}",
        KEYTURN_KEY_DIR=str(key_dir),
        KEYTURN_KEY_RELOAD_SECONDS="30",
    )
    assert run_keyturn(["db", "upgrade"], tmp_path, env).returncode == 0
    generated = run_keyturn(["keys", "generate", "--alg", "EdDSA"], tmp_path, env)
    assert generated.returncode == 0, generated.stderr
    early = run_keyturn(["keys", "rotate"], tmp_path, env)
    assert early.returncode == 1
    assert "--force" in early.stderr
    rotated = run_keyturn(["keys", "rotate", "--force"], tmp_path, env)
    assert rotated.returncode == 0, rotated.stderr
    listed = run_keyturn(["keys", "list"], tmp_path, env)
    assert "active" in listed.stdout
    assert "PRIVATE" not in listed.stdout

    port, process = start_keyturn(env, tmp_path)
    try:
        status, cookies, _ = request(port, "POST", "/auth/login", {"login": "alice", "password": account("alice")["password"]})
        jwks_status, _, jwks = request(port, "GET", "/.well-known/jwks.json")
        result = run_verify_script(port, cookies["access_token"])

        # SIGHUP makes the server load a new pending key before the 30 s reload interval.
        assert run_keyturn(["keys", "generate", "--alg", "ES256"], tmp_path, env).returncode == 0
        process.send_signal(signal.SIGHUP)
        after_sighup = wait_for_key_count(port, 2)
        still_running = process.poll() is None
    finally:
        stop(process)

    assert status == 200
    assert jwks_status == 200
    assert [jwk["kid"] for jwk in jwks["keys"]] == [kid_of(cookies["access_token"])]
    assert all("d" not in jwk for jwk in jwks["keys"])
    assert jwt.get_unverified_header(cookies["access_token"])["alg"] == "EdDSA"
    assert result.returncode == 0, result.stderr
    assert sorted(jwk["alg"] for jwk in after_sighup["keys"]) == ["ES256", "EdDSA"]
    assert still_running
