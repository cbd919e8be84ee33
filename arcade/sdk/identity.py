"""The contract of an identity-provider plugin, and the values it exchanges."""

from typing import Any, Protocol, runtime_checkable

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
    known: bool = True
    """False when the provider could not say (the name is the subject): a name already stored stays."""


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

    async def profile(self, principal: Principal, token: str, id_token: str | None = None) -> Profile:
        """The player's display name and picture (cached per player by the provider). ``id_token`` is
        the OpenID Connect ID token the badge sent with the score (header ``Arcade-ID-Token``), if
        any: a provider may take the name from it once it verified it was issued to the badges."""


# -- signing in on the arcade's own pages (admins, a player's own data) ---------------------------


class WebUser(msgspec.Struct, frozen=True, kw_only=True):
    """Who is signed in on the arcade's web pages, through the active provider."""

    principal: Principal
    """As a badge's token of the same person would say: the player is ``player_id(issuer, subject)``;
    ``claims`` are the provider's (an ID token's, for an external one)."""
    name: str
    account: str | None = None
    """The provider's own account name (the built-in provider's username), for ``[admins] accounts``."""


@runtime_checkable
class SignsInOnTheWeb(Protocol):
    """What a provider offers for the arcade's web pages: a real sign-in with a server-side session,
    and the CSRF token that session gives the pages' forms. The admin pages and a player's own
    account page are built on it, whichever provider is active."""

    def sign_in_url(self, then: str) -> str:
        """Where a signed-out visitor goes to sign in; afterwards they come back to ``then`` (a path)."""

    def sign_out_url(self) -> str:
        """Where the pages' Sign out form posts, with the session's CSRF token; it ends the session."""

    async def web_user(self, connection: Any) -> WebUser | None:
        """Who this browser's session is of, or None."""

    async def form_token(self, connection: Any) -> tuple[str, Any]:
        """The CSRF token for the forms of a page and a cookie to set with it (a Litestar ``Cookie``), or None."""

    async def form_token_matches(self, connection: Any, token: str) -> bool:
        """Whether a posted form's ``token`` is this browser's, as :meth:`form_token` gave it."""

    async def rename(self, user: WebUser, name: str) -> None:
        """The person chose a new display name (cleaned) on their account page: a provider that keeps
        names (the built-in one) keeps this one; an external provider keeps its own and does nothing."""

    async def forget(self, connection: Any, user: WebUser) -> list[Any]:
        """The person deleted their account: remove what the provider keeps of them, end their
        session and every login of their badges; answer the cookies that clear the browser's."""
