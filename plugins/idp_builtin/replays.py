"""An answer kept for a badge whose radio (or a server stop) lost it: encrypted under a key only
the secret it presented gives, so that the store never holds a usable token.

A used refresh token and a used device code, presented again within the grace window, get the
very same answer back: the badge's retry after a network error logs it in, and no new tokens are
made for whoever presents the secret.
"""

import hashlib
import json

from arcade.plugins.idp_builtin.errors import OAuthError
from joserfc import jwe
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

_ENCRYPTION = {"alg": "dir", "enc": "A256GCM"}


def lock(answer: dict, secret: str) -> str:
    return jwe.encrypt_compact(_ENCRYPTION, json.dumps(answer).encode(), _key(secret))


def unlock(replay: str | None, secret: str, unknown: str) -> dict:
    """The kept answer; an ``invalid_grant`` saying ``unknown`` if there is none for this secret."""
    try:
        return json.loads(jwe.decrypt_compact(replay or "", _key(secret)).plaintext)
    except (JoseError, ValueError):
        raise OAuthError("invalid_grant", unknown) from None


def _key(secret: str) -> OctKey:
    return OctKey.import_key(hashlib.sha256(f"replay\0{secret}".encode()).digest())
