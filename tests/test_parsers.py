"""Every parser of outside input, fed what hypothesis makes up: it answers, or it refuses with the
project's own error saying what was wrong, and never fails any other way.

User codes, settings (arcade.toml and ARCADE_* variables), the build manifest and the simulator's
scripts, score submissions and their replays, access tokens, the built-in provider's forms and
leaderboard cursors. Bounded and deterministic: a fixed number of examples a property,
derandomized, no example database, so CI runs exactly what runs here.
"""

import base64
import hashlib
import json
import logging
import re
import shutil
import string
import time
from importlib import resources
from pathlib import Path

import httpx
import msgspec
import pytest
from arcade.games.dino import DINO
from arcade.games.maze import MAZE
from arcade.games.tiles import TILES
from arcade.plugins.idp_builtin import codes
from arcade.plugins.idp_builtin.provider import BuiltinSettings
from arcade.plugins.store_tinydb import TinyDBSettings
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from joserfc import jwt

from arcade.badge import sim
from arcade.badge.build import BuildError, find_program
from arcade.badge.deploy import mpremote_arguments
from arcade.platform import config
from arcade.scoring.gamecheck import play_runs
from arcade.scoring.replay import RunRefused, replay
from arcade.sdk import tokens
from arcade.sdk.errors import ConfigError
from arcade.sdk.identity import InvalidToken
from arcade.sdk.models import Run
from tests.people import forms as page_forms
from tests.runs import balloon_run

BOUNDED = settings(
    max_examples=100,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
FEW = settings(BOUNDED, max_examples=15)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


# -- user codes ------------------------------------------------------------------------------

user_codes = st.text(codes.USER_CODE_ALPHABET, min_size=codes.USER_CODE_LENGTH, max_size=codes.USER_CODE_LENGTH)
separators = st.sampled_from(["", "", " ", "-", "  ", "\t", "\u2010", "\u2013", "\u2212", "\u00a0"])


@BOUNDED
@given(st.text())
def test_any_typed_text_reads_as_a_user_code_or_as_none(typed):
    code = codes.read_user_code(typed)
    assert code is None or (len(code) == codes.USER_CODE_LENGTH and set(code) <= set(codes.USER_CODE_ALPHABET))


@BOUNDED
@given(user_codes, st.data())
def test_a_code_typed_in_any_case_with_any_spaces_and_dashes_reads_back(code, data):
    typed = "".join(
        data.draw(separators) + data.draw(st.sampled_from([letter, letter.lower()]))
        for letter in codes.show_user_code(code)
    )
    assert codes.read_user_code(typed + data.draw(separators)) == code


# -- settings ----------------------------------------------------------------------------------

KNOWN_KEYS = [
    "data_dir", "server.host", "server.port", "server.public_url", "server.workers", "server.log_level",
    "server.scores_per_minute", "server.replay_workers", "server.replays_waiting", "store.plugin",
    "store.tinydb.file", "store.tinydb.fold_every", "identity.plugin", "identity.builtin.client_id",
    "identity.builtin.device_code_ttl", "identity.builtin.limits.wrong_user_codes", "plugins.disabled",
    "plugins.strict", "plugins.webhook.urls", "source", "origins",
]  # fmt: skip
keys = st.sampled_from(KNOWN_KEYS) | st.from_regex(r"[a-z_]{1,8}(\.[a-z_]{1,8}){0,2}", fullmatch=True)
hosts = st.sampled_from(["arcade.example", "10.0.0.1", "[::1]", "[::1", "0.0.0.0", ""]) | st.text(
    string.ascii_letters + string.digits + ".:[]@%-", max_size=12
)
urls = st.builds(
    "".join,
    st.tuples(
        st.sampled_from(["http://", "https://", "ftp://", ""]),
        hosts,
        st.sampled_from(["", ":8000", ":99999", ":x", "/path", "/?q", "#f"]),
    ),
)
toml_values = st.recursive(
    st.integers() | st.booleans() | st.floats() | st.text(max_size=16) | urls,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.from_regex(r"[a-z_]{1,6}", fullmatch=True), inner, max_size=3),
    max_leaves=6,
)  # fmt: skip


