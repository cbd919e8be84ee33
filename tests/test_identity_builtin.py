"""The built-in identity provider, part 1: its key, its public documents, and `arcade token`."""

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet

from arcade.platform import config, loader
from arcade.platform.assembly import Context
from arcade.sdk.settings import PluginSettings
from tests.conftest import run_arcade


def test_discovery_and_jwks_publish_the_signing_key(app):
    discovery = app.get("/.well-known/openid-configuration").json()
    assert discovery["issuer"] == app.url
    assert discovery["jwks_uri"] == f"{app.url}/.well-known/jwks.json"
    assert "urn:ietf:params:oauth:grant-type:device_code" in discovery["grant_types_supported"]
    assert discovery["device_authorization_endpoint"].startswith(app.url)
    jwks = app.get(discovery["jwks_uri"]).json()
    (key,) = jwks["keys"]
    assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("EC", "P-256", "ES256", "sig")
    assert "d" not in key  # never the private part

    token = app.token("ada")
    decoded = jwt.decode(token, KeySet.import_key_set(jwks), algorithms=["ES256"])
    assert decoded.header["typ"] == "at+jwt" and decoded.header["kid"] == key["kid"]
    assert decoded.claims["iss"] == app.url and decoded.claims["sub"] == "ada"
    assert decoded.claims["exp"] - decoded.claims["iat"] == 3600


def test_the_key_and_its_tokens_survive_a_restart(server):
    kid = httpx.get(f"{server.url}/.well-known/jwks.json").json()["keys"][0]["kid"]
    token = server.token("ada")
    server.restart()
    assert httpx.get(f"{server.url}/.well-known/jwks.json").json()["keys"][0]["kid"] == kid
    assert server.post_score(token, 3, "ada-run-01").status_code == 201
    assert oct(server.data.joinpath("signing-keys.json").stat().st_mode & 0o777) == "0o600"


def test_a_corrupt_key_file_is_refused_and_left_in_place(tmp_path):
    keys = tmp_path / "arcade-data" / "signing-keys.json"
    keys.parent.mkdir()
    keys.write_text('{"keys": [{"kty": "EC"')
    result = run_arcade("token", "--player", "ada", cwd=tmp_path)
    assert result.returncode == 2
    assert "is not a valid JWK set" in result.stderr and "left in place" in result.stderr
    assert keys.read_text() == '{"keys": [{"kty": "EC"'


def test_token_uses_the_data_folder_given(tmp_path):
    result = run_arcade("token", "--player", "ada", "--data", "elsewhere", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.count(".") == 2
    assert (tmp_path / "elsewhere" / "signing-keys.json").is_file()


def test_the_provider_hook_answers_only_for_its_own_name(tmp_path):
    manager = loader.load()
    context = Context(settings=config.Settings(), data_dir=tmp_path, public_url="http://arcade.test")
    assert manager.hook.arcade_identity_provider(
        name="auth0-typo", settings=PluginSettings("identity.auth0-typo"), context=context
    ) is None
    provider = manager.hook.arcade_identity_provider(
        name="builtin", settings=PluginSettings("identity.builtin"), context=context
    )
    assert provider.issuer == "http://arcade.test"
    assert provider.device_settings().token_endpoint == "http://arcade.test/oauth/token"
