"""A player on the simulated badge, at its keyboard: chooses each of the three games from the
menu, plays it (reading the maze off the screen to find the way out), and finds every score
on its own leaderboard page."""

import os
import re
import select
import subprocess
import time
from collections import deque

import httpx
from arcade.games.maze import badge as maze
from PIL import Image

from tests.conftest import ARCADE
from tests.runs import DOWN, UP, A, B, C, maze_way_out
from tests.simulator import pseudo_terminal
from tests.test_firmware_scores import logged_in_badge

KEYS = {A: b"a", B: b"b", C: b"c", UP: b"u", DOWN: b"d"}
SCREEN_LINE = re.compile(r"screen (\S+) \((full|partial)\): ([^\r\n]*)\r?\n")


class Player:
    """Sits at `arcade sim` in a terminal: reads the screens it reports, types the buttons."""

    def __init__(self, build, root, server, screenshots, options=()):
        """``options``: more for `arcade sim`."""
        self.screenshots = screenshots
        main, terminal = pseudo_terminal()
        self.process = subprocess.Popen(
            [ARCADE, "sim", "--build", str(build), "--root", str(root), "--server", server,
             "--speed", "10", "--screenshots", str(screenshots), "--timeout", "240", *options],
            stdin=terminal, stdout=terminal, stderr=terminal, cwd=root.parent,
        )
        os.close(terminal)
        self.terminal = main
        self.unread = ""  # what the terminal showed after the last screen line read
        self.recent = deque(maxlen=10)

    def next_screen(self) -> tuple[str, str, str]:
        """The next screen refresh: (name, full or partial, its texts joined with " | ")."""
        while not (line := SCREEN_LINE.search(self.unread)):
            ready, _, _ = select.select([self.terminal], [], [], 60)
            try:
                self.unread += os.read(self.terminal, 65536).decode(errors="replace") if ready else ""
            except OSError:  # the simulator has exited
                ready = False
            assert ready, "the badge stopped answering; its last screens:\n" + "\n".join(map(str, self.recent))
        self.unread = self.unread[line.end() :]
        self.recent.append(line.groups())
        return line.groups()

    def wait_for(self, name: str, text: str = "") -> str:
        while True:
            screen, _, texts = self.next_screen()
            if screen == name and text in texts:
                return texts

    def changed(self, name: str, texts: str) -> str:
        """The texts of the next refresh of ``name`` that shows something else than ``texts``."""
        while True:
            shown = self.wait_for(name)
            if shown != texts:
                return shown

    def press(self, button: int) -> None:
        os.write(self.terminal, KEYS[button])

    def dismiss_result(self) -> None:
        """A as a player reads the score: after the result's first second (0.1 s at --speed 10),
        which ignores presses so mashing A does not start the next run. A busy host stretches that
        second (the badge's clock counts its sleeps, not the host's oversleeping), so a press that
        changed nothing in 10 s fell inside it, and the player presses again."""
        time.sleep(0.2)
        self.press(A)
        while not self.refreshes_within(10):
            self.press(A)

    def refreshes_within(self, seconds: float) -> bool:
        """Whether the badge refreshes its screen within ``seconds`` (the refresh is left unread)."""
        deadline = time.monotonic() + seconds
        while not SCREEN_LINE.search(self.unread):
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.terminal], [], [], max(left, 0))
            if not ready:
                return False
            self.unread += os.read(self.terminal, 65536).decode(errors="replace")
        return True

    def quit(self) -> None:
        os.write(self.terminal, b"q")
        self.process.wait(timeout=30)
        os.close(self.terminal)

    def panel(self) -> Image.Image:
        """The panel as last refreshed, from the screenshot the simulator saved."""
        return Image.open(max(self.screenshots.iterdir()))


def walls_on(panel: Image.Image) -> bytearray:
    """The maze's walls as read off the screen: ink in the middle of a cell's side."""

    def ink(x, y):
        return panel.getpixel((x, y)) == 0

    walls = bytearray(maze.CELLS)
    for cell in range(maze.CELLS):
        left = maze.LEFT + cell % maze.COLS * maze.CELL
        top = maze.TOP + cell // maze.COLS * maze.CELL
        east = ink(left + maze.CELL, top + maze.CELL // 2)
        south = ink(left + maze.CELL // 2, top + maze.CELL)
        walls[cell] = (maze.EAST if east else 0) | (maze.SOUTH if south else 0)
    return walls


def score_on(result: str) -> int:
    return int(result.split(" | ")[2].split()[0])


def leaderboard_rows(server, game: str) -> list[tuple[str, str, str]]:
    html = httpx.get(f"{server.url}/games/{game}").text
    return re.findall(r'class="rank">(\d+)</td>.*?class="name">([^<]+)<.*?class="score">(\d+)', html, re.S)


def test_a_player_plays_the_three_games_and_finds_each_score_on_its_leaderboard(badge_build, server, tmp_path):
    logged_in_badge(badge_build, tmp_path / "flash", server, server.token("ada"))
    player = Player(badge_build, tmp_path / "flash", server.url, tmp_path / "shots")
    scores = {}

    def choose(*buttons: int) -> None:
        """From the menu: move to a game and start it."""
        player.wait_for("menu")
        for button in buttons:
            player.press(button)
            player.wait_for("menu")
        player.press(A)

    def result(title: str) -> int:
        shown = player.wait_for("result", "Rank #1")
        assert shown.startswith(f"{title} | Score")
        player.dismiss_result()
        return score_on(shown)

    choose(DOWN)  # Maze, below Dino
    shown = player.wait_for("maze")
    path = maze_way_out(walls_on(player.panel()))
    for step, button in enumerate(path[:-1], 1):
        player.press(button)
        shown = player.changed("maze", shown)
        assert f"steps | {step} |" in shown, (step, shown)
    player.press(path[-1])
    scores["maze"] = result("Maze")
    assert scores["maze"] == len(path)

    choose(DOWN)  # 2048, below Maze
    for button in [UP, A, DOWN, C] * 3 + [B]:  # a few moves, then B to stop and keep the score
        player.wait_for("tiles")
        player.press(button)
    scores["tiles"] = result("2048")

    choose(UP, UP)  # Dino, at the top; the runner never jumps and meets the first cactus
    scores["dino"] = result("Dino")
    player.wait_for("menu")
    player.quit()

    for game, score in scores.items():
        assert leaderboard_rows(server, game) == [("1", "ada", str(score))], game