def toml(value) -> str:
    """``value`` as TOML; strings as JSON writes them, which TOML mostly reads the same."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return {"inf": "inf", "-inf": "-inf", "nan": "nan"}.get(repr(value), repr(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(toml(item) for item in value) + "]"
    return "{" + ", ".join(f"{json.dumps(key)} = {toml(item)}" for key, item in value.items()) + "}"


def variable(key: str) -> str:
    return "ARCADE_" + "__".join(part.upper() for part in key.split("."))


def load_all(path: Path, environ: dict) -> None:
    """What start-up reads of the settings: the file and the variables, the public URL, which
    plugins, and the settings tables of the store and the identity provider."""
    settings = config.load(path, environ=environ)
    assert settings.public_url.startswith(("http://", "https://"))
    for kind, default, shape in (("store", "tinydb", TinyDBSettings), ("identity", "builtin", BuiltinSettings)):
        name, table = settings.selected(kind, default)
        if name == default:
            table.decode(shape)


@BOUNDED
@given(st.text(max_size=200))
def test_any_text_in_arcade_toml_is_settings_or_an_error_saying_so(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("toml") / "arcade.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        load_all(path, {})
    except ConfigError as error:
        assert str(error).startswith(str(path))


@BOUNDED
@given(
    st.dictionaries(keys, toml_values, max_size=5),
    st.dictionaries(keys, st.text(st.characters(exclude_characters="\x00"), max_size=16), max_size=3),
)
@example(file={}, env={"__": ""})  # ARCADE___: named neither itself nor a key
def test_settings_and_variables_of_any_type_are_settings_or_an_error_naming_the_key(tmp_path_factory, file, env):
    path = tmp_path_factory.mktemp("toml") / "arcade.toml"
    path.write_text("".join(f"{key} = {toml(value)}\n" for key, value in file.items()), encoding="utf-8")
    environ = {variable(key): value for key, value in env.items()}
    try:
        load_all(path, environ)
    except ConfigError as error:
        message = str(error)
        given = [*file, *env]
        tables = {".".join(key.split(".")[:end]) for key in given for end in range(1, key.count(".") + 2)}
        named = any(re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", message) for name in tables)
        assert named or any(name in message for name in [*environ, "not valid TOML"]), message


@BOUNDED
@given(url=urls, in_file=st.booleans())
def test_any_public_url_is_the_arcades_address_or_an_error_naming_the_setting(tmp_path_factory, url, in_file):
    path = tmp_path_factory.mktemp("toml") / "arcade.toml"
    path.write_text(f"server.public_url = {toml(url)}\n" if in_file else "", encoding="utf-8")
    environ = {} if in_file else {"ARCADE_SERVER__PUBLIC_URL": url}
    try:
        load_all(path, environ)
    except ConfigError as error:
        assert "server.public_url" in str(error) or "server.host" in str(error), error


# -- the build manifest and the simulator's scripts ------------------------------------------------


def mutated(manifest: dict):
    """The manifest with one value somewhere replaced by anything, or a file's path by one that
    leads out of the build."""
    places = [("mpy",), ("games",), ("files",)]
    places += [("games", index, key) for index, game in enumerate(manifest["games"]) for key in game]
    places += [("files", index, key) for index, entry in enumerate(manifest["files"]) for key in entry]
    outside = st.sampled_from(["../beside.txt", "/tmp/beside.txt", "", ".", "games/../../beside.txt", "a\x00b"])

    def replace(where, value):
        copy = json.loads(json.dumps(manifest))
        *holders, last = where
        holder = copy
        for step in holders:
            holder = holder[step]
        holder[last] = value
        return copy

    return st.sampled_from(places).flatmap(
        lambda where: (outside if where[-1] == "path" else json_values).map(lambda value: replace(where, value))
    )


@pytest.fixture(scope="module")
def build_folder(badge_build, tmp_path_factory) -> Path:
    """A copy of the real build, whose manifest the test replaces, and a file beside it."""
    folder = tmp_path_factory.mktemp("parsers") / "build"
    shutil.copytree(badge_build, folder)
    (folder.parent / "beside.txt").write_text("not part of the build\n")
    return folder


def test_a_manifest_of_any_shape_is_read_or_refused_saying_so(build_folder, tmp_path_factory):
    """``arcade deploy`` and ``arcade sim`` read the manifest: they go on with a good one and
    refuse any other saying so, and never touch a file outside the build or the badge's flash."""
    real = json.loads((build_folder / "manifest.json").read_text())
    beside = (build_folder.parent / "beside.txt").read_bytes()
    escaping = {"path": "../beside.txt", "size": len(beside), "sha256": hashlib.sha256(beside).hexdigest()}
    flash = tmp_path_factory.mktemp("flash")
    root = flash / "root"

    @FEW
    @given(st.one_of(mutated(real), json_values, st.binary(max_size=64)))
    @example([])  # was a TypeError
    @example({**real, "files": [{**real["files"][0], "size": 1}]})  # a damaged file was deployed
    @example({**real, "files": [*real["files"], escaping]})  # a file beside the build was copied beside the flash
    def read_or_refused(manifest):
        (build_folder / "manifest.json").write_bytes(
            manifest if isinstance(manifest, bytes) else json.dumps(manifest).encode()
        )
        shutil.rmtree(root, ignore_errors=True)
        refusals = []
        try:
            arguments = mpremote_arguments(build_folder, "http://arcade.example:8000", [])
        except BuildError as error:
            refusals.append(error)
        else:  # what goes onto a real badge is every file as the manifest describes it
            assert arguments[-1] == "reset" and "../" not in " ".join(arguments)
            for entry in manifest["files"]:
                data = (build_folder / entry["path"]).read_bytes()
                assert (len(data), hashlib.sha256(data).hexdigest()) == (entry["size"], entry["sha256"]), entry
        try:
            sim.Simulator(build=build_folder, root=root, server="http://arcade.example:8000").prepare()
        except BuildError as error:
            refusals.append(error)
        else:  # the simulated flash holds the build's files as they are
            for entry in manifest["files"]:
                assert (root / entry["path"]).read_bytes() == (build_folder / entry["path"]).read_bytes()
        for error in refusals:
            assert "manifest.json" in str(error) and "arcade build" in str(error), error
        assert set(flash.rglob("*")) <= {root, *root.rglob("*")}, f"{manifest!r} wrote beside the flash"
        assert not Path("/tmp/beside.txt").exists()

    try:
        read_or_refused()
    finally:
        (build_folder / "manifest.json").write_text(json.dumps(real))


