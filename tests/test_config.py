"""Settings: arcade.toml plus ARCADE_* overrides; a wrong key or type names the file, the key and
what was expected, and stops start-up."""

import re
from pathlib import Path

import pytest

from arcade.platform import config
from arcade.platform.assembly import assemble
from arcade.sdk.errors import ArcadeError
from tests.conftest import run_arcade


@pytest.fixture
def check_error(tmp_path, monkeypatch):
    """Start-up as `arcade serve` begins it (./arcade.toml, then the plugins' assembly), in this
    process: asserts it stops, with an error holding each of ``expected``."""
    monkeypatch.chdir(tmp_path)

    def check(toml: str, *expected: str, env: dict | None = None) -> str:
        (tmp_path / "arcade.toml").write_text(toml)
        with pytest.raises(ArcadeError) as raised:
            assemble(config.load(environ=env or {}))
        for text in expected:
            assert text in str(raised.value)
        return str(raised.value)

    return check


def test_an_unknown_key_stops_arcade_serve_naming_the_file_and_the_key(tmp_path):
    (tmp_path / "arcade.toml").write_text("[server]\nprot = 8001\n")
    result = run_arcade("serve", cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "arcade: error: arcade.toml: server.prot: unknown key" in result.stderr


def test_a_wrong_type_says_what_was_expected(check_error):
    check_error('[server]\nport = "eighty"\n', "arcade.toml: server.port: expected `int`, got `str`")


def test_an_out_of_range_value_says_the_range(check_error):
    check_error("[server]\nport = 70000\n", "server.port: expected `int` <= 65535")


def test_a_plugin_setting_is_checked_by_the_plugin_with_the_same_precision(check_error):
    check_error('[store.tinydb]\nfil = "x.json"\n', "arcade.toml: store.tinydb.fil: unknown key")
    check_error(
        "[identity.builtin]\naccess_token_ttl = \"1h\"\n", "identity.builtin.access_token_ttl: expected `int`"
    )


def test_broken_toml_is_reported_with_its_line(check_error):
    check_error("[server\n", "arcade.toml: not valid TOML", "line 1")


def test_a_missing_config_file_named_on_the_command_line_is_an_error(tmp_path):
    result = run_arcade("serve", "--config", "nowhere.toml", cwd=tmp_path)
    assert result.returncode == 2
    assert "nowhere.toml: no such configuration file" in result.stderr


def test_an_environment_override_is_named_when_it_is_wrong(check_error):
    check_error("", "ARCADE_SERVER__PORT (environment): server.port", env={"ARCADE_SERVER__PORT": "abc"})


def test_environment_overrides_the_file_with_typed_values(tmp_path):
    path = tmp_path / "arcade.toml"
    path.write_text('data_dir = "from-file"\n[server]\nport = 8001\n[store.tinydb]\nfile = "a.json"\n')
    settings = config.load(
        path, environ={"ARCADE_SERVER__PORT": "9001", "ARCADE_DATA_DIR": "elsewhere", "ARCADE_STORE__TINYDB__FILE": "b.json"}
    )
    assert settings.server.port == 9001
    assert settings.data_dir == "elsewhere"
    name, table = settings.selected("store", "tinydb")
    assert (name, table.raw) == ("tinydb", {"file": "b.json"})
    assert settings.public_url == "http://127.0.0.1:9001"


def test_swapping_the_identity_provider_is_one_line(tmp_path):
    path = tmp_path / "arcade.toml"
    path.write_text('[identity]\nplugin = "oidc"\n[identity.oidc]\nissuer = "https://id.example"\n[identity.builtin]\n')
    name, table = config.load(path, environ={}).selected("identity", "builtin")
    assert (name, table.raw) == ("oidc", {"issuer": "https://id.example"})


def test_without_a_file_the_embedded_defaults_apply(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = config.load(environ={})
    assert settings.source == "defaults"
    name, table = settings.selected("store", "tinydb")
    assert (name, table.raw) == ("tinydb", {})
    assert settings.data_dir == "arcade-data"


def test_environment_values_are_read_as_toml_when_they_parse(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = config.load(
        None,
        environ={
            "ARCADE_PLUGINS__DISABLED": '["dino"]',
            "ARCADE_SERVER__WORKERS": "3",
            "ARCADE_SERVER__PUBLIC_URL": "https://arcade.example",
        },
    )
    assert settings.plugins.disabled == ["dino"]
    assert settings.server.workers == 3
    assert settings.public_url == "https://arcade.example"


def test_the_readmes_example_settings_are_valid_settings(tmp_path):
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    example = re.search(r"```toml\n(data_dir.*?)```", readme, re.S).group(1)
    (tmp_path / "arcade.toml").write_text(example)
    settings = config.load(tmp_path / "arcade.toml", environ={})
    assert settings.server.scores_per_minute == 30
    assert settings.table("plugins", "webhook").raw["urls"] == ["https://example.org/arcade-hook"]


def test_an_unknown_time_zone_names_the_setting_and_how_to_write_one(check_error):
    check_error('[event]\ntime_zone = "Mars/Olympus"\n', "arcade.toml: event.time_zone: 'Mars/Olympus' is no time zone this machine knows")
    check_error("", "ARCADE_EVENT__TIME_ZONE (environment): event.time_zone", env={"ARCADE_EVENT__TIME_ZONE": "CEST+2"})
