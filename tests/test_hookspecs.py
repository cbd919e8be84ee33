"""Every hook is documented and exercised by a test (in the manner of datasette's test)."""

import inspect
from pathlib import Path

import pytest

from arcade.sdk import hookspecs

HOOKS = [name for name, _ in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("arcade_")]
TESTS = Path(__file__).parent
OTHER_TEST_SOURCES = "\n".join(
    path.read_text() for path in TESTS.rglob("*.py") if path.name != Path(__file__).name
)


def test_the_design_hooks_are_all_declared():
    assert set(HOOKS) == {
        "arcade_register_games",
        "arcade_identity_provider",
        "arcade_store",
        "arcade_routes",
        "arcade_score_accepted",
        "arcade_startup",
        "arcade_shutdown",
    }


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_documentation(hook):
    doc = inspect.getdoc(getattr(hookspecs, hook)) or ""
    assert len(doc) > 60, f"{hook} needs a docstring that documents it"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_exercised_by_a_test(hook):
    assert hook in OTHER_TEST_SOURCES, f"no test implements or calls {hook}"
