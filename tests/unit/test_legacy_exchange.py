"""The legacy session exchange use case, with the Flask cookie reader and in-memory stores."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from itsdangerous import URLSafeTimedSerializer

from adapters.legacy_session import FlaskSessionReader
from adapters.memory import InMemoryOneTimeClaims
from application.audit import AuditTrail
from application.issuing import TokenIssuer
from application.legacy_exchange import ExchangeLegacySession, LegacyExchangeCommand
from domain.errors import (
    LegacySessionAccountUnavailable,
    LegacySessionAnonymous,
    LegacySessionExpired,
    LegacySessionInvalid,
    LegacySessionMissing,
    LegacySessionReused,
)
from domain.legacy import LegacySessionAge
from tests.conftest import LEGACY_FIXTURES
from tests.unit.harness import Harness, make_user

LEGACY = json.loads((LEGACY_FIXTURES / "legacy_session_cookies.json").read_text(encoding="utf-8"))
SECRET = LEGACY["session_secret"]
COOKIES = LEGACY["cookies"]


def flask_serializer(secret: str = SECRET) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        secret, salt="cookie-session", signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1}
    )


def signed_at(cookie: str):
    return flask_serializer().loads(cookie, return_timestamp=True)[1]


@pytest.fixture
def harness() -> Harness:
    harness = Harness()
    harness.users.add(make_user("1", "alice@example.com", "pw", username="alice"))
    harness.users.add(make_user("2147483653", "big@example.com", "pw"))
    harness.users.add(make_user("6", "frank@example.com", "pw", active=False))
    harness.clock.set(signed_at(COOKIES["valid_alice"]) + timedelta(minutes=1))
    return harness


def exchange_for(harness: Harness, *previous: str, secret: str = SECRET) -> ExchangeLegacySession:
    issuer = TokenIssuer(harness.policy, harness.codec, harness.refresh_store, harness.revocations)
    return ExchangeLegacySession(
        FlaskSessionReader(secret, previous),
        InMemoryOneTimeClaims(),
        harness.users,
        issuer,
        AuditTrail(harness.audit_sink, harness.clock),
        LegacySessionAge(),
        harness.clock,
        unit_of_work=harness.unit_of_work,
    )


async def test_valid_cookie_opens_session(harness):
    pair = await exchange_for(harness).execute(LegacyExchangeCommand(COOKIES["valid_alice"]))

    assert pair.access.subject == "1"
    assert pair.refresh is not None
    assert await harness.refresh_store.get_session(pair.access.session_id) is not None
    assert "legacy_session_exchanged" in harness.event_types()


async def test_each_cookie_is_exchanged_once(harness):
    exchange = exchange_for(harness)
    await exchange.execute(LegacyExchangeCommand(COOKIES["valid_alice"]))

    with pytest.raises(LegacySessionReused):
        await exchange.execute(LegacyExchangeCommand(COOKIES["valid_alice"]))


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("inactive_frank", LegacySessionAccountUnavailable),
        ("unknown_user", LegacySessionAccountUnavailable),
        ("wrong_secret", LegacySessionInvalid),
        ("tampered", LegacySessionInvalid),
        ("older_than_31_days", LegacySessionExpired),
    ],
)
async def test_rejected_fixture_cookies(harness, name, error):
    with pytest.raises(error):
        await exchange_for(harness).execute(LegacyExchangeCommand(COOKIES[name]))


async def test_rejection_keeps_cookie_usable(harness):
    exchange = exchange_for(harness)
    harness.users.add(make_user("6", "frank@example.com", "pw", active=False))
    with pytest.raises(LegacySessionAccountUnavailable):
        await exchange.execute(LegacyExchangeCommand(COOKIES["inactive_frank"]))
    harness.users.add(make_user("6", "frank@example.com", "pw", active=True))

    pair = await exchange.execute(LegacyExchangeCommand(COOKIES["inactive_frank"]))

    assert pair.access.subject == "6"


async def test_previous_secret_verifies(harness):
    exchange = exchange_for(harness, SECRET, secret="the-secret-after-rotation-0123456789abcdef")

    assert (await exchange.execute(LegacyExchangeCommand(COOKIES["valid_alice"]))).access.subject == "1"


async def test_max_age_boundary(harness):
    issued = signed_at(COOKIES["valid_alice"])
    harness.clock.set(issued + timedelta(days=31))
    assert (await exchange_for(harness).execute(LegacyExchangeCommand(COOKIES["valid_alice"]))).access.subject == "1"

    harness.clock.set(issued + timedelta(days=31, seconds=1))
    with pytest.raises(LegacySessionExpired):
        await exchange_for(harness).execute(LegacyExchangeCommand(COOKIES["valid_big_id_user"]))


async def test_cookie_from_the_future_is_invalid(harness):
    harness.clock.set(signed_at(COOKIES["valid_alice"]) - timedelta(minutes=5))

    with pytest.raises(LegacySessionInvalid):
        await exchange_for(harness).execute(LegacyExchangeCommand(COOKIES["valid_alice"]))


async def test_missing_and_anonymous_cookies(harness):
    anonymous = flask_serializer().dumps({"cart": ["sku-1"]})
    harness.clock.set(signed_at(anonymous))

    with pytest.raises(LegacySessionMissing):
        await exchange_for(harness).execute(LegacyExchangeCommand(None))
    with pytest.raises(LegacySessionAnonymous):
        await exchange_for(harness).execute(LegacyExchangeCommand(anonymous))


@pytest.mark.parametrize("payload", [{"_user_id": 1}, {"_user_id": "1"}])
def test_reader_uncompressed_and_integer_ids(payload):
    cookie = flask_serializer().dumps(payload)
    assert not cookie.startswith(".")

    assert FlaskSessionReader(SECRET).read(cookie).user_id == "1"


@pytest.mark.parametrize("payload", [["not", "a", "dict"], {"_user_id": True}, {"_user_id": ""}, {"_user_id": None}])
def test_reader_handles_odd_payloads(payload):
    cookie = flask_serializer().dumps(payload)

    try:
        session = FlaskSessionReader(SECRET).read(cookie)
    except LegacySessionInvalid:
        return
    assert session.user_id is None


def test_reader_repr_hides_cookie():
    session = FlaskSessionReader(SECRET).read(COOKIES["valid_alice"])

    assert COOKIES["valid_alice"] not in repr(session)
    assert session.claim_key not in repr(session)
