"""The contract of an identity-provider plugin, and the values it exchanges."""

from typing import Any, Protocol

import msgspec

from arcade.sdk.errors import ArcadeError


class InvalidToken(ArcadeError):
    """The bearer token is missing, malformed, expired or not for this arcade.

    The message is safe to show to the client (it goes into ``WWW-Authenticate``).
    """


class ProviderUnavailable(ArcadeError):
    """The identity provider could not be reached to check a token (its keys could not be fetched).

    The token may well be good: the client should keep what it sent and retry later. The message is
    safe to show to the client.
    """


class DeviceSettings(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What a badge needs to run the RFC 8628 device flow against the provider."""

    issuer: str
    device_authorization_endpoint: str
    token_endpoint: str
    client_id: str
    scope: str
    audience: str | None = None
    revocation_endpoint: str | None = None


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """Who a verified access token speaks for. Players are keyed by (issuer, subject)."""

    issuer: str
    """The name players are keyed under: the token's ``iss``, or a stable name when that follows an
    address that can change (the built-in provider's); a change splits every player in two."""
    subject: str
    scope: str = ""
    claims: dict[str, Any] = {}


class Profile(msgspec.Struct, frozen=True, kw_only=True):
    """How a player is shown on the leaderboard."""

    name: str
    picture: str | None = None


class IdentityProvider(Protocol):
    """An identity-provider plugin object, returned by ``arcade_identity_provider``."""

    name: str
    issuer: str
    score_scope: str | None
    """The scope an access token must carry to post scores; None accepts any token for the arcade."""

    def device_settings(self) -> DeviceSettings:
        """The settings a badge uses to log in; sent in ``GET /api/v1/badge``."""

    async def verify(self, token: str) -> Principal:
        """Verify an access token strictly, or raise :class:`InvalidToken` saying why."""

    async def profile(self, principal: Principal, token: str) -> Profile:
        """The player's display name and picture (cached per player by the provider)."""
