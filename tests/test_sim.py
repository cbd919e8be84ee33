"""``arcade sim`` as a badge hacker uses it: scripts, screenshots, the heap limit, and the
e-ink screen drawn in a real terminal with keys for the buttons."""

import os
import select
import signal
import subprocess
import time
from pathlib import Path

from PIL import Image

from tests.conftest import ARCADE, run_arcade
from tests.simulator import Badge, pseudo_terminal, write_game

NO_SERVER = "http://127.0.0.1:9"


def test_a_script_with_a_mistake_is_refused_naming_the_line(badge_build, tmp_path):
    script = tmp_path / "demo.txt"
    script.write_text("wait menu\n1 a+x\n")

    result = run_arcade(
        "sim", "--build", str(badge_build), "--root", str(tmp_path / "flash"), "--script", str(script), cwd=tmp_path
    )

    assert result.returncode == 2
    assert (
        f"arcade: error: {script} line 2: unknown button 'x'; use a, b, c, up, down joined with +, or -"
        in result.stderr
    )

    script.write_text("# frames only go forward\nwait dino\n5 a\n3 -\n")
    backwards = run_arcade("sim", "--build", str(badge_build), "--script", str(script), cwd=tmp_path)
    assert f"{script} line 4: frame 3 comes before frame 5" in backwards.stderr


def test_a_build_folder_without_a_build_is_refused_saying_to_build_first(tmp_path):
    result = run_arcade("sim", "--build", str(tmp_path / "nothing"), cwd=tmp_path)

    assert result.returncode == 2
    assert "holds no build (no manifest.json); run arcade build first" in result.stderr


def test_without_build_the_simulator_runs_the_current_sources(tmp_path):
    (tmp_path / "script.txt").write_text("wait menu\nexit\n")

    result = run_arcade("sim", "--script", "script.txt", "--server", NO_SERVER, "--speed", "50", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "build" / "badge" / "manifest.json").is_file()
    assert (tmp_path / "build" / "sim" / "main.py").is_file()
    assert "games/dino.mpy" in result.stdout and "screen menu (full)" in result.stdout


def test_every_refresh_is_saved_as_a_png_of_the_panel(badge_build, tmp_path):
    shots = tmp_path / "shots"
    badge = Badge(badge_build, tmp_path / "flash", NO_SERVER)

    result = badge.play("wait menu\n1 down\n2 -\n3 b\n4 -\nwait account\nexit\n", screenshots=shots)

    assert result.returncode == 0, result.output
    names = sorted(path.name for path in shots.iterdir())
    assert names == ["0001-menu.png", "0002-menu.png", "0003-account.png"]
    menu, moved = (Image.open(shots / name) for name in names[:2])
    assert menu.size == (296, 128) and menu.mode == "1"
    assert menu.getpixel((150, 1)) == 0 and menu.getpixel((150, 20)) == 0  # the title bar, the chosen row
    assert moved.getpixel((150, 20)) == 255 and moved.getpixel((150, 36)) == 0  # DOWN moved the choice
    assert result.screens[1].kind == "partial"  # the list band only, in turbo


def test_the_heap_is_as_small_as_asked_and_a_crash_loop_stops(badge_build, tmp_path):
    badge = Badge(badge_build, tmp_path / "flash", NO_SERVER, heap="32K")

    result = badge.play("wait launcher-stopped\nexit\n")

    assert result.returncode == 0, result.output
    assert result.names() == ["launcher-crashed", "launcher-stopped"]
    crashes = [screen.text for screen in result.screens]
    assert [text.split(" | ")[0] for text in crashes] == [f"Badge Arcade crashed ({n} of 3)" for n in (1, 2, 3)]
    assert all("MemoryError" in text for text in crashes)
    assert crashes[-1].endswith("Stopped. Press A to try again.")


def in_a_terminal(arguments: list[str], cwd, columns: int = 150, lines: int = 40):
    """``arcade sim`` in a new pseudo-terminal of this size: (process, the terminal's other end)."""
    main, terminal = pseudo_terminal(columns, lines)
    process = subprocess.Popen([ARCADE, "sim", *arguments], stdin=terminal, stdout=terminal, stderr=terminal, cwd=cwd)
    os.close(terminal)
    return process, main


def read_until(main: int, text: str, seen: bytes = b"") -> bytes:
    """What the terminal shows up to ``text``; the simulator still runs."""
    while text.encode() not in seen:
        ready, _, _ = select.select([main], [], [], 30)
        assert ready, f"no {text!r} on the terminal:\n{seen.decode(errors='replace')}"
        try:
            seen += os.read(main, 65536)
        except OSError:  # the simulator ended: its side of the terminal is closed
            raise AssertionError(f"no {text!r} on the terminal:\n{seen.decode(errors='replace')}") from None
    return seen


