"""The built-in identity provider: works offline, so it is the default at an event."""

from arcade.plugins.idp_builtin import keys
from arcade.plugins.idp_builtin.oauth import oauth_controller
from arcade.plugins.idp_builtin.pages import device_pages
from arcade.plugins.idp_builtin.provider import BuiltinProvider, BuiltinSettings
from arcade.plugins.idp_builtin.routes import discovery_controller

from arcade.sdk.hookspecs import hookimpl

NAME = "builtin"


@hookimpl
def arcade_identity_provider(name, settings, context):
    if name != NAME:
        return None
    options = settings.decode(BuiltinSettings)
    return BuiltinProvider(context.public_url, keys.load_or_create(context.data_dir), options, context.store)


@hookimpl
def arcade_routes(context):
    provider = context.identity
    if isinstance(provider, BuiltinProvider):
        return [discovery_controller(provider), oauth_controller(provider), device_pages(provider)]
    return []
