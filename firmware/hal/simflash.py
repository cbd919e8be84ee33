"""A nearly full flash for the simulator: state/ on littlefs, the badge's own filesystem, in the
image ``state.lfs`` of the simulator's folder, filled until only so many bytes are left. The
firmware's writes then fail (OSError ENOSPC) where and as they fail on a badge whose flash is
full. Loaded only when ``arcade sim --flash-free`` asks for it.
"""

import os
import sys

import vfs

FLASH_IMAGE = "state.lfs"
FLASH_BLOCK = 4096  # the RP2040's flash sector, littlefs's block on a badge
FLASH_BLOCKS = 64


class _Blocks:
    """A block device for littlefs, kept in a file of the simulator's folder."""

    def __init__(self, path):
        try:
            self._file = open(path, "r+b")
            self.made = False
        except OSError:
            self._file = open(path, "w+b")
            erased = b"\xff" * FLASH_BLOCK
            for _ in range(FLASH_BLOCKS):
                self._file.write(erased)
            self.made = True

    def readblocks(self, block, buffer, offset=0):
        self._file.seek(block * FLASH_BLOCK + offset)
        self._file.readinto(buffer)

    def writeblocks(self, block, buffer, offset=0):
        self._file.seek(block * FLASH_BLOCK + offset)
        self._file.write(buffer)

    def ioctl(self, op, arg):
        if op == 4:  # the block count
            return FLASH_BLOCKS
        if op == 5:  # the block size
            return FLASH_BLOCK
        return 0  # init, deinit, sync and erase need nothing here


def mount(free):
    """Mounts state/ on littlefs in FLASH_IMAGE. A new image gets what state/ holds on the host,
    then filler files until ``free`` bytes are left; an image from an earlier run is kept as it
    is. The simulator's folder becomes the root, as the flash is on a badge."""
    blocks = _Blocks(FLASH_IMAGE)
    if blocks.made:
        vfs.VfsLfs2.mkfs(blocks)
    flash = vfs.VfsLfs2(blocks)
    if blocks.made:
        _copy_into(flash, "state", "")
        _fill(flash, free)
    root = os.getcwd()
    vfs.umount("/")
    vfs.mount(vfs.VfsPosix(root), "/")
    vfs.mount(flash, "/state")
    os.chdir("/")
    sys.path[:] = ["" if entry == root else entry for entry in sys.path]


def _copy_into(flash, source, target):
    try:
        entries = list(os.ilistdir(source))
    except OSError:  # no state/ yet
        return
    buffer = bytearray(512)
    for entry in entries:
        name, kind = entry[0], entry[1]
        if kind == 0x4000:
            flash.mkdir(target + "/" + name)
            _copy_into(flash, source + "/" + name, target + "/" + name)
            continue
        with open(source + "/" + name, "rb") as original, flash.open(target + "/" + name, "wb") as copy:
            while True:
                count = original.readinto(buffer)
                if not count:
                    break
                copy.write(memoryview(buffer)[:count])


def _fill(flash, free):
    """Writes filler files, a block each, until the flash is full; then removes enough for ``free``."""
    block = bytearray(FLASH_BLOCK)
    count = 0
    while True:
        try:
            with flash.open("/filler-%d" % count, "wb") as filler:
                filler.write(block)
        except OSError:  # full
            break
        count += 1
    for number in range(min(count, (free + FLASH_BLOCK - 1) // FLASH_BLOCK)):
        flash.remove("/filler-%d" % (count - 1 - number))
