"""Who is an admin: ``[admins]`` in arcade.toml, checked on the server for every admin request."""

from litestar.connection import ASGIConnection
from litestar.exceptions import PermissionDeniedException
from litestar.handlers import BaseRouteHandler

from arcade.platform.config import AdminSettings
from arcade.sdk.identity import WebUser
from arcade.sdk.models import player_id


def is_admin(admins: AdminSettings, user: WebUser) -> bool:
    """A built-in account named in ``accounts``, a player in ``players``, or an external provider's
    ID token whose ``claim`` is (or holds) ``claim_value``."""
    if user.account is not None and user.account.casefold() in {name.casefold() for name in admins.accounts}:
        return True
    if player_id(user.principal.issuer, user.principal.subject) in admins.players:
        return True
    if admins.claim is None or admins.claim_value is None:
        return False
    value = user.principal.claims.get(admins.claim)
    return value == admins.claim_value or (isinstance(value, list) and admins.claim_value in value)


def actor(user: WebUser) -> str:
    """How the audit log names an admin: their name, and the account or player id it belongs to."""
    return f"{user.name} ({user.account or player_id(user.principal.issuer, user.principal.subject)})"


async def admins_only(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Guard after ``signed_in``: a signed-in person who is not an admin is refused, saying so."""
    user: WebUser = connection.scope["web_user"]
    if not is_admin(connection.app.state.arcade.settings.admins, user):
        raise PermissionDeniedException(
            f"you are signed in as {user.name}, who is not an admin of this arcade; the organisers name "
            "the admins in arcade.toml ([admins])"
        )
