"""The heap the firmware's modules take once imported, on the 64-bit unix port (where every badge
test runs) and on a 32-bit MicroPython, side by side: does the unix port overstate the badge's heap?

The badge's RP2040 is 32-bit, and no 32-bit unix port can be had here, so the other side is
MicroPython's WebAssembly port (npm's ``@micropython/micropython-webassembly-pyscript``, installed
under build/ the first time), run by node. Both import the same ``.mpy`` files of ``arcade build``,
one after another, and print what each added to the live heap after a collection. ``hal`` is a
stand-in of its constants on both (the simulator's HAL reads the environment, which the
WebAssembly port lacks), and so are ``socket`` and ``ssl`` on the WebAssembly port, which has
neither (0.5 KB there, counted). The ratio is 32-bit over 64-bit: the share of a unix-port figure
the same code would take on a 32-bit port. Read the total: a row also holds the table of names
(qstr pool) allocated as its names came, which the two ports allocate at different rows.

    .venv/bin/python bench/firmware_heap.py
"""

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WASM_PACKAGE = "@micropython/micropython-webassembly-pyscript@1.27.0"
NPM_PREFIX = ROOT / "build" / "micropython-webassembly"
MODULES = ("storage", "socket", "ssl", "ui", "net", "session", "scores", "online", "login", "launcher", "getgames")
"""In the order main.py and the apps bring them in; each one's figure includes what it imports first."""

HAL = """WIDTH = 296
HEIGHT = 128
BUTTON_A, BUTTON_B, BUTTON_C, BUTTON_UP, BUTTON_DOWN = 1, 2, 4, 8, 16
UPDATE_NORMAL, UPDATE_MEDIUM, UPDATE_FAST, UPDATE_TURBO = 0, 1, 2, 3
BLACK = 0
WHITE = 15
CLOCK_SET = 1704067200
"""
STANDINS = {
    "socket.py": "SOCK_STREAM = 1\ndef socket():\n    pass\ndef getaddrinfo(*a):\n    pass\n",
    "ssl.py": "CERT_REQUIRED = 2\nPROTOCOL_TLS_CLIENT = 0\nclass SSLContext:\n    pass\n",
}
PROBE = """import gc, sys
import fakehal
sys.modules["hal"] = fakehal
gc.collect()
before = gc.mem_alloc()
for name in MODULES:
    __import__(name)
    gc.collect()
    now = gc.mem_alloc()
    print("@@module %s %d" % (name, now - before))
    before = now
"""
NODE_RUNNER = """import { loadMicroPython } from "%(module)s";
import fs from "node:fs";
const mp = await loadMicroPython({ stdout: (line) => process.stdout.write(line + "\\n") });
mp.FS.mkdir("/badge");
for (const name of fs.readdirSync("%(build)s")) {
  if (name.endsWith(".mpy") || name.endsWith(".py")) mp.FS.writeFile("/badge/" + name, fs.readFileSync("%(build)s/" + name));
}
mp.runPython('import sys\\nsys.path.insert(0, "/badge")\\n' + fs.readFileSync("%(build)s/probe.py", "utf8"));
"""


def build_firmware(out: Path) -> None:
    arcade = Path(sys.executable).with_name("arcade")
    subprocess.run([str(arcade), "build", "--out", str(out)], check=True, capture_output=True, timeout=600)
    (out / "fakehal.py").write_text(HAL)
    (out / "probe.py").write_text(f"MODULES = {list(MODULES)!r}\n" + PROBE)


def unix_port(build: Path) -> dict[str, int]:
    """Run before the stand-ins of socket and ssl are written: here they are the port's own."""
    from arcade.badge.build import find_program

    run = [find_program("micropython"), "-X", "heapsize=256K", "probe.py"]
    env = {"MICROPYPATH": f".frozen:{build}"}  # .frozen: the port's own ssl, over its tls
    return _figures(
        subprocess.run(run, cwd=build, env=env, capture_output=True, text=True, timeout=120, check=True).stdout
    )


def webassembly_port(build: Path) -> dict[str, int]:
    package = NPM_PREFIX / "node_modules" / "@micropython" / "micropython-webassembly-pyscript"
    if not (package / "micropython.mjs").exists():
        npm = shutil.which("npm")
        if not npm or not shutil.which("node"):
            raise SystemExit("bench/firmware_heap.py needs node and npm (apt-get install nodejs npm)")
        options = ["--no-save", "--no-package-lock", "--no-audit", "--no-fund", "--prefix", str(NPM_PREFIX)]
        subprocess.run([npm, "install", *options, WASM_PACKAGE], check=True, capture_output=True, timeout=300)
    for name, text in STANDINS.items():
        (build / name).write_text(text)
    runner = build / "probe.mjs"
    runner.write_text(NODE_RUNNER % {"module": (package / "micropython.mjs").as_uri(), "build": build})
    return _figures(
        subprocess.run(["node", str(runner)], capture_output=True, text=True, timeout=120, check=True).stdout
    )


def _figures(output: str) -> dict[str, int]:
    figures = {}
    for line in output.splitlines():
        if line.startswith("@@module "):
            _, name, size = line.split()
            figures[name] = int(size)
    if list(figures) != list(MODULES):
        raise SystemExit(f"the probe did not import every module:\n{output}")
    return figures


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        build = Path(folder) / "badge"
        build_firmware(build)
        unix = unix_port(build)
        wasm = webassembly_port(build)
    print(f"{'module':<10} {'unix, 64-bit':>13} {'wasm, 32-bit':>13} {'ratio':>6}")
    for name in MODULES:
        ratio = f"{wasm[name] / unix[name]:.2f}" if unix[name] else "-"
        print(f"{name:<10} {unix[name] / 1024:>10.1f} KB {wasm[name] / 1024:>10.1f} KB {ratio:>6}")
    total_unix, total_wasm = sum(unix.values()), sum(wasm.values())
    print(f"{'all':<10} {total_unix / 1024:>10.1f} KB {total_wasm / 1024:>10.1f} KB {total_wasm / total_unix:>6.2f}")


if __name__ == "__main__":
    main()
