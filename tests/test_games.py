"""The rules of Maze and 2048, as a player meets them through the buttons."""

from arcade.games.maze import badge as maze
from arcade.games.tiles import badge as tiles

from tests.runs import UP, A, B, C, maze_path, maze_routes, maze_ways


def press(game, *buttons) -> bool:
    """Each button pressed for a tick and released for one; answers whether the game goes on."""
    alive = True
    for button in buttons:
        alive = game.tick(button) and game.tick(0)
    return alive


def test_every_maze_has_exactly_one_way_between_any_two_cells():
    for seed in range(20):
        walls = maze.Game(seed).walls
        ways = sum(len(list(maze_ways(walls, cell))) for cell in range(maze.CELLS)) // 2
        assert len(maze_routes(walls)) == maze.CELLS  # every cell can be reached...
        assert ways == maze.CELLS - 1  # ...and a connected maze with this few ways has no loop


def test_the_seed_decides_the_maze():
    assert maze.Game(4).walls == maze.Game(4).walls != maze.Game(5).walls


def test_walking_the_way_out_scores_its_steps_and_ends_the_game():
    path = maze_path(8)
    game = maze.Game(8)
    assert press(game, *path[:-1])
    assert not game.tick(path[-1])
    assert game.score == len(path)


def test_a_wall_stops_the_player_and_costs_no_step():
    game = maze.Game(1)
    press(game, UP, A)  # the outer wall, above and left of the start
    assert (game.cell, game.score) == (0, 0)


def test_each_press_is_one_step_however_long_it_is_held():
    direction = maze_path(3)[0]
    game = maze.Game(3)
    for _ in range(30):
        game.tick(direction)
    assert game.score == 1
    game.tick(0)
    game.tick(maze_path(3)[1])
    assert game.score == 2


def tiles_with(*rows: str) -> tiles.Game:
    """A 2048 board from rows like "2 2 . 4" (powers of two, . for empty)."""
    game = tiles.Game(1)
    values = [0 if word == "." else int(word).bit_length() - 1 for row in rows for word in row.split()]
    game.cells[:] = bytes(values)
    return game


def board(game: tiles.Game) -> list[str]:
    cells = ["." if tile == 0 else str(1 << tile) for tile in game.cells]
    return [" ".join(cells[row * 4 : row * 4 + 4]) for row in range(4)]


def test_sliding_merges_each_pair_once_and_scores_the_new_tiles():
    game = tiles_with("2 2 2 2", "4 4 8 .", ". . . .", ". . . .")
    press(game, A)
    assert board(game)[:2] == ["4 4 . .", "8 8 . ."]
    assert game.score == 4 + 4 + 8
    assert sum(tile > 0 for tile in game.cells) == 5  # four merged tiles and one new


def test_a_move_that_moves_nothing_adds_no_tile():
    game = tiles_with("2 . . .", "4 . . .", ". . . .", ". . . .")
    press(game, A, UP)
    assert board(game) == ["2 . . .", "4 . . .", ". . . .", ". . . ."]


def test_the_game_is_over_when_no_move_is_left():
    game = tiles_with("8 16 8 16", "16 8 16 8", "8 16 8 16", "128 256 128 .")
    assert not game.tick(C)  # the last row slides right, a tile fills the gap, nothing can merge
    assert board(game)[3].split()[1:] == ["128", "256", "128"]
    assert game.score == 0


def test_b_stops_the_game_and_keeps_the_score():
    game = tiles_with("2 2 . .", ". . . .", ". . . .", ". . . .")
    press(game, C)
    assert game.score == 4
    assert not game.tick(B)
    assert game.score == 4


class Panel:
    """Records where text lands, with the simulated badge's 8-pixel glyphs."""

    def __init__(self):
        self.texts = []

    def text(self, text, x, y, scale=1):
        self.texts.append((text, x, y, scale))

    def measure_text(self, text, scale=1):
        return len(text) * 8 * scale

    def set_pen(self, pen):
        pass

    def clear(self):
        pass

    def rectangle(self, x, y, w, h):
        pass


def test_each_tiles_value_is_drawn_inside_it_large_while_it_has_two_digits():
    game = tiles.Game(1)
    for first in (1, 2):  # every tile from 2 to 131072, the most a 4 by 4 board can make
        game.cells[:] = bytes(range(first, first + 16))
        panel = Panel()
        game.draw(panel)
        for cell, (label, x, y, scale) in enumerate(panel.texts[:16]):
            left, top = tiles.LEFT + cell % 4 * tiles.CELL_W, tiles.TOP + cell // 4 * tiles.CELL_H
            value = 1 << game.cells[cell]
            assert label == (str(value) if value < 10_000 else f"{value >> 10}K")
            assert scale == (2 if value < 100 else 1), label
            assert left + 3 <= x and x + len(label) * 8 * scale <= left + tiles.CELL_W - 3, label
            assert top + 3 <= y and y + 8 * scale <= top + tiles.CELL_H - 3, label