def test_the_screen_is_drawn_in_the_terminal_keys_press_the_buttons_and_q_quits(badge_build, tmp_path):
    flash = str(tmp_path / "flash")
    process, main = in_a_terminal(
        ["--build", str(badge_build), "--root", flash, "--server", NO_SERVER, "--timeout", "60"], tmp_path
    )

    seen = read_until(main, "screen menu (full)")
    os.write(main, b"b")
    seen = read_until(main, "screen account (full)", seen)
    os.write(main, b"q")
    assert process.wait(timeout=30) == 0  # quitting is a normal end
    os.close(main)
    frame = seen.decode().split("\x1b[2J")[1].split("\r\n")[:32]
    assert [len(line) for line in frame] == 32 * [148]  # braille: 2 by 4 pixels a character
    assert all(0x2800 <= ord(char) <= 0x28FF for line in frame for char in line)
    assert frame[0].startswith("\u28ff" * 10)  # the title bar is ink


def test_a_terminal_too_small_for_the_screen_says_the_size_it_needs(badge_build, tmp_path):
    process, main = in_a_terminal(
        ["--build", str(badge_build), "--root", str(tmp_path / "flash"), "--timeout", "60"], tmp_path, 80, 24
    )

    seen = read_until(main, "--script FILE")
    assert process.wait(timeout=30) == 2
    os.close(main)
    said = " ".join(seen.decode().split())
    assert (
        "arcade: error: the terminal is 80x24 characters and the badge's screen needs 148x33: make the window larger"
        in said
    )


def test_without_a_terminal_or_a_script_the_simulator_says_why(badge_build, tmp_path):
    result = subprocess.run(
        [ARCADE, "sim", "--build", str(badge_build), "--root", str(tmp_path / "flash")],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )

    assert result.returncode == 2
    assert "arcade: error: standard input is not a terminal, so no key can press the badge's buttons" in result.stderr
    assert "or give it --script FILE" in result.stderr


CHANGING = """
TITLE = "Blink"


class Game:
    TICK_MS = 50

    def __init__(self, seed):
        self.score = {score}

    def tick(self, buttons):
        return False

    def draw(self, screen):
        return None
"""


def test_the_build_is_made_again_only_when_a_source_changed(tmp_path):
    env = write_game(tmp_path / "plugins", "blink", CHANGING.format(score=1))
    (tmp_path / "script.txt").write_text("wait menu\nexit\n")
    sim = ["sim", "--script", "script.txt", "--server", NO_SERVER, "--speed", "50"]

    first, again = (run_arcade(*sim, cwd=tmp_path, env=env) for _ in range(2))
    (tmp_path / "plugins" / "blink" / "badge.py").write_text(CHANGING.format(score=2))
    changed = run_arcade(*sim, cwd=tmp_path, env=env)

    assert [result.returncode for result in (first, again, changed)] == [0, 0, 0], changed.stderr
    assert "games/blink.mpy" in first.stdout and "built " in first.stdout
    assert "build/badge is up to date with the sources" in again.stdout and "built " not in again.stdout
    assert "games/blink.mpy" in changed.stdout and "built " in changed.stdout
    assert all("screen menu (full)" in result.stdout for result in (first, again, changed))
    (tmp_path / "build" / "badge" / "games" / "blink.mpy").write_bytes(b"damaged")  # a build not as made: made again
    assert "built " in run_arcade(*sim, cwd=tmp_path, env=env).stdout


def micropython_of(process: subprocess.Popen) -> int:
    """The pid of the badge, the micropython process ``arcade sim`` started."""
    for _ in range(300):
        for task in Path(f"/proc/{process.pid}/task").iterdir():
            for pid in (task / "children").read_text().split():
                if "micropython" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"):
                    return int(pid)
        time.sleep(0.1)
    raise AssertionError("arcade sim started no micropython")


def running(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie does not: it ended, only its status waits to be read)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def ends_with_its_badge(process: subprocess.Popen, badge: int) -> bool:
    """Whether the simulator and its badge end within a minute (both are killed if not)."""
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        pass
    for _ in range(100):
        if not running(badge):
            break
        time.sleep(0.1)
    ended = process.poll() is not None and not running(badge)
    for pid in (process.pid, badge):
        if running(pid):
            os.kill(pid, signal.SIGKILL)
    process.wait()
    return ended


def a_badge_at_its_menu_in_a_terminal(badge_build, tmp_path, timeout: str) -> tuple[subprocess.Popen, int, int]:
    """``arcade sim`` in a terminal of its own, at the menu: the process, the terminal's end and the badge's pid."""
    process, main = in_a_terminal(
        ["--build", str(badge_build), "--root", str(tmp_path / "flash"), "--server", NO_SERVER, "--timeout", timeout],
        tmp_path,
    )
    read_until(main, "screen menu (full)")
    return process, main, micropython_of(process)


def test_the_timeout_ends_the_simulator_and_its_badge_when_nobody_reads_the_terminal(badge_build, tmp_path):
    process, main, badge = a_badge_at_its_menu_in_a_terminal(badge_build, tmp_path, "20")
    os.write(main, b"a")  # Dino runs, drawing frame after frame; the test that watched it failed and reads no more
    assert ends_with_its_badge(process, badge)
    os.close(main)


def test_closing_the_terminal_ends_the_simulator_and_its_badge(badge_build, tmp_path):
    process, main, badge = a_badge_at_its_menu_in_a_terminal(badge_build, tmp_path, "600")
    os.close(main)  # the window is closed: the terminal hangs up
    assert ends_with_its_badge(process, badge)
