"""Plugins start with the server and stop with it, each with its own settings, and a plugin that
fails while hearing of a score fails alone: a real `arcade serve` with third-party plugins."""

from tests.conftest import run_arcade
from tests.distributions import make_plugin
from tests.waiting import logged

LAMP = """
    import msgspec

    from arcade.sdk.game import GameInfo
    from arcade.sdk.hookspecs import hookimpl

    BALLOON = GameInfo(id="balloon", title="Balloon", version="1", package="balloon")


    class LampSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
        colour: str = "white"


    def note(line):
        with open("lifecycle.txt", "a") as log:
            log.write(line + "\\n")


    @hookimpl
    async def arcade_startup(settings, context):
        lamp = settings.decode(LampSettings)
        page = await context.store.leaderboard(BALLOON, 10)
        note(f"lamp on {lamp.colour}, {page.players} players")


    @hookimpl
    async def arcade_shutdown():
        note("lamp off")
"""

FAN = """
    from arcade.sdk.hookspecs import hookimpl


    def note(line):
        with open("lifecycle.txt", "a") as log:
            log.write(line + "\\n")


    @hookimpl
    def arcade_startup():
        note("fan on")


    @hookimpl
    def arcade_shutdown(context):
        note("fan off")
"""

BROKEN = """
    def arcade_startup():
        raise RuntimeError("no such device")
"""

BOOM = """
    def arcade_score_accepted(game, record):
        raise RuntimeError("the listener broke")
"""

EAR = """
    def arcade_score_accepted(game, record):
        with open("heard.txt", "a") as log:
            log.write(record.submission_id + "\\n")
"""


def plugins(folder, **sources) -> dict:
    """Install each source as a plugin distribution in ``folder``; answer the environment."""
    env = {}
    for name, source in sources.items():
        env = make_plugin(folder, name, source)
    return env


def cli_token(server, player: str) -> str:
    """`arcade token` in the server's folder and environment: its plugins' tables are read there."""
    result = run_arcade("token", "--player", player, cwd=server.folder, env=server.env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_plugins_start_after_the_store_opens_with_their_settings_and_stop_in_reverse(make_server, tmp_path):
    env = plugins(tmp_path / "site-packages", lamp=LAMP, fan=FAN)
    server = make_server('[plugins.lamp]\ncolour = "red"\n', env=env)
    assert server.post_score(cli_token(server, "ada"), 10, "run-000001").status_code == 201
    server.env["ARCADE_PLUGINS__LAMP__COLOUR"] = "blue"
    server.restart()
    assert server.stop() == 0

    lines = (server.folder / "lifecycle.txt").read_text().splitlines()
    for run, lamp in ((lines[:4], "lamp on red, 0 players"), (lines[4:], "lamp on blue, 1 players")):
        assert sorted(run) == ["fan off", "fan on", "lamp off", lamp]
        first, second = run[0].split()[0], run[1].split()[0]
        assert [line.split()[0] for line in run] == [first, second, second, first]


def test_a_plugin_that_cannot_start_stops_start_up_and_the_started_ones_shut_down(tmp_path):
    env = plugins(tmp_path / "site-packages", fan=FAN, broken=BROKEN)
    result = run_arcade("serve", "--port", "0", cwd=tmp_path, env=env)
    assert result.returncode == 2
    assert "plugin broken failed to start: RuntimeError('no such device')" in result.stderr
    assert "fan off" in (tmp_path / "lifecycle.txt").read_text()


def test_a_listener_that_raises_is_logged_and_the_others_still_hear_of_the_score(make_server, tmp_path):
    env = plugins(tmp_path / "site-packages", boom=BOOM, ear=EAR)
    server = make_server(env=env)
    token = server.token("ada")

    response = server.post_score(token, 10, "run-000001")
    assert response.status_code == 201, response.text
    assert "idempotent-replayed" not in response.headers
    assert (server.folder / "heard.txt").read_text() == "run-000001\n"
    assert "the listener broke" in logged(server, "plugin boom failed in arcade_score_accepted")

    again = server.post_score(token, 10, "run-000001")
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert (server.folder / "heard.txt").read_text() == "run-000001\n"
