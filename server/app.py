"""The application factory: one Litestar app around an assembled :class:`Arcade`."""

from pathlib import Path

from arcade.server.access_log import AccessLog
from arcade.server.api import ApiController
from arcade.server.live import LiveScores
from arcade.server.pages import PagesController
from litestar import Litestar, MediaType, Request, Response
from litestar.di import Provide
from litestar.exceptions import ValidationException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

from arcade.platform.assembly import Arcade

HERE = Path(__file__).parent


def unprocessable(request: Request, error: ValidationException) -> Response:
    """Malformed input is a 422 that names the field and says why (Litestar's default is 400)."""
    content = {"status_code": 422, "detail": error.detail}
    if error.extra:
        content["extra"] = error.extra
        if error.detail.startswith("Validation failed"):  # Litestar's generic text: say which field
            content["detail"] = "; ".join(f"{item.get('key')}: {item.get('message')}" for item in error.extra)
    return Response(content, status_code=422, media_type=MediaType.JSON)


def template_folders(manager) -> list[Path]:
    """The app's templates, then the ``templates`` folder beside each plugin module serving routes,
    so a plugin's pages extend ``base.html`` and look like the rest of the arcade."""
    folders = [HERE / "templates"]
    for impl in manager.hook.arcade_routes.get_hookimpls():
        module_file = getattr(impl.plugin, "__file__", None)
        if module_file and (Path(module_file).parent / "templates").is_dir():
            folders.append(Path(module_file).parent / "templates")
    return folders


def create_app(arcade: Arcade) -> Litestar:
    """The app serving ``arcade``; its lifespan opens the store and closes it after the last request."""
    live = LiveScores()
    arcade.manager.register(live, name="live-pages")
    extra_routes = [route for routes in arcade.manager.hook.arcade_routes(context=arcade.context) for route in routes]

    app = Litestar(
        route_handlers=[
            ApiController,
            PagesController,
            create_static_files_router(path="/static", directories=[HERE / "static"], include_in_schema=False),
            *extra_routes,
        ],
        dependencies={
            "arcade": Provide(lambda: arcade, use_cache=True, sync_to_thread=False),
            "live": Provide(lambda: live, use_cache=True, sync_to_thread=False),
        },
        exception_handlers={ValidationException: unprocessable},
        on_startup=[arcade.start],
        on_shutdown=[arcade.stop],
        template_config=TemplateConfig(directory=template_folders(arcade.manager), engine=JinjaTemplateEngine),
        openapi_config=OpenAPIConfig(
            title="Badge Arcade",
            version="1",
            path="/schema",
            components=Components(
                security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")}
            ),
        ),
    )
    app.asgi_handler = AccessLog(app.asgi_handler)  # around Litestar's router, so 404s are logged too
    app.state.arcade = arcade
    app.state.live = live
    return app
