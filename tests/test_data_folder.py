"""The data folder holds the signing key: it is made this user's alone, and one that other users
could write in is refused before anything is read from it."""

import stat

from tests.conftest import run_arcade


def test_a_new_data_folder_is_readable_by_its_owner_alone(tmp_path):
    result = run_arcade("token", "--player", "ada", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE((tmp_path / "arcade-data").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "arcade-data" / "signing-keys.json").stat().st_mode) == 0o600


def test_a_data_folder_others_can_write_in_is_refused_and_left_as_it_is(tmp_path):
    folder = tmp_path / "arcade-data"
    folder.mkdir()
    folder.chmod(0o777)

    result = run_arcade("serve", "--port", "0", cwd=tmp_path)

    assert result.returncode == 2
    assert "can be written by other users (mode 777)" in result.stderr and "chmod 700 arcade-data" in result.stderr
    assert list(folder.iterdir()) == []  # no key was made where someone else could swap it
    assert stat.S_IMODE(folder.stat().st_mode) == 0o777
