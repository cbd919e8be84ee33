"""The built-in identity provider: it signs the arcade's own tokens and verifies them."""

import secrets
import time

import msgspec
from joserfc import jwt
from joserfc.jwk import KeySet

from arcade import access_tokens
from arcade.identity import DeviceSettings, Principal, Profile

ALGORITHM = "ES256"
SCORES_SCOPE = "scores:write"


class BuiltinSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    client_id: str = "badge"
    """The client id badges use; the only client this provider knows."""
    audience: str | None = None
    """The ``aud`` of access tokens; defaults to ``<public_url>/api``."""
    access_token_ttl: int = 3600
    leeway: int = 30
    """Seconds of clock difference tolerated on ``exp`` and ``nbf``."""


class BuiltinProvider:
    name = "builtin"

    def __init__(self, issuer: str, keys: KeySet, settings: BuiltinSettings):
        self.issuer = issuer
        self.keys = keys
        self.settings = settings
        self.audience = settings.audience or f"{issuer}/api"

    def device_settings(self) -> DeviceSettings:
        return DeviceSettings(
            issuer=self.issuer,
            device_authorization_endpoint=f"{self.issuer}/oauth/device_authorization",
            token_endpoint=f"{self.issuer}/oauth/token",
            revocation_endpoint=f"{self.issuer}/oauth/revoke",
            client_id=self.settings.client_id,
            scope=f"openid profile offline_access {SCORES_SCOPE}",
            audience=self.audience,
        )

    def public_keys(self) -> dict:
        return self.keys.as_dict(private=False)

    def issue_access_token(self, subject: str, name: str, picture: str | None = None) -> str:
        """A signed RFC 9068 access token for ``subject``, carrying the name shown on leaderboards."""
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "aud": self.audience,
            "iat": now,
            "nbf": now,
            "exp": now + self.settings.access_token_ttl,
            "jti": secrets.token_urlsafe(16),
            "client_id": self.settings.client_id,
            "scope": SCORES_SCOPE,
            "name": name,
        }
        if picture:
            claims["picture"] = picture
        signing_key = self.keys.keys[0]
        header = {"alg": ALGORITHM, "typ": "at+jwt", "kid": signing_key.kid}
        return jwt.encode(header, claims, signing_key)

    async def verify(self, token: str) -> Principal:
        claims = access_tokens.verify(
            token,
            self.keys,
            issuer=self.issuer,
            audience=self.audience,
            algorithms=[ALGORITHM],
            typ="at+jwt",
            leeway=self.settings.leeway,
        )
        return Principal(issuer=self.issuer, subject=claims["sub"], scope=claims.get("scope", ""), claims=claims)

    async def profile(self, principal: Principal, token: str) -> Profile:
        claims = principal.claims
        return Profile(name=str(claims.get("name") or principal.subject), picture=claims.get("picture"))
