"""Bearer-token authentication for the badge API (RFC 6750), by the active identity provider."""

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from arcade.identity import InvalidToken

REALM = "arcade"


class BearerAuthentication(AbstractAuthenticationMiddleware):
    """Sets ``request.user`` to the token's :class:`Principal` and ``request.auth`` to the token."""

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthorizedException(
                detail="this request needs 'Authorization: Bearer <access token>'; log in on the badge first",
                headers={"WWW-Authenticate": f'Bearer realm="{REALM}"'},
            )
        token = token.strip()
        try:
            principal = await connection.app.state.arcade.identity.verify(token)
        except InvalidToken as error:
            description = str(error).replace('"', "'")
            raise NotAuthorizedException(
                detail=f"invalid access token: {error}",
                headers={
                    "WWW-Authenticate": f'Bearer realm="{REALM}", error="invalid_token", '
                    f'error_description="{description}"'
                },
            ) from None
        return AuthenticationResult(user=principal, auth=token)
