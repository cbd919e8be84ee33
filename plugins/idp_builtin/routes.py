"""The built-in provider's public endpoints: OpenID discovery and the JWKS."""

from arcade.plugins.idp_builtin.oauth import DEVICE_CODE_GRANT, REFRESH_TOKEN_GRANT
from arcade.plugins.idp_builtin.provider import ALGORITHM, BuiltinProvider
from litestar import Controller, get
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency


class Discovery(Controller):
    """What relying parties discover (OpenID Connect Discovery 1.0, RFC 8414)."""

    path = "/.well-known"
    tags = ["identity"]

    @get("/openid-configuration", cache_control=CacheControlHeader(max_age=60))
    async def openid_configuration(self, provider: NamedDependency[BuiltinProvider]) -> dict:
        settings = provider.device_settings()
        return {
            "issuer": provider.issuer,
            "jwks_uri": f"{provider.issuer}/.well-known/jwks.json",
            "device_authorization_endpoint": settings.device_authorization_endpoint,
            "token_endpoint": settings.token_endpoint,
            "revocation_endpoint": settings.revocation_endpoint,
            "userinfo_endpoint": f"{provider.issuer}/oauth/userinfo",
            "grant_types_supported": [DEVICE_CODE_GRANT, REFRESH_TOKEN_GRANT],
            "response_types_supported": ["none"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [ALGORITHM],
            "token_endpoint_auth_methods_supported": ["none"],
            "revocation_endpoint_auth_methods_supported": ["none"],
            "scopes_supported": settings.scope.split(),
            "claims_supported": ["sub", "name", "preferred_username", "picture", "auth_time", "sid"],
        }

    @get("/jwks.json", cache_control=CacheControlHeader(max_age=60))
    async def jwks(self, provider: NamedDependency[BuiltinProvider]) -> dict:
        return provider.public_keys()
