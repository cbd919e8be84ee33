"""The application factory: one Litestar app around an assembled :class:`Arcade`.

Wiring only: the routes (the app's controllers and the plugins' ``arcade_routes``), the
dependencies handlers ask for (:mod:`arcade.server.wiring`), the map from errors to answers
(:mod:`arcade.server.errors`), the store opened and closed by the lifespan, and the API reference.
"""

from functools import partial
from pathlib import Path

from litestar import Litestar
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

from arcade.badge.catalog import Catalog
from arcade.badge.signing import BadgeKeys
from arcade.platform.assembly import Arcade
from arcade.scoring.replay import Replays
from arcade.sdk.store import FollowsScores, Store
from arcade.server import errors, wiring
from arcade.server.access_log import AccessLog
from arcade.server.account import account_router
from arcade.server.admin.readjudication import Readjudications
from arcade.server.admin.routes import admin_router
from arcade.server.api import ApiController
from arcade.server.board_view import BoardView
from arcade.server.boards import BoardsController
from arcade.server.live import LiveScores
from arcade.server.pages import PagesController
from arcade.server.pictures import Pictures
from arcade.server.schema_page import ApiReference
from arcade.server.security_headers import security_headers
from arcade.server.ticker import Ticker

HERE = Path(__file__).parent


def template_folders(manager) -> list[Path]:
    """The app's templates, then the ``templates`` folder beside each plugin module serving routes,
    so a plugin's pages extend ``base.html`` and look like the rest of the arcade."""
    folders = [HERE / "templates"]
    for impl in manager.hook.arcade_routes.get_hookimpls():
        module_file = getattr(impl.plugin, "__file__", None)
        if module_file and (Path(module_file).parent / "templates").is_dir():
            folders.append(Path(module_file).parent / "templates")
    return folders


async def follow_scores(store: Store, live: LiveScores) -> None:
    """With a store shared by several processes, the live pages show the scores the others take too."""
    if isinstance(store, FollowsScores):
        await store.follow_scores(live.publish)


def create_app(arcade: Arcade) -> Litestar:
    """The app serving ``arcade``; its lifespan opens the store and closes it after the last request."""
    limits = arcade.settings.server
    pictures = Pictures(arcade.store, arcade.settings.pictures, arcade.settings.public_url)
    view = BoardView(pictures, arcade.settings.event.zone)
    ticker = Ticker(arcade.store)

    async def describe(record):
        game = arcade.games.get(record.game)
        players = (await arcade.store.leaderboard(game, 1)).players if game is not None else 0
        return await view.event(record, players)

    live = LiveScores(limits.live_pages_per_address, describe=describe, remember=ticker.remember)
    arcade.manager.register(live, name="live-pages")
    replays = Replays(limits.replay_workers, limits.replays_waiting, limits.replays_per_player)
    readjudications = Readjudications()
    catalog = Catalog(arcade.ordered_games(), arcade.context.data_dir, BadgeKeys(arcade.context.data_dir, arcade.store))

    app = Litestar(
        route_handlers=[
            ApiController,
            BoardsController,
            PagesController,
            create_static_files_router(
                path="/static", directories=[HERE / "static"], include_in_schema=False, guards=[wiring.plain_path]
            ),
            *arcade.routes,
            admin_router(arcade.settings.public_url),
            account_router(arcade.settings.public_url),
        ],
        dependencies=wiring.dependencies(
            arcade,
            live,
            replays,
            catalog=catalog,
            pictures=pictures,
            view=view,
            ticker=ticker,
            readjudications=readjudications,
        ),
        exception_handlers=errors.HANDLERS,
        before_send=[security_headers(https=arcade.settings.public_url.startswith("https://"))],
        on_startup=[arcade.start, pictures.start, partial(follow_scores, arcade.store, live)],
        on_shutdown=[readjudications.close, pictures.close, arcade.stop, replays.close],
        logging_config=None,  # the command that serves sets up logging; errors are logged by errors.py
        template_config=TemplateConfig(
            directory=template_folders(arcade.manager),
            engine=JinjaTemplateEngine,
            engine_callback=lambda engine: engine.engine.filters.update(local=view.when),
        ),
        openapi_config=OpenAPIConfig(
            title="Badge Arcade",
            version="1",
            description=(
                "Each operation lists every status it answers. Before any operation, a request whose head "
                "(request line and headers) is over 32 KiB is answered 431, as plain text."
            ),
            path="/schema",
            render_plugins=[ApiReference(), JsonRenderPlugin()],
            components=Components(
                security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")}
            ),
        ),
    )
    app.asgi_handler = AccessLog(app.asgi_handler)  # around Litestar's router, so 404s are logged too
    app.state.arcade = arcade
    app.state.live = live
    return app