script_words = st.sampled_from(
    ["wait", "speed", "press", "pause", "exit", "#", "a+up", "-", "b", "c+down", "x+", "12", "3", "0", "²", "١٢", "x"]
)
script_lines = st.one_of(st.text(max_size=30), st.lists(script_words, min_size=1, max_size=3).map(" ".join))


@BOUNDED
@given(st.lists(script_lines, max_size=8))
@example(["speed ²"])  # was a ValueError
@example(["١٢ a"])  # was a step the simulated badge cannot read
def test_a_simulator_script_of_any_text_is_steps_or_an_error_naming_the_line(lines):
    """The steps are what the simulated badge reads with MicroPython's int(): ASCII digits."""
    try:
        steps = sim.parse_script("\n".join(lines), "script.txt")
    except sim.SimError as error:
        assert str(error).startswith("script.txt line ")
    else:
        for step in steps:
            kind, *rest = step.split()
            numbers = [] if kind in ("wait", "exit") else rest if kind in ("speed", "press", "pause") else [kind, *rest]
            assert all(word.isascii() and word.isdigit() for word in numbers), step


# -- score submissions and their replays -------------------------------------------------------------

ticks = st.integers(0, 2_000) | st.integers(0, 10_000_001)


@st.composite
def runs(draw, longest: int = 2_000):
    """Runs as the model allows them: inputs at rising ticks before the run's last one."""
    length = draw(st.integers(1, longest))
    changes = draw(st.lists(st.integers(0, length - 1), unique=True, max_size=12).map(sorted))
    return Run(
        seed=draw(st.integers(0, 2**31 - 1)),
        inputs=[(tick, draw(st.integers(0, 255))) for tick in changes],
        ticks=length,
    )


near_valid_bodies = st.fixed_dictionaries(
    {},
    optional={
        "score": st.integers() | json_values,
        "run": st.fixed_dictionaries(
            {},
            optional={
                "seed": st.integers() | json_values,
                "inputs": st.lists(st.lists(ticks, max_size=3), max_size=4) | json_values,
                "ticks": ticks | json_values,
            },
        )
        | json_values,
        "submission_id": st.from_regex(r"[A-Za-z0-9_-]{8,64}", fullmatch=True) | st.text(max_size=70),
    },
)


