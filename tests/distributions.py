"""Make real (unpacked) distributions with `arcade` entry points, found by importlib.metadata.

A folder on PYTHONPATH holding ``name.py`` and ``name-1.0.dist-info/`` is exactly how an
installed third-party plugin looks to the plugin loader.
"""

import os
import textwrap
from pathlib import Path


def make_plugin(folder: Path, name: str, source: str, version: str = "1.0") -> dict:
    """Write module ``name`` and its dist-info; answer the environment that puts it on the path."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.py").write_text(textwrap.dedent(source))
    info = folder / f"{name.replace('_', '-')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name.replace('_', '-')}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[arcade]\n{name} = {name}\n")
    paths = [str(folder), os.environ.get("PYTHONPATH", "")]
    return {"PYTHONPATH": os.pathsep.join(path for path in paths if path)}
