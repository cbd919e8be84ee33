"""Scoring: replaying a run with the game's own rules, under CPython or MicroPython."""
