"""Every plugin's table is checked by the plugin with the same precision as the arcade's own
settings: a wrong key or type names the file or the environment variable, the dotted key and what
was expected, and stops `arcade serve`."""

import pytest

from tests.conftest import run_arcade
from tests.distributions import make_plugin

LAMP = """
    from typing import Annotated

    import msgspec

    from arcade.sdk.hookspecs import hookimpl


    class LampSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
        colour: str = "white"
        brightness: Annotated[int, msgspec.Meta(ge=0, le=100)] = 50


    @hookimpl
    def arcade_startup(settings):
        settings.decode(LampSettings)
"""


@pytest.fixture
def refused(tmp_path):
    """``refused(toml, env, command)``: run the command with the lamp plugin installed; answer
    its error, which must stop it."""
    plugin = make_plugin(tmp_path / "site-packages", "lamp", LAMP)

    def run(toml: str, env: dict | None = None, command: tuple[str, ...] = ("serve", "--port", "0")) -> str:
        (tmp_path / "arcade.toml").write_text(toml)
        result = run_arcade(*command, cwd=tmp_path, env={**plugin, **(env or {})})
        assert result.returncode == 2, result.stdout + result.stderr
        return result.stderr

    return run


def test_a_wrong_setting_in_a_plugin_table_names_the_file_and_the_dotted_key(refused):
    said = refused("[plugins.lamp]\ncolour = 1\n")
    assert "arcade.toml: plugins.lamp.colour: expected `str`, got `int`" in said
    said = refused('[plugins.lamp]\ncolor = "red"\n')
    assert "arcade.toml: plugins.lamp.color: unknown key" in said


def test_a_wrong_environment_override_names_the_variable(refused):
    said = refused("", env={"ARCADE_PLUGINS__LAMP__BRIGHTNESS": "200"})
    assert "ARCADE_PLUGINS__LAMP__BRIGHTNESS (environment): plugins.lamp.brightness: expected `int` <= 100" in said


def test_the_store_and_identity_tables_name_the_variable_too(refused):
    said = refused('[store.tinydb]\nfile = "a.json"\n', env={"ARCADE_STORE__TINYDB__FIL": "b.json"})
    assert "ARCADE_STORE__TINYDB__FIL (environment): store.tinydb.fil: unknown key" in said
    said = refused("", env={"ARCADE_IDENTITY__BUILTIN__ACCESS_TOKEN_TTL": "1h"})
    variable = "ARCADE_IDENTITY__BUILTIN__ACCESS_TOKEN_TTL (environment)"
    assert f"{variable}: identity.builtin.access_token_ttl: expected `int`" in said


def test_a_table_for_a_plugin_that_is_not_installed_names_the_table_and_the_installed_ones(refused):
    said = refused('[plugins.lamps]\ncolour = "red"\n', command=("plugins",))
    assert "arcade.toml: plugins.lamps: no installed plugin is called 'lamps'" in said
    assert "installed plugins: " in said and "lamp, " in said and "store_tinydb" in said
    said = refused("", env={"ARCADE_PLUGINS__LAMPS__COLOUR": "red"}, command=("plugins",))
    assert "ARCADE_PLUGINS__LAMPS__COLOUR (environment): plugins.lamps: no installed plugin" in said


def test_an_unknown_key_of_plugins_itself_is_an_error(refused):
    said = refused("[plugins]\ndisabeld = [\"dino\"]\n", command=("plugins",))
    assert "arcade.toml: plugins.disabeld: unknown key" in said
