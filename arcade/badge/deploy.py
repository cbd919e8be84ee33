"""``arcade deploy``: copies a build onto a badge over USB with the ``mpremote`` command.

One mpremote call does it all: make the folders, write ``config.json`` (the server the
badge talks to, the public keys games over the air are signed with, and the deploy's date, before
which no games list is taken), copy every file of the build's manifest, and reset the badge so it boots
into the launcher. The badge's ``state/`` (session, queued scores) is left alone, but for the
games it got over the air: the build's own are installed in their place.
With ``--ca`` it also writes ``ca.der``, the certificates the badge checks https servers with
(arcade.badge.trust); without, it removes an earlier one.
"""

import base64
import ipaddress
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from arcade.badge import trust
from arcade.badge.build import BuildError, check_files, find_program, read_manifest
from arcade.badge.catalog import deployed_since
from arcade.sdk.errors import ArcadeError

SIM_ONLY = {"hal/sim.mpy", "hal/simflash.mpy", "hal/simtls.mpy"}
GAMES_OVER_THE_AIR = "state/games"
"""Where the badge keeps the games it got over the air: a deploy installs the build's games
instead (the badge gets the others again from "Get games")."""


class DeployError(ArcadeError):
    """The deploy cannot go on; the message says what to fix."""


def check_server(url: str, trusted: bytes = b"", warn=print) -> str:
    """The server URL a badge can reach: http(s), and not this computer's loopback address; an
    https one only with certificates to check it (``trusted``), plain http with a warning."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DeployError(f"--server {url!r} is not an http:// or https:// URL")
    host = parts.hostname
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name
        loopback = False
    if loopback:
        raise DeployError(
            f"the badge cannot reach {url}: that address is this computer's loopback. Serve on the "
            "network (arcade serve --host 0.0.0.0 --public-url http://<this computer's LAN address>:8000) "
            "and pass that URL as --server"
        )
    if parts.scheme == "https" and not trusted:
        raise DeployError(
            f"--server {url} is https, and the badge trusts no certificate to check it with: add --ca FILE, "
            "the CA certificate that signed the server's (or the server's own self-signed one)"
        )
    if parts.scheme == "http":
        warn(
            f"warning: {url} is plain http: anyone on the badge's Wi-Fi can read its tokens and pose as the "
            "server. Serve https and deploy with --ca FILE (docs/badge.md, TLS)"
        )
    return url.rstrip("/")


def badge_config(server: str, games_keys: list[dict], now: float) -> dict:
    """The badge's ``config.json`` as a deploy at ``now`` writes it: the server, the keys games over
    the air are signed with, and ``games_since``, the oldest date of a games list the badge takes (a
    badge that checked none, its clock never set, would take any list the arcade ever signed)."""
    return {"server": server, "games_keys": games_keys, "games_since": deployed_since(now)}


def mpremote_arguments(
    build: Path, server: str, games_keys: list[dict], device: str = "auto", trusted: bytes = b""
) -> list[str]:
    """The arguments of the one mpremote call that installs ``build`` on the badge, trusting
    ``games_keys`` (the public halves of the arcade's badge keys) for games over the air; ``trusted``: the
    DER certificates for ``ca.der`` (none: an earlier ``ca.der`` is removed)."""
    manifest = read_manifest(build)
    check_files(build, manifest)
    paths = [entry.path for entry in manifest.files if entry.path not in SIM_ONLY] + ["manifest.json"]
    folders = sorted({str(Path(path).parent) for path in paths} - {"."})
    config = json.dumps(badge_config(server, games_keys, time.time()))
    setup = (
        "import os\n"
        f"for folder in {folders!r}:\n"
        "    try:\n"
        "        os.mkdir(folder)\n"
        "    except OSError:\n"
        "        pass\n"
        f"with open('config.json', 'w') as file:\n"
        f"    file.write({config!r})\n"
        "def remove(path):\n"
        "    try:\n"
        "        entries = list(os.ilistdir(path))\n"
        "    except OSError:\n"
        "        try:\n"
        "            os.remove(path)\n"
        "        except OSError:\n"
        "            pass\n"
        "        return\n"
        "    for entry in entries:\n"
        "        remove(path + '/' + entry[0])\n"
        "    os.rmdir(path)\n"
        f"remove({GAMES_OVER_THE_AIR!r})\n"
    )
    if trusted:
        setup += (
            "import binascii\n"
            f"with open({trust.ON_BADGE!r}, 'wb') as file:\n"
            f"    file.write(binascii.a2b_base64({base64.b64encode(trusted).decode()!r}))\n"
        )
    else:
        setup += f"try:\n    os.remove({trust.ON_BADGE!r})\nexcept OSError:\n    pass\n"
    arguments = ["connect", device, "exec", setup]
    for path in paths:
        arguments += ["+", "fs", "cp", str(build / path), f":{path}"]
    return arguments + ["+", "reset"]


def deploy(
    build: Path,
    server: str,
    games_keys: list[dict],
    device: str = "auto",
    dry_run: bool = False,
    ca_files=(),
    progress=print,
    warn=None,
) -> int:
    """Installs the build (or, with ``dry_run``, prints the mpremote command that would)."""
    trusted = trust.read_certificates(list(ca_files))
    server = check_server(server, trusted, warn or (lambda text: print(text, file=sys.stderr)))
    arguments = mpremote_arguments(build, server, games_keys, device, trusted)
    if dry_run:
        progress(shlex.join(["mpremote", *arguments]))
        return 0
    try:
        mpremote = find_program("mpremote", "install it with: pip install mpremote")
    except BuildError as error:
        raise DeployError(str(error)) from None
    progress(f"copying {build} to the badge on {device} with mpremote...")
    status = subprocess.run([mpremote, *arguments]).returncode
    if status != 0:
        raise DeployError(
            f"mpremote failed with exit status {status}; is the badge plugged in by USB and no other "
            f"program (Thonny, a serial console) holding its port? List ports with: mpremote connect list"
        )
    progress("done: the badge restarts into Badge Arcade")
    return 0
