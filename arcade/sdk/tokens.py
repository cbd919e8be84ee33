"""Strict verification of JWT access tokens, shared by every identity provider.

Strict means: only the provider's allowed algorithms (never ``none``, never a
symmetric algorithm against a public key), the exact issuer, the audience,
``exp`` required and ``nbf`` honoured with a small leeway, and the ``typ``
header the provider's policy asks for (``at+jwt`` per RFC 9068).
"""

import time

from joserfc import jws, jwt
from joserfc.errors import ExpiredTokenError, JoseError
from joserfc.jwk import KeySet

from arcade.sdk.identity import InvalidToken


def verify(
    token: str,
    keys: KeySet,
    *,
    issuer: str,
    audience: str,
    algorithms: list[str],
    typ: str | None,
    leeway: int = 30,
    other_issuer: str = "it comes from another identity provider",
) -> dict:
    """The token's claims if it passes every check; :class:`InvalidToken` saying which failed.

    ``other_issuer`` is the likely cause of a wrong ``iss``, told to whoever holds the token.
    """
    try:
        decoded = jwt.decode(token, keys, algorithms=algorithms)
    except JoseError as error:
        reason = f"{error.error}: {error.description}" if error.description else error.error
        raise InvalidToken(f"the token could not be verified ({reason})") from None
    except ValueError:
        raise InvalidToken("the token is not a signed JWT") from None
    except TypeError:  # joserfc reads a "crit" header that is not a list of names this way
        raise InvalidToken("the token could not be verified (its header is malformed)") from None
    if typ is not None and str(decoded.header.get("typ", "")).lower() not in {typ, f"application/{typ}"}:
        raise InvalidToken(f"the token's typ must be {typ!r}, got {decoded.header.get('typ')!r}")
    if decoded.claims.get("iss") != issuer:
        raise InvalidToken(
            f"the token was issued by {decoded.claims.get('iss')!r} but this arcade expects {issuer!r}: {other_issuer}"
        )
    registry = jwt.JWTClaimsRegistry(
        now=lambda: int(time.time()),
        leeway=leeway,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": audience},
        exp={"essential": True},
        sub={"essential": True},
    )
    try:
        registry.validate(decoded.claims)
    except ExpiredTokenError:
        raise InvalidToken("the token has expired; refresh it or log in again") from None
    except JoseError as error:
        raise InvalidToken(f"the token was rejected: {error.description or error.error}") from None
    return decoded.claims


def key_id(token: str) -> str | None:
    """The ``kid`` the token says it is signed with; None if it names none or is no JWS at all
    (verification then says what is wrong with it)."""
    try:
        kid = jws.extract_compact(token.encode()).protected.get("kid")
    except (JoseError, ValueError, UnicodeError):
        return None
    return kid if isinstance(kid, str) else None
