"""The badge when things break, under the real MicroPython unix port against a real server:
a server in trouble or answering garbage, a line that drops or hangs, an expired access token,
a refused refresh token, a full flash, damaged files on the flash. Each time the player sees
what happened and what to do, the score waits (and is sent, once, when the fault is gone),
and the launcher never crashes.

What the arcade cannot be made to do on cue (answer 500, garble its JSON, hang up half-way) a
FaultyServer in front of it does (tests/faults.py). A server that is down altogether is in
test_firmware_scores.py (offline, then sent once the server is back).
"""

import shutil

from tests.simulator import Badge

CRASHED = {"launcher-crashed", "launcher-stopped", "game-crashed"}
PLAY = "wait menu\n1 a\n2 -\nwait dino\n30 a\n33 -\nwait result\n"


def never_crashed(result) -> None:
    assert result.returncode == 0, result.output
    assert not CRASHED & set(result.names()), result.output
    assert "Traceback" not in result.output, result.output


def test_a_damaged_game_module_or_one_the_build_did_not_make_is_refused_and_a_good_copy_plays(badge_build, tmp_path):
    game = "games/dino.mpy"
    good = (badge_build / game).read_bytes()
    versions = {
        "cut short": good[: len(good) // 2],  # a copy that stopped half-way: importing it hangs the VM
        "another module": (badge_build / "games" / "maze.mpy").read_bytes(),  # sound, but not what the build made
    }
    root = tmp_path / "flash"
    for version in versions.values():
        build = tmp_path / "badge"
        shutil.rmtree(build, ignore_errors=True)
        shutil.copytree(badge_build, build)
        (build / game).write_bytes(version)

        result = Badge(build, root, "http://127.0.0.1:9").play(
            "wait menu\n1 a\n2 -\nwait game-error\n1 a\n2 -\nwait menu\nexit\n", timeout=30
        )

        never_crashed(result)
        said = result.last("game-error").said
        assert "games/dino.mpy is damaged: it is not the file the build made." in said
        assert "Copy the build again with arcade deploy." in said

    result = Badge(badge_build, root, "http://127.0.0.1:9").play(PLAY + "exit\n")  # copied again

    never_crashed(result)
    assert result.names()[-2:] == ["dino", "result"]
