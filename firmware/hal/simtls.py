"""The heap a TLS connection takes on the badge, held by the simulator while one is open.

On a Badger 2040 W, MicroPython's mbedtls allocates from the MicroPython heap: the incoming
record buffer, 16 KB and its header in one block, then the outgoing buffer, the handshake's
state and the server's certificate chain in smaller pieces, some 34 KB in all until the
socket closes. The unix port's mbedtls allocates with malloc, outside the heap that
``-X heapsize`` bounds, so the simulator takes as much of its heap itself, in the same shapes: a
heap too full or too fragmented for the 16 KB block fails here as the badge's handshake would.
The live heap with the connection's share in it is reported (``@@heap``) as it opens and as it
closes, for ``arcade sim``.
"""

import gc
import sys

RECORD_BLOCK = 16 * 1024 + 600
"""MBEDTLS_SSL_IN_CONTENT_LEN (16 KB) with the record's header, IV and MAC room: one block."""
PIECES = 18
PIECE = 1024
"""The rest: the 4 KB outgoing buffer, the handshake, the peer's certificates, the bignums."""


def hold_tls_heap():
    """The connection's share of the heap, held until the caller drops it."""
    held = [bytearray(RECORD_BLOCK)]
    for _ in range(PIECES):
        held.append(bytearray(PIECE))
    report_heap()
    return held


def report_heap():
    """The live heap, for ``arcade sim``'s peaks: when the connection opens, and again when it
    closes, its answer read beside TLS's share (the peak of a request)."""
    gc.collect()
    sys.stdout.write("@@heap %d\n" % gc.mem_alloc())
