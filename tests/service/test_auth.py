"""API keys: created by the CLI, shown once, stored hashed, required, revocable, never logged."""

from __future__ import annotations

import hashlib
import sqlite3

import httpx
import pytest

from api.service.auth import Principal, find_key, hash_key, new_secret
from api.service.ratelimit import RateLimiter
from tests.service.conftest import Service, run_vicx

pytestmark = pytest.mark.slow


def test_a_key_is_stored_as_its_sha256_only(service: Service) -> None:
    secret = service.create_key("crm-sync")
    assert secret.startswith("vicx_") and len(secret) > 40
    with sqlite3.connect(service.data_dir / "vicx.db") as db:
        rows = db.execute("SELECT name, prefix, key_hash FROM api_keys").fetchall()
        dump = "\n".join(db.iterdump())
    assert ("crm-sync", secret[:12], hashlib.sha256(secret.encode()).hexdigest()) in rows
    assert secret not in dump


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "needs an API key"),
        ({"Authorization": "Basic dXNlcjpwdw=="}, "Bearer"),
        ({"Authorization": "Bearer"}, "Bearer"),
        ({"Authorization": "Bearer vicx_not-a-real-key-0000000000000000000000"}, "Unknown"),
        ({"Authorization": "Bearer short"}, "Unknown"),
    ],
)
def test_requests_without_a_valid_key_are_e401(
    service: Service, headers: dict[str, str], message: str
) -> None:
    response = httpx.post(f"{service.base_url}/v1/analyze", json={"text": "ok"}, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    error = response.json()["error"]
    assert error["code"] == "E401_unauthorized"
    assert message in error["message"]


def test_a_revoked_key_is_refused(service: Service) -> None:
    secret = service.create_key("leaving")
    listed = run_vicx(service.env, "keys", "list")
    key_id = next(
        line.split("\t")[0] for line in listed.stdout.splitlines() if "\tleaving\t" in line
    )
    assert secret not in listed.stdout  # list shows prefixes, never keys
    revoked = run_vicx(service.env, "keys", "revoke", key_id)
    assert revoked.returncode == 0, revoked.stderr
    with service.client(secret) as http:
        assert http.post("/v1/analyze", json={"text": "ok"}).status_code == 401
    assert run_vicx(service.env, "keys", "revoke", "999999").returncode == 2


def test_keys_never_reach_the_log(service: Service) -> None:
    wrong = new_secret()
    with service.client() as http, service.client(wrong) as intruder:
        http.post("/v1/analyze", json={"text": "ok"})
        intruder.post("/v1/analyze", json={"text": "ok"})
    log = service.log()
    assert service.api_key is not None
    assert service.api_key not in log
    assert wrong not in log


def test_find_key_matches_only_the_exact_secret(service: Service) -> None:
    from api.service.db import make_engine, make_sessionmaker

    secret = service.create_key("exact")
    engine = make_engine(f"sqlite:///{service.data_dir / 'vicx.db'}")
    try:
        with make_sessionmaker(engine)() as session:
            found = find_key(session, secret)
            assert found is not None and found.name == "exact"
            assert find_key(session, secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None
            assert find_key(session, "") is None
    finally:
        engine.dispose()
    assert hash_key(secret) == hashlib.sha256(secret.encode()).hexdigest()


def test_rate_limiter_allows_a_burst_then_says_how_long_to_wait() -> None:
    limiter = RateLimiter(per_minute=2)
    key = Principal(1, "a").key_id
    assert limiter.acquire(key) is None
    assert limiter.acquire(key) is None
    wait = limiter.acquire(key)
    assert wait is not None and 0 < wait <= 30
    assert RateLimiter(per_minute=0).acquire(key) is None
