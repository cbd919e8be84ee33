"""One broken third-party plugin is reported and left out; the rest of the arcade serves.

``[plugins] strict = true`` stops at start-up instead, and a broken built-in plugin (a broken
install) always does.
"""

import json
import sys

import httpx
import pytest

from arcade.platform import loader
from arcade.sdk.errors import PluginError
from tests.conftest import run_arcade
from tests.distributions import make_plugin

SILENCE = "add it to [plugins] disabled in arcade.toml to silence this"

BROKEN = {
    "import": ("import no_such_module_anywhere\n", "ModuleNotFoundError: No module named 'no_such_module_anywhere'"),
    "hook": ("def arcade_register_games(register):\n    raise RuntimeError('the snake bit itself')\n",
             "RuntimeError: the snake bit itself"),
    "rules": (
        "from arcade.sdk.game import GameInfo\n\n"
        "def arcade_register_games(register):\n"
        "    register(GameInfo(id='ghost', title='Ghost', version='1', package='ghost_rules'))\n",
        "game 'ghost' has no rules to replay runs with",
    ),
    "misspelled hook": ("def arcade_register_game(register):\n    pass\n", "unknown hook 'arcade_register_game'"),
}


def listing(folder, env) -> dict:
    result = run_arcade("plugins", "--json", cwd=folder, env=env)
    assert result.returncode == 0, result.stderr
    return {row["name"]: row for row in json.loads(result.stdout)["plugins"]}


@pytest.mark.parametrize("kind", BROKEN)
def test_a_broken_plugin_is_listed_as_failed_with_its_reason(tmp_path, kind):
    source, reason = BROKEN[kind]
    env = make_plugin(tmp_path / "site-packages", "broken", source)

    result = run_arcade("plugins", cwd=tmp_path, env=env)

    assert result.returncode == 0, result.stderr
    [warning] = [line for line in result.stderr.splitlines() if "broken" in line]
    assert "WARNING arcade.plugins" in warning and reason in warning and SILENCE in warning
    [row] = [line for line in result.stdout.splitlines() if line.startswith("broken ")]
    assert "broken 1.0" in row and "failed: " in row and reason in row
    assert "dino" in result.stdout
    rows = listing(tmp_path, env)
    assert rows["broken"]["status"] == "failed" and reason in rows["broken"]["reason"]
    assert rows["broken"]["hooks"] == []
    assert rows["dino"]["status"] == "loaded" and rows["dino"]["reason"] is None


def test_the_arcade_serves_without_the_broken_plugin(make_server, tmp_path):
    env = make_plugin(tmp_path / "site-packages", "broken", BROKEN["hook"][0])

    server = make_server(env=env)

    games = [game["id"] for game in httpx.get(f"{server.url}/api/v1/games").json()]
    assert games == ["dino", "maze", "tiles", "balloon"]
    assert "plugin broken is left out" in server.log.read_text()


@pytest.mark.parametrize("kind", BROKEN)
def test_strict_stops_at_start_up_and_names_the_setting_that_silences_it(tmp_path, kind):
    source, reason = BROKEN[kind]
    env = make_plugin(tmp_path / "site-packages", "broken", source)
    (tmp_path / "arcade.toml").write_text("[plugins]\nstrict = true\n")

    result = run_arcade("serve", cwd=tmp_path, env=env)

    assert result.returncode == 2
    assert result.stderr.startswith("arcade: error: plugin broken failed")
    assert reason in result.stderr and "[plugins] disabled" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_disabled_plugin_is_listed_as_disabled(tmp_path):
    (tmp_path / "arcade.toml").write_text('[plugins]\ndisabled = ["dino"]\n')

    text = run_arcade("plugins", cwd=tmp_path).stdout
    rows = listing(tmp_path, {})

    [row] = [line for line in text.splitlines() if line.startswith("dino ")]
    assert row.split()[1:] == ["badge-arcade", rows["dino"]["version"], "disabled"]
    assert rows["dino"] == {
        "name": "dino", "distribution": "badge-arcade", "version": rows["dino"]["version"], "status": "disabled",
        "reason": None, "hooks": [],
    }


def test_a_disabled_broken_plugin_is_silent(tmp_path):
    env = make_plugin(tmp_path / "site-packages", "broken", BROKEN["import"][0])
    (tmp_path / "arcade.toml").write_text('[plugins]\ndisabled = ["broken"]\n')

    result = run_arcade("plugins", cwd=tmp_path, env=env)

    assert result.returncode == 0 and result.stderr == ""
    assert listing(tmp_path, env)["broken"]["status"] == "disabled"


def test_a_broken_built_in_plugin_is_a_broken_install_and_always_stops(monkeypatch):
    monkeypatch.setitem(sys.modules, "arcade.games.dino", None)  # importing it now fails

    with pytest.raises(PluginError, match=r"built-in plugin dino failed .*ModuleNotFoundError.*reinstall badge-arcade"):
        loader.load()


def test_a_plugin_whose_routes_fail_is_left_out_with_its_games(make_server, tmp_path):
    source = (
        "from arcade.sdk.game import GameInfo\n\n"
        "def arcade_register_games(register):\n"
        "    register(GameInfo(id='ghost', title='Ghost', version='1', package='arcade.games.dino'))\n\n"
        "def arcade_routes(context):\n"
        "    raise RuntimeError('no pages today')\n"
    )
    env = make_plugin(tmp_path / "site-packages", "broken", source)

    server = make_server(env=env)

    assert "ghost" not in [game["id"] for game in httpx.get(f"{server.url}/api/v1/games").json()]
    assert "plugin broken is left out: building its routes failed: RuntimeError: no pages today" in server.log.read_text()
    assert listing(server.folder, server.env)["broken"]["status"] == "failed"
