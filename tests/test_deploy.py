"""``arcade deploy`` without a badge: the one mpremote command it would run, and its refusals.
(Copying to a real badge is described step by step in docs/badge.md.)"""

import ast
import base64
import json
import os
import re
import shlex
import sys
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from tests.certificates import make_certificates
from tests.conftest import ROOT, run_arcade

BADGE_SERVER = "http://192.168.1.20:8000"


def b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_the_dry_run_shows_the_mpremote_command_that_installs_the_build(badge_build, tmp_path):
    before = time.time()
    result = run_arcade("deploy", "--build", str(badge_build), "--server", BADGE_SERVER, "--dry-run", cwd=tmp_path)
    after = time.time()

    assert result.returncode == 0, result.stderr
    command = shlex.split(result.stdout)
    assert command[:4] == ["mpremote", "connect", "auto", "exec"]
    setup = command[4]
    keys = json.loads((tmp_path / "arcade-data" / "badge-signing-keys.json").read_text())["keys"]
    assert "os.mkdir(folder)" in setup
    config = json.loads(ast.literal_eval(re.search(r"file\.write\(('[^']+')\)", setup).group(1)))
    assert config.pop("games_keys") == [{"kid": keys[0]["kid"], "n": f"{int.from_bytes(b64(keys[0]['n'])):x}"}]
    # lists signed before the deploy (one 30 s signing window of leeway for the server's clock) are refused
    assert int(before) // 30 * 30 - 30 <= config.pop("games_since") <= int(after) // 30 * 30 - 30
    assert config == {"server": BADGE_SERVER}
    assert "remove('state/games')" in setup  # the games got over the air give way to the build's
    steps = [step.split() for step in " ".join(command[5:]).split("+") if step.strip()]
    copies = [step for step in steps if step[:2] == ["fs", "cp"]]
    manifest = json.loads((badge_build / "manifest.json").read_text())
    simulator = ("hal/sim.mpy", "hal/simflash.mpy", "hal/simtls.mpy")
    expected = [entry["path"] for entry in manifest["files"] if entry["path"] not in simulator] + ["manifest.json"]
    assert [(Path(source), target) for _, _, source, target in copies] == [
        (badge_build / path, f":{path}") for path in expected
    ]
    assert steps[-1] == ["reset"]
    assert not any("state" in " ".join(step) for step in steps)  # the badge's session and queued scores stay
    assert "os.remove('ca.der')" in setup  # no --ca: no certificate of an earlier deploy lingers
    assert f"warning: {BADGE_SERVER} is plain http: anyone on the badge's Wi-Fi can read its tokens" in result.stderr


def test_with_ca_the_badge_gets_the_certificates_in_der_and_https_needs_them(badge_build, tmp_path):
    first, second = make_certificates(tmp_path / "one"), make_certificates(tmp_path / "two")
    bundle = tmp_path / "both.pem"
    bundle.write_bytes(first.ca_file.read_bytes() + second.ca_file.read_bytes())
    server = "https://arcade.example.org"

    refused = run_arcade("deploy", "--build", str(badge_build), "--server", server, "--dry-run", cwd=tmp_path)
    result = run_arcade(
        "deploy", "--build", str(badge_build), "--server", server, "--ca", str(bundle), "--dry-run", cwd=tmp_path
    )

    assert refused.returncode == 2
    assert (
        f"--server {server} is https, and the badge trusts no certificate to check it with: add --ca FILE"
        in refused.stderr
    )
    assert result.returncode == 0, result.stderr
    assert "plain http" not in result.stderr
    setup = shlex.split(result.stdout)[4]
    written = base64.b64decode(re.search(r"a2b_base64\('([^']+)'\)", setup).group(1))
    expected = b"".join(
        x509.load_pem_x509_certificate(files.ca_file.read_bytes()).public_bytes(Encoding.DER)
        for files in (first, second)
    )
    assert written == expected and "open('ca.der', 'wb')" in setup


def test_a_ca_file_that_holds_no_certificate_is_refused_saying_what_to_give(badge_build, tmp_path):
    files = make_certificates(tmp_path / "certs")
    arguments = ["deploy", "--build", str(badge_build), "--server", "https://arcade.example.org", "--dry-run"]

    key = run_arcade(*arguments, "--ca", str(files.key_file), cwd=tmp_path)
    missing = run_arcade(*arguments, "--ca", str(tmp_path / "nothing.pem"), cwd=tmp_path)

    assert key.returncode == 2 and f"--ca {files.key_file}: holds no certificate; give the CA certificate" in key.stderr
    assert missing.returncode == 2 and "nothing.pem: cannot be read (No such file or directory)" in missing.stderr


def test_a_loopback_server_is_refused_because_the_badge_cannot_reach_it(badge_build, tmp_path):
    result = run_arcade(
        "deploy", "--build", str(badge_build), "--server", "http://127.0.0.1:8000", "--dry-run", cwd=tmp_path
    )

    assert result.returncode == 2
    assert "the badge cannot reach http://127.0.0.1:8000: that address is this computer's loopback" in result.stderr
    assert "--public-url http://<this computer's LAN address>:8000) and pass that URL as --server" in result.stderr


def test_without_mpremote_the_deploy_says_how_to_install_it(badge_build, tmp_path):
    if (Path(sys.executable).parent / "mpremote").exists():
        pytest.skip("mpremote is installed here")
    result = run_arcade(
        "deploy", "--build", str(badge_build), "--server", BADGE_SERVER, cwd=tmp_path, env={"PATH": os.defpath}
    )

    assert result.returncode == 2
    assert "arcade: error: mpremote is not installed; install it with: pip install mpremote" in result.stderr


def test_deploying_before_building_says_to_build_first(tmp_path):
    result = run_arcade("deploy", "--build", str(tmp_path / "none"), "--server", BADGE_SERVER, cwd=ROOT)

    assert result.returncode == 2
    assert "holds no build (no manifest.json); run arcade build first" in result.stderr