@pytest.fixture
def scorer(make_app):
    """An in-process arcade that replays every score it gets, and a token to send them with."""
    app = make_app("scores_per_minute = 1000000\nscores_per_minute_per_address = 1000000\n")
    client = app.connect()
    client.headers["Authorization"] = f"Bearer {app.provider().issue_access_token(subject='hypothesis', name='H')}"
    yield client
    client.close()


@BOUNDED
@given(body=st.one_of(near_valid_bodies, json_values, st.binary(max_size=64)))
def test_a_score_body_of_any_shape_is_stored_or_refused_naming_what_is_wrong(scorer, body):
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = scorer.post("/api/v1/games/dino/scores", content=content, headers={"Content-Type": "application/json"})
    assert response.status_code in (201, 400, 422), response.text
    if response.status_code == 422:
        [problem, *_] = response.json()["extra"]
        assert problem["key"] and problem["message"]
    elif response.status_code == 400:
        assert response.json()["detail"]


@BOUNDED
@given(game=st.sampled_from([DINO, MAZE, TILES]), run=runs(), key=st.from_regex(r"[A-Za-z0-9_-]{8,64}", fullmatch=True))
def test_a_run_is_accepted_with_the_score_its_replay_reaches_and_refused_with_any_other(scorer, game, run, key):
    try:
        reached = replay(game, run)
    except RunRefused as refused:
        again = pytest.raises(RunRefused, replay, game, run)
        assert str(again.value) == str(refused)  # the same run is refused the same way every time
        reached = None
    else:
        assert replay(game, run) == reached
    body = {"score": game.min_score if reached is None else reached, "run": msgspec.to_builtins(run)}
    sent = scorer.post(f"/api/v1/games/{game.id}/scores", json={**body, "submission_id": key})
    if reached is None:
        assert sent.status_code == 422 and sent.json()["extra"][0]["key"] == "run", sent.text
    else:
        assert sent.status_code == 201, sent.text
        wrong = scorer.post(
            f"/api/v1/games/{game.id}/scores", json={**body, "score": reached + 1, "submission_id": key[::-1] + "x"}
        )
        assert wrong.status_code == 422 and "scores" in wrong.json()["detail"], wrong.text


@pytest.mark.parametrize("game", [DINO, MAZE, TILES], ids=lambda game: game.id)
def test_the_badge_and_the_server_judge_any_run_alike(game):
    """What the real MicroPython unix port plays of a run is what the server's replay makes of it:
    the same score for a game over at the run's last tick, a refusal otherwise."""
    folder = Path(str(resources.files(game.package)))

    @settings(FEW, max_examples=3)
    @given(st.lists(runs(longest=3_000), min_size=25, max_size=25))
    def alike(batch):
        played = [[run.seed, run.ticks, [list(change) for change in run.inputs]] for run in batch]
        for run, (score, *rest) in zip(batch, play_runs(find_program("micropython"), folder, played), strict=True):
            if score != "error" and rest == [run.ticks, True]:
                assert replay(game, run) == score, run
            else:
                pytest.raises(RunRefused, replay, game, run)

    alike()


# -- access tokens -----------------------------------------------------------------------------------


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segment(value) -> str:
    return b64(value if isinstance(value, bytes) else json.dumps(value).encode())


def forged(header: dict) -> str:
    """A token with ``header``, no claims and a made-up signature."""
    return f"{segment(header)}.{segment({})}.AAAA"


jose_headers = (
    st.fixed_dictionaries(
        {},
        optional={
            "alg": st.sampled_from(["ES256", "none", "HS256", "RS256", "ES512", ""]) | st.text(max_size=8),
            "typ": st.sampled_from(["at+jwt", "JWT", "application/at+jwt"]) | st.text(max_size=8),
            "kid": st.text(max_size=8),
            "crit": json_values,
            "b64": st.booleans(),
        },
    )
    | json_values
)
claims = st.fixed_dictionaries(
    {},
    optional={
        name: st.integers(-(2**40), 2**40) | json_values
        for name in ("iss", "sub", "aud", "exp", "nbf", "iat", "scope", "sid")
    },
)
token_texts = st.one_of(
    st.text(max_size=60),
    st.builds(lambda *parts: ".".join(parts), *[st.text(string.ascii_letters + string.digits + "-_=", max_size=30)] * 3),
    st.builds(lambda header, payload, signature: f"{segment(header)}.{segment(payload)}.{b64(signature)}", jose_headers, claims | json_values, st.binary(max_size=70)),
)  # fmt: skip


