"""What the badge's QR encoder costs for the longest login URL: time and heap.

Run under MicroPython: `micropython -X heapsize=96K bench/qr.py`.  A desktop's time in
microseconds says little about the badge's RP2040, so each step is printed as a ratio against
building the codewords alone (data and Reed-Solomon bytes), measured in the same run.
Heap is what one encode allocates with the collector off: an upper bound on its peak.
"""

import gc
import sys
import time

_here = __file__.rsplit("/", 1)
sys.path.insert(0, (_here[0] if len(_here) == 2 else ".") + "/../firmware")

import qr  # noqa: E402  (firmware/qr.py, ahead of this file on the path)

URL = "https://arcade.example.org:8443/device?user_code=BCDF-GHJK&client_id=badger2040w&scope=openid+scores"
ROUNDS = 20


def fastest_us(step):
    """The best of several runs: the least disturbed by other work on the machine."""
    best = None
    for _ in range(ROUNDS):
        start = time.ticks_us()
        step()
        elapsed = time.ticks_diff(time.ticks_us(), start)
        if best is None or elapsed < best:
            best = elapsed
    return best


def allocated_bytes(step):
    gc.collect()
    gc.disable()
    before = gc.mem_alloc()
    step()
    used = gc.mem_alloc() - before
    gc.enable()
    return used


def kept_bytes():
    """What a finished QR code holds on to while the login screen shows it."""
    gc.collect()
    before = gc.mem_alloc()
    code = qr.QRCode()
    code.set_text(URL)
    gc.collect()
    return gc.mem_alloc() - before


def main():
    data = URL.encode()
    version, ecc = qr._fit(len(data), qr.ECC_MEDIUM)
    chosen = qr.QRCode()
    given = qr.QRCode(mask=qr.MASK_0)
    steps = (
        ("codewords (data + Reed-Solomon)", lambda: qr._codewords(data, version, ecc)),
        ("encode with a given mask", lambda: given.set_text(URL)),
        ("encode, best of 8 masks", lambda: chosen.set_text(URL)),
    )
    print("QR code for a %d-character URL: version %d, %d modules a side" % (len(URL), version, 4 * version + 17))
    baseline = None
    for name, step in steps:
        us = fastest_us(step)
        baseline = baseline or us
        print("  %-32s %7d us  %6.1f x codewords" % (name, us, us / baseline))
    print("  heap allocated by one encode, collector off: %d bytes" % allocated_bytes(lambda: chosen.set_text(URL)))
    print("  heap kept by the finished code: %d bytes" % kept_bytes())


main()
