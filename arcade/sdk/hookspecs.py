"""The plugin contracts of Badge Arcade: every hook a plugin may implement.

This module is the one place hooks are declared. Each hook's docstring is its
documentation (``arcade plugins`` and the docs are built from it) and a test
checks that every hook here is documented and exercised.

A plugin is any module or object registered under the entry-point group
``arcade``; it implements hooks by defining functions of these names decorated
with :data:`hookimpl`.
"""

import pluggy

hookspec = pluggy.HookspecMarker("arcade")
hookimpl = pluggy.HookimplMarker("arcade")


@hookspec
def arcade_register_games(register):
    """Register the games this plugin provides.

    Call ``register(game)`` once per game, with a :class:`arcade.games.GameInfo`.
    The game's ``info.id`` must be unique across all plugins; a duplicate stops
    start-up with an error naming both plugins.
    """


@hookspec(firstresult=True)
def arcade_identity_provider(name, settings, context):
    """Return the identity provider called ``name``, or ``None`` if it is not yours.

    ``settings`` is the raw table ``[identity.<name>]`` from the configuration;
    decode it into your own typed settings with :func:`arcade.config.decode`, so
    a wrong key names its place in the file. ``context`` is the
    :class:`arcade.plugins.Context` (data folder, public URL, the store).
    The object returned follows :class:`arcade.identity.IdentityProvider`.
    The module declares the name it answers to as ``NAME``, so a name no plugin
    answers to is refused with the list of those installed.
    """


@hookspec(firstresult=True)
def arcade_store(name, settings, context):
    """Return the store called ``name``, or ``None`` if it is not yours.

    ``settings`` is the raw table ``[store.<name>]``; ``context`` is the
    :class:`arcade.plugins.Context` without a store. The object returned
    follows :class:`arcade.store.Store`; the module declares its name as ``NAME``.
    """


@hookspec
def arcade_routes(context):
    """Return a list of extra Litestar route handlers, controllers or routers.

    The identity provider's own pages (discovery, JWKS, device verification)
    arrive through this hook. Called once when the application is built.
    """


@hookspec
def arcade_score_accepted(game, record):
    """React to a score that is now durably stored (live pages, webhooks).

    ``game`` is the :class:`arcade.games.GameInfo`, ``record`` the
    :class:`arcade.models.ScoreAccepted` answered to the badge. Called on the
    server's event loop: do not block; hand slow work to a task.
    """