@pytest.fixture
def verifier(make_app):
    return make_app()


def signed(provider, header: dict, body: dict) -> str:
    key = provider.keys.current.signing
    return jwt.encode({"kid": key.kid, **header, "alg": "ES256"}, body, key)


def verify(provider, token: str) -> dict:
    return tokens.verify(
        token,
        provider.keys.current.verifying,
        issuer=provider.issuer,
        audience=provider.audience,
        algorithms=["ES256"],
        typ="at+jwt",
    )


@BOUNDED
@given(token=token_texts)
@example(token=forged({"alg": "ES256", "crit": [None]}))  # was a TypeError
def test_a_token_of_any_text_is_refused_naming_the_check(verifier, token):
    with pytest.raises(InvalidToken, match="^the token "):
        verify(verifier.provider(), token)


@BOUNDED
@given(typ=st.sampled_from(["at+jwt", "JWT"]) | st.text(max_size=6), changes=claims)
def test_a_genuine_signature_over_any_claims_is_the_claims_or_refused_naming_the_check(verifier, typ, changes):
    provider = verifier.provider()
    body = {"iss": provider.issuer, "aud": provider.audience, "sub": "h", "exp": int(time.time()) + 60, **changes}
    try:
        found = verify(provider, signed(provider, {"typ": typ}, body))
    except InvalidToken as error:
        assert str(error).startswith("the token")
    else:
        assert found["iss"] == provider.issuer and found["sub"] and found["exp"] > time.time() - 60


description_chars = {chr(code) for code in range(0x20, 0x7F)} - {'"', "\\"}


@BOUNDED
@given(token=token_texts.filter(lambda token: token.isascii() and token.isprintable() and token.strip()))
@example(token=forged({"alg": "中"}))  # was a 500: not Latin-1
@example(token=forged({"alg": "ES256", "kid": "é"}))
@example(token=forged({"alg": "x\r\nSet-Cookie: a=b"}))  # the answer ended at the line break
@example(token=forged({"alg": "\x1a"}))
def test_a_bearer_token_of_any_text_is_a_401_saying_why_in_one_clean_header_and_log_line(verifier, token):
    lines = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())
    logging.getLogger("arcade.auth").addHandler(handler)
    try:
        with verifier.connect() as client:
            answer = client.get("/oauth/userinfo", headers={"Authorization": f"Bearer {token}"})
    finally:
        logging.getLogger("arcade.auth").removeHandler(handler)
    assert answer.status_code == 401, answer.text
    challenge = answer.headers["www-authenticate"]
    description = challenge.split('error_description="', 1)[1].rstrip('"')
    assert description and set(description) <= description_chars, challenge
    assert lines and all(line.isprintable() for line in lines), lines


# -- the built-in provider's forms ---------------------------------------------------------------

anything = st.text(max_size=24)
FIELDS = {
    "code": user_codes.map(codes.show_user_code) | anything,
    "username": st.from_regex(r"[a-z][a-z0-9_]{2,15}", fullmatch=True) | anything,
    "password": st.just("correct horse battery staple") | anything,
    "name": anything,
    "picture": urls | anything,
    "client_id": st.just("badge") | anything,
    "grant_type": st.sampled_from(["urn:ietf:params:oauth:grant-type:device_code", "refresh_token"]) | anything,
    "device_code": anything,
    "refresh_token": anything,
    "token": anything,
    "scope": st.sampled_from(["openid", "openid profile offline_access scores:write"]) | anything,
    "device_name": anything,
}
forms = st.fixed_dictionaries({}, optional=FIELDS) | st.dictionaries(st.text(max_size=8), anything, max_size=4)


