"""Plugins load from the `arcade` entry-point group, as a third-party `pip install` would add them."""

import json

import httpx

from tests.conftest import run_arcade
from tests.distributions import make_plugin

SNAKE = """
    from arcade.sdk.game import GameInfo
    from arcade.sdk.hookspecs import hookimpl
    from litestar import get


    @hookimpl
    def arcade_register_games(register):
        register(
            GameInfo(id="snake", title="Snake", version="2.1.0", package="snake_rules", order="lower", unit="moves")
        )


    @get("/snake/hello")
    async def hello() -> dict:
        return {"hello": "from a plugin route"}


    @hookimpl
    def arcade_routes(context):
        return [hello]


    @hookimpl
    def arcade_score_accepted(game, record):
        with open("accepted.jsonl", "a") as log:
            log.write(f'{{"game": "{game.id}", "score": {record.score}, "rank": {record.rank}}}\\n')
"""

SNAKE_RULES = """
class Game:
    TICK_MS = 100

    def __init__(self, seed):
        self.score = 0

    def tick(self, buttons):
        self.score += 1
        return not buttons
"""


def test_plugins_lists_the_builtins_with_version_and_hooks(tmp_path):
    result = run_arcade("plugins", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)
    rows = {row["name"]: row for row in listing["plugins"]}
    assert rows["store_tinydb"]["hooks"] == ["arcade_store"]
    assert rows["idp_builtin"]["hooks"] == ["arcade_identity_provider", "arcade_routes", "arcade_shutdown", "arcade_startup"]
    assert rows["dino"]["hooks"] == ["arcade_register_games"]
    assert {row["distribution"] for row in rows.values()} == {"badge-arcade"}
    assert all(row["version"] for row in rows.values())
    assert listing["active"] == {"store": "tinydb", "identity": "builtin"}
    text = run_arcade("plugins", cwd=tmp_path).stdout
    assert "active identity provider: builtin" in text and "dino" in text


def test_a_third_party_plugin_is_found_through_its_entry_point(make_server, tmp_path):
    env = make_plugin(tmp_path / "site-packages", "snake", SNAKE)
    rules = tmp_path / "site-packages" / "snake_rules"
    rules.mkdir()
    (rules / "__init__.py").write_text("")
    (rules / "badge.py").write_text(SNAKE_RULES)
    server = make_server(start=False, env=env)
    listing = json.loads(run_arcade("plugins", "--json", cwd=server.folder, env=env).stdout)
    snake = next(row for row in listing["plugins"] if row["name"] == "snake")
    assert snake["version"] == "1.0"
    assert snake["hooks"] == ["arcade_register_games", "arcade_routes", "arcade_score_accepted"]

    server.start()
    games = httpx.get(f"{server.url}/api/v1/games").json()
    assert [game["id"] for game in games] == ["dino", "maze", "tiles", "balloon", "snake"]
    assert httpx.get(f"{server.url}/snake/hello").json() == {"hello": "from a plugin route"}
    run = {"seed": 1, "inputs": [[41, 1]], "ticks": 42}
    assert server.post_score(server.token("ada"), 42, "snake-run-1", game="snake", run=run).status_code == 201
    accepted = (server.folder / "accepted.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in accepted] == [{"game": "snake", "score": 42, "rank": 1}]


def test_a_plugin_can_be_disabled_by_name(tmp_path):
    (tmp_path / "arcade.toml").write_text('[plugins]\ndisabled = ["dino"]\n')
    listing = json.loads(run_arcade("plugins", "--json", cwd=tmp_path).stdout)
    assert {row["name"]: row["status"] for row in listing["plugins"]}["dino"] == "disabled"
    assert listing["games"] == ["maze", "tiles"]


def test_disabling_an_unknown_plugin_is_an_error(tmp_path):
    (tmp_path / "arcade.toml").write_text('[plugins]\ndisabled = ["dinosaur"]\n')
    result = run_arcade("plugins", cwd=tmp_path)
    assert result.returncode == 2
    assert "'dinosaur', which is not an installed plugin" in result.stderr
    assert "store_tinydb" in result.stderr


def test_a_misspelled_hook_stops_start_up_when_strict(tmp_path):
    """Lenient, the plugin is left out instead (tests/test_broken_plugins.py)."""
    (tmp_path / "arcade.toml").write_text("[plugins]\nstrict = true\n")
    env = make_plugin(
        tmp_path / "site-packages",
        "typo",
        """
        def arcade_register_game(register):
            pass
        """,
    )
    result = run_arcade("serve", cwd=tmp_path, env=env)
    assert result.returncode == 2
    assert "arcade_register_game" in result.stderr and "unknown hook" in result.stderr


def test_two_plugins_registering_one_game_id_is_an_error(tmp_path):
    env = make_plugin(
        tmp_path / "site-packages",
        "other_dino",
        """
        from arcade.sdk.game import GameInfo

        def arcade_register_games(register):
            register(GameInfo(id="dino", title="Another dino", version="1", package="other_dino"))
        """,
    )
    result = run_arcade("plugins", cwd=tmp_path, env=env)
    assert result.returncode == 2
    assert "game id 'dino' is registered by both plugin" in result.stderr
    assert "plugin dino" in result.stderr and "plugin other_dino" in result.stderr


def test_no_plugin_for_the_chosen_store_names_the_command_to_list_them(tmp_path):
    (tmp_path / "arcade.toml").write_text('[store]\nplugin = "mongodb"\n')
    result = run_arcade("serve", cwd=tmp_path)
    assert result.returncode == 2
    assert "no installed plugin provides the store 'mongodb'" in result.stderr
