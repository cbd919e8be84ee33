"""The arcade's address as the organiser meets it: `arcade serve` and `arcade token` take the same
address flags, a public_url that cannot work is refused, and listening on every interface needs one."""

import httpx
import pytest

from arcade.platform import config
from tests.conftest import run_arcade


def token(server, *flags: str) -> str:
    result = run_arcade("token", "--player", "ada", *flags, cwd=server.folder, env=server.env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_a_token_minted_with_the_flags_serve_was_given_is_accepted(make_server):
    server = make_server(start=False)
    server.config.write_text("")  # the address comes from the flags alone
    server.start()
    refused = server.post_score(token(server), 5, "ada-run-0001")
    assert refused.status_code == 401
    detail = refused.json()["detail"]
    assert "'http://127.0.0.1:8000'" in detail and f"expects '{server.url}'" in detail
    assert "another address" in detail and "--port" in detail
    assert server.post_score(token(server, "--port", str(server.port)), 5, "ada-run-0001").status_code == 201


def test_public_url_is_a_flag_of_serve_and_token(make_server):
    server = make_server(start=False)
    server.config.write_text("")
    public = f"http://localhost:{server.port}"
    server.args = ("--public-url", public + "/")
    server.start()
    assert httpx.get(f"{server.url}/api/v1/badge").json()["identity"]["issuer"] == public
    assert f"Badge Arcade on {public}" in server.log.read_text()
    assert server.post_score(token(server, "--public-url", public), 5, "ada-run-0001").status_code == 201


@pytest.mark.parametrize(
    "value, expected",
    [
        ("arcade.example.org", "expected the http:// or https:// address"),
        ("ftp://arcade.example.org", "expected the http:// or https:// address"),
        ("http://", "expected the http:// or https:// address"),
        ("https://arcade.example.org/arcade", "cannot work"),
        ("https://arcade.example.org/?event=1", "cannot work"),
        ("http://arcade.example.org:99999", "port"),
    ],
)
def test_a_public_url_that_cannot_work_is_refused_saying_where_and_what(tmp_path, value, expected):
    (tmp_path / "arcade.toml").write_text(f'[server]\npublic_url = "{value}"\n')
    result = run_arcade("serve", cwd=tmp_path)
    assert result.returncode == 2
    assert "arcade.toml: server.public_url: " in result.stderr and expected in result.stderr
    assert repr(value) in result.stderr


def test_a_bad_public_url_from_the_environment_or_a_flag_names_it(tmp_path):
    from_env = run_arcade("serve", cwd=tmp_path, env={"ARCADE_SERVER__PUBLIC_URL": "arcade.local"})
    assert "ARCADE_SERVER__PUBLIC_URL (environment): server.public_url: expected" in from_env.stderr
    from_flag = run_arcade("token", "--player", "ada", "--public-url", "arcade.local", cwd=tmp_path)
    assert from_flag.returncode == 2
    assert "--public-url (command line): server.public_url: expected" in from_flag.stderr
    bad_port = run_arcade("serve", "--port", "70000", cwd=tmp_path)
    assert "--port (command line): server.port: expected `int` <= 65535" in bad_port.stderr


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
def test_listening_on_every_interface_without_a_public_url_says_what_to_set(tmp_path, host):
    result = run_arcade("serve", "--host", host, cwd=tmp_path)
    assert result.returncode == 2
    assert f"server.host {host!r} listens on every interface" in result.stderr
    assert "--public-url" in result.stderr and "server.public_url" in result.stderr
    assert "0.0.0.0:8000/" not in result.stderr


def test_listening_on_every_interface_with_a_public_url_serves_it(make_server):
    server = make_server(start=False)
    server.config.write_text("")
    server.args = ("--host", "0.0.0.0", "--public-url", server.url)
    server.start()
    badge = httpx.get(f"{server.url}/api/v1/badge").json()
    assert badge["identity"]["token_endpoint"] == f"{server.url}/oauth/token"
    assert f"listening on 0.0.0.0:{server.port}" in server.log.read_text()


@pytest.mark.parametrize(
    "table, name, installed",
    [("store", "mongodb", ["'postgres', 'tinydb'"]), ("identity", "keycloak", ["'auth0', 'builtin', 'oidc'"])],
)
def test_a_plugin_that_is_not_installed_says_which_are_and_how_to_add_one(tmp_path, table, name, installed):
    (tmp_path / "arcade.toml").write_text(f'[{table}]\nplugin = "{name}"\n')
    result = run_arcade("serve", cwd=tmp_path)
    assert result.returncode == 2
    assert f'arcade.toml: {table}.plugin: no installed plugin provides the' in result.stderr
    assert f"{name!r};" in result.stderr
    assert all(each in result.stderr for each in installed)
    assert "pip" in result.stderr and "same environment as arcade" in result.stderr
    assert "`arcade plugins`" in result.stderr


def test_an_ipv6_host_gets_a_url_with_brackets(tmp_path):
    (tmp_path / "arcade.toml").write_text('[server]\nhost = "::1"\nport = 8002\n')
    assert config.load(tmp_path / "arcade.toml", environ={}).public_url == "http://[::1]:8002"