@st.composite
def form_posts(draw):
    """A post's body and content type: a form, a multipart form (a file part sometimes), JSON, or bytes."""
    fields = draw(forms)
    kind = draw(st.sampled_from(["form", "multipart", "json", "bytes"]))
    if kind == "form":
        return {"data": fields}
    if kind == "multipart":
        files = {name: ("f.txt", value.encode()) for name, value in fields.items() if draw(st.booleans())}
        return {
            "data": {name: value for name, value in fields.items() if name not in files},
            "files": files or {"x": ("x", b"")},
        }
    if kind == "json":
        return {"json": fields}
    content_type = draw(
        st.sampled_from(
            [
                "application/x-www-form-urlencoded",
                "multipart/form-data",
                "text/plain",
                "multipart/form-data; boundary=x",
                "",
            ]
        )
    )
    return {"content": draw(st.binary(max_size=80)), "headers": {"Content-Type": content_type}}


OAUTH = ["/oauth/device_authorization", "/oauth/token", "/oauth/revoke"]


@pytest.fixture
def provider_site(make_app):
    """A browser on the pages of an in-process arcade with generous budgets."""
    app = make_app(
        "[identity.builtin.limits]\ndevice_authorizations_per_minute = 100000\ntoken_requests_per_minute = 100000\n"
    )
    browser = app.connect()
    yield browser
    browser.close()


@settings(BOUNDED, max_examples=150)
@given(data=st.data())
def test_a_post_of_any_body_to_the_providers_forms_is_answered_without_a_server_error(provider_site, data):
    """Each post goes to a new badge's login (a deny or an approval ends one), its forms or the
    OAuth endpoints."""
    browser = provider_site
    started = browser.post("/oauth/device_authorization", data={"client_id": "badge"}).json()
    link = httpx.URL(started["verification_uri_complete"]).path
    steps = ["", "/log-in", "/sign-up", "/approve", "/deny", "/log-out"]
    path = data.draw(st.sampled_from([f"{link}{step}" for step in steps] + ["/device", *OAUTH]))
    post = data.draw(form_posts())
    page = browser.get(link, headers={"Accept": "text/html"})
    csrf = {name: value for _, hidden in page_forms(page.text).values() for name, value in hidden.items()}
    if data.draw(st.booleans()) and "data" in post:  # the page's own CSRF token, so the post reaches its form
        post["data"] = {**post["data"], **csrf}
    answer = browser.post(path, headers={"Accept": "text/html", **post.pop("headers", {})}, **post)
    assert answer.status_code < 500, f"{path} {post}: {answer.status_code} {answer.text[:300]}"


# -- leaderboard cursors ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def board(tmp_path_factory, importable_games):
    """An in-process arcade whose Balloon board has seven players, for reads only."""
    from tests.conftest import Apps

    with Apps(tmp_path_factory.mktemp("board")) as apps:
        app = apps()
        for index in range(7):
            token = app.provider().issue_access_token(subject=f"p{index}", name=f"P{index}")
            body = {"score": 10 + index % 3, "run": balloon_run(10 + index % 3), "submission_id": f"board-{index:04d}"}
            stored = app.post("/api/v1/games/balloon/scores", json=body, headers={"Authorization": f"Bearer {token}"})
            assert stored.status_code == 201, stored.text
        yield app


@BOUNDED
@given(
    cursor=st.text(max_size=30)
    | st.from_regex(r"-?[0-9]{1,30}~-?[0-9]{1,30}", fullmatch=True)
    | st.just("9" * 5000 + "~1")
)
def test_any_cursor_is_a_page_or_refused_naming_the_cursor(board, cursor):
    api = board.get("/api/v1/games/balloon/leaderboard", params={"cursor": cursor, "limit": 2})
    assert api.status_code in (200, 422), api.text
    if api.status_code == 422:
        assert api.json()["extra"][0]["key"] == "cursor"
    page = board.get("/games/balloon", params={"cursor": cursor}, headers={"Accept": "text/html"})
    assert page.status_code in (200, 404)


@BOUNDED
@given(limit=st.integers(1, 8))
def test_following_the_cursors_shows_every_player_once_best_first(board, limit):
    seen, cursor = [], None
    while True:
        params = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        page = board.get("/api/v1/games/balloon/leaderboard", params=params).json()
        seen += [(entry["score"], entry["player"]["id"]) for entry in page["entries"]]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 7
    assert [score for score, _ in seen] == sorted((score for score, _ in seen), reverse=True)
