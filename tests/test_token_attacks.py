"""Forged, stale and misdirected tokens: each is refused with a 401 that names the check it failed.

In-process (Litestar's test client) with tokens made here, since the subject is the verifier;
the real-process device flow tests cover the tokens badges really get.
"""

import base64
import hashlib
import hmac
import json
import time

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from arcade.plugins.idp_builtin import accounts
from arcade.plugins.idp_builtin.logins import Login

RUN = {"score": 34, "run": {"seed": 1, "inputs": [], "ticks": 109}, "submission_id": "attack-0001"}
"""A dino that never jumps meets the first cactus at tick 109 with 34 points."""


def post(app, token: str):
    return app.client.post("/api/v1/games/dino/scores", json=RUN, headers={"authorization": f"Bearer {token}"})


def refused(app, token: str) -> str:
    """The error description of the 401, which must say why."""
    response = post(app, token)
    assert response.status_code == 401, response.text
    challenge = response.headers["www-authenticate"]
    assert 'error="invalid_token"' in challenge
    return challenge


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims_for(app, **changes) -> dict:
    now = int(time.time())
    provider = app.arcade.identity
    claims = {
        "iss": provider.issuer,
        "sub": "mallory",
        "aud": provider.audience,
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "scope": "scores:write",
        "client_id": "badge",
        "name": "mallory",
    }
    return {**claims, **changes}


def signed(app, claims: dict, typ: str = "at+jwt", key=None) -> str:
    key = key or app.arcade.identity.keys.current.signing
    return jwt.encode({"alg": "ES256", "typ": typ, "kid": key.kid}, claims, key)


def stranger() -> ECKey:
    key = ECKey.generate_key("P-256", parameters={"alg": "ES256", "kid": "stranger"}, private=True)
    return key


def test_the_honest_token_passes(app):
    assert post(app, signed(app, claims_for(app))).status_code == 201


def test_alg_none_is_refused(app):
    header = b64(json.dumps({"alg": "none", "typ": "at+jwt"}).encode())
    token = f"{header}.{b64(json.dumps(claims_for(app)).encode())}."
    assert "could not be verified" in refused(app, token)


def test_hs256_signed_with_the_public_key_is_refused(app):
    public = json.dumps(app.arcade.identity.public_keys()["keys"][0]).encode()
    head = b64(json.dumps({"alg": "HS256", "typ": "at+jwt", "kid": app.arcade.identity.keys.current.signing.kid}).encode())
    body = b64(json.dumps(claims_for(app)).encode())
    signature = b64(hmac.new(public, f"{head}.{body}".encode(), hashlib.sha256).digest())
    assert "could not be verified" in refused(app, f"{head}.{body}.{signature}")


@pytest.mark.parametrize(
    "change, named",
    [
        ({"iss": "http://evil.test"}, "iss"),
        ({"aud": "http://evil.test/api"}, "aud"),
        ({"exp": int(time.time()) - 3600}, "expired"),
        ({"nbf": int(time.time()) + 3600}, "not yet valid"),
    ],
    ids=["wrong-iss", "wrong-aud", "expired", "not-yet-valid"],
)
def test_a_claim_that_does_not_fit_is_named(app, change, named):
    assert named in refused(app, signed(app, claims_for(app, **change)))


def test_a_tampered_payload_breaks_the_signature(app):
    head, _, signature = signed(app, claims_for(app)).split(".")
    forged = b64(json.dumps(claims_for(app, sub="admin")).encode())
    assert "could not be verified" in refused(app, f"{head}.{forged}.{signature}")


def test_an_unknown_key_id_is_refused(app):
    assert "could not be verified" in refused(app, signed(app, claims_for(app), key=stranger()))


def test_an_id_token_is_not_an_access_token(app):
    id_token = signed(app, claims_for(app, aud="badge"), typ="JWT")
    assert "typ" in refused(app, id_token)


def test_another_providers_token_is_refused(app):
    other = stranger()
    token = signed(app, claims_for(app, iss="https://other.test", aud="https://other.test/api"), key=other)
    assert "could not be verified" in refused(app, token)


def test_a_revoked_logins_token_is_refused(app):
    provider = app.arcade.identity
    client = app.client

    async def log_in() -> dict:
        account = await accounts.sign_up(provider.store, "rita", "Rita", "correct horse battery")
        login = Login(account=account.username, client_id="badge", scope="scores:write offline_access", auth_time=0)
        return await provider.logins.start(login, provider.token_response, True)

    answer = client.blocking_portal.call(log_in)
    assert post(app, answer["access_token"]).status_code in (201, 200)
    revoked = client.post("/oauth/revoke", data={"token": answer["refresh_token"], "client_id": "badge"})
    assert revoked.status_code == 200
    assert "revoked" in refused(app, answer["access_token"])
