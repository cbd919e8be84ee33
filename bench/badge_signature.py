"""What checking the games list's signature costs the badge: time and heap under MicroPython.

Run with CPython: `.venv/bin/python bench/badge_signature.py`. It signs a games list the size of
a real one (RSA-2048, as the server does) and runs `micropython -X heapsize=96K` on the badge's
own firmware/signature.py. A desktop's microseconds say little about the badge's RP2040, so each
step is printed as a ratio against one sha256 of the same list, measured in the same run.
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 20

ON_THE_BADGE = """
import gc
import hashlib
import sys
import time

sys.path.insert(0, %(firmware)r)
import signature

message = open("manifest.json", "rb").read()
sig = open("signature.hex").read()
modulus = open("modulus.hex").read()


def fastest_us(step):
    best = None
    for _ in range(%(rounds)d):
        start = time.ticks_us()
        step()
        elapsed = time.ticks_diff(time.ticks_us(), start)
        best = elapsed if best is None or elapsed < best else best
    return best


def allocated(step):
    gc.collect()
    gc.disable()
    before = gc.mem_alloc()
    step()
    used = gc.mem_alloc() - before
    gc.enable()
    return used


assert signature.verify(message, sig, modulus)
assert not signature.verify(message + b" ", sig, modulus)
baseline = fastest_us(lambda: hashlib.sha256(message).digest())
verify = fastest_us(lambda: signature.verify(message, sig, modulus))
print("games list of %%d bytes, RSA-%%d" %% (len(message), len(modulus) * 4))
print("  %%-40s %%7d us  %%8.1f x sha256" %% ("sha256 of the list (baseline)", baseline, 1))
print("  %%-40s %%7d us  %%8.1f x sha256" %% ("verify the signature (sha256 included)", verify, verify / baseline))
print("  heap allocated by one verify, collector off: %%d bytes" %% allocated(lambda: signature.verify(message, sig, modulus)))
print("RATIO %%.1f" %% (verify / baseline))
"""


def games_list() -> bytes:
    """A list like the server's: eight games and two keys (just after a rotation)."""
    games = [
        {
            "id": f"game{n}",
            "title": f"Game {n}",
            "version": "1.2.0",
            "order": "higher",
            "unit": "points",
            "size": 3000 + n,
            "sha256": "%064x" % n,
        }
        for n in range(8)
    ]
    keys = [{"kid": "k" * 43, "n": "f" * 512}, {"kid": "j" * 43, "n": "e" * 512}]
    return json.dumps({"mpy": "6.3", "games": games, "keys": keys}, separators=(",", ":")).encode()


def main() -> int:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    message = games_list()
    signed = key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    with tempfile.TemporaryDirectory() as folder:
        here = Path(folder)
        (here / "manifest.json").write_bytes(message)
        (here / "signature.hex").write_text(signed.hex())
        (here / "modulus.hex").write_text(f"{key.public_key().public_numbers().n:x}")
        program = ON_THE_BADGE % {"firmware": str(ROOT / "firmware"), "rounds": ROUNDS}
        (here / "bench.py").write_text(program)
        micropython = str(Path(sys.executable).parent / "micropython")
        result = subprocess.run(
            [micropython, "-X", "heapsize=96K", "bench.py"], cwd=here, capture_output=True, text=True
        )
    if result.returncode != 0:
        print(result.stdout + result.stderr, file=sys.stderr)
        return 1
    print("\n".join(line for line in result.stdout.splitlines() if not line.startswith("RATIO")))
    print("The RP2040 (133 MHz Cortex-M0+) is not measured here: docs/badge.md estimates its time from this ratio.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
