"""QR Code encoder in pure MicroPython, a stand-in for the native `qrcode` module.

Pimoroni's Badger 2040 W firmware ships a C `qrcode` module; the MicroPython unix port (the
simulator, the tests) and stock builds do not.  The firmware therefore does
``try: import qrcode`` / ``except ImportError: import qr as qrcode`` and uses either through
the same interface: ``QRCode(ecc=ECC_MEDIUM, mask=MASK_AUTO)``, ``set_text(text)``,
``get_size() -> (size, size)``, ``get_module(x, y) -> bool`` (False outside the code).
One difference: text that does not fit raises ValueError naming the limit, where the native
module only answers False.

What it encodes, and why (ISO/IEC 18004):
- byte mode: the badge shows URLs, whose lower-case letters rule out the denser
  alphanumeric mode, and UTF-8 text;
- versions 1 to 10 (21 to 57 modules), the smallest that fits: the panel is 128 pixels tall,
  so version 10 is already down to 2 pixels a module, and anything larger would not scan
  off e-ink;
- error correction M by default, as the native module: it survives e-ink ghosting and glare,
  and a 100-character URL still fits version 6 (41 modules, 3 pixels each).  Like the native
  module, the level is raised while the text still fits the same version;
- of the eight masks, the one with the lowest penalty under the standard's four rules.

Memory: the matrix and the map of function patterns take one byte a module each (at most
2 x 3249 bytes, for version 10), the tables a few hundred bytes; arithmetic is integer only.
"""

ECC_LOW = 0
ECC_MEDIUM = 1
ECC_QUARTILE = 2
ECC_HIGH = 3

MASK_AUTO = -1
MASK_0 = 0
MASK_1 = 1
MASK_2 = 2
MASK_3 = 3
MASK_4 = 4
MASK_5 = 5
MASK_6 = 6
MASK_7 = 7

MAX_VERSION = 10

_ECC_NAMES = "LMQH"
_ECC_FORMAT_BITS = b"\x01\x00\x03\x02"  # how the format information spells L, M, Q, H

# Per error-correction level (L, M, Q, H), per version 1..10: check bytes in each block ...
_CHECK_BYTES_PER_BLOCK = bytes((
    7, 10, 15, 20, 26, 18, 20, 24, 30, 18,
    10, 16, 26, 18, 24, 16, 18, 22, 22, 26,
    13, 22, 18, 26, 18, 24, 18, 22, 20, 24,
    17, 28, 22, 16, 22, 28, 26, 26, 24, 28,
))
# ... and how many blocks the codewords are split into.
_BLOCKS = bytes((
    1, 1, 1, 1, 1, 2, 2, 2, 2, 4,
    1, 1, 1, 2, 2, 4, 4, 4, 5, 5,
    1, 1, 2, 2, 4, 4, 6, 6, 8, 8,
    1, 1, 2, 4, 4, 4, 5, 6, 8, 8,
))

# GF(256) with the QR polynomial x^8 + x^4 + x^3 + x^2 + 1: powers of x and their logarithms.
# _EXP is doubled so that a product is _EXP[log a + log b] without a modulo.
_EXP = bytearray(512)
_LOG = bytearray(256)


def _fill_field_tables():
    value = 1
    for power in range(255):
        _EXP[power] = _EXP[power + 255] = value
        _LOG[value] = power
        value <<= 1
        if value & 0x100:
            value ^= 0x11D


_fill_field_tables()


def _raw_codewords(version):
    """Codewords a version holds: its modules less the function patterns, in whole bytes."""
    size = 4 * version + 17
    modules = size * size - 3 * 64 - 31 - 2 * (size - 16)  # finders, format, timing
    if version > 1:
        per_axis = version // 7 + 2
        modules -= 25 * (per_axis * per_axis - 3) - 10 * (per_axis - 2)  # alignment patterns
    if version > 6:
        modules -= 36  # version information
    return modules // 8


def _data_codewords(version, ecc):
    index = ecc * MAX_VERSION + version - 1
    return _raw_codewords(version) - _CHECK_BYTES_PER_BLOCK[index] * _BLOCKS[index]


def _count_bytes(version):
    """Byte mode counts the text in 8 bits up to version 9, in 16 bits from version 10."""
    return 1 if version < 10 else 2


def _capacity(version, ecc):
    """Text bytes that fit: the rest holds the count and the 4-bit mode and terminator."""
    return _data_codewords(version, ecc) - _count_bytes(version) - 1


def _fit(length, ecc):
    """The smallest version that holds the text, then the highest level that still fits it."""
    for version in range(1, MAX_VERSION + 1):
        if length <= _capacity(version, ecc):
            while ecc < ECC_HIGH and length <= _capacity(version, ecc + 1):
                ecc += 1
            return version, ecc
    raise ValueError(
        "text is %d bytes (UTF-8) but a QR code at error correction %s holds at most %d: "
        "shorten it" % (length, _ECC_NAMES[ecc], _capacity(MAX_VERSION, ecc))
    )


def _data_stream(data, version, ecc):
    """Mode, count, text, terminator and padding as codewords.

    The 4-bit mode and terminator shift the whole byte stream by half a byte, so every codeword
    is the low nibble of one byte followed by the high nibble of the next.
    """
    length = len(data)
    header = bytes((length >> 8, length & 0xFF))[2 - _count_bytes(version):]
    stream = bytearray(_data_codewords(version, ecc))
    carry = 4  # byte mode
    position = 0
    for part in (header, data):
        for byte in part:
            stream[position] = (carry << 4) | (byte >> 4)
            carry = byte & 0x0F
            position += 1
    stream[position] = carry << 4  # and the terminator's four zero bits
    pad = 0xEC
    for position in range(position + 1, len(stream)):
        stream[position] = pad
        pad ^= 0xEC ^ 0x11
    return stream


def _generator_logs(degree):
    """Logs of the Reed-Solomon generator (x - 1)(x - a)...(x - a^(degree-1)), leading 1 left out.

    None of its coefficients is zero for the degrees QR codes use, so logs can stand for them.
    """
    poly = bytearray(degree + 1)  # coefficients, highest power first
    poly[0] = 1
    for root in range(degree):
        for k in range(root + 1, 0, -1):
            previous = poly[k - 1]
            if previous:
                poly[k] ^= _EXP[_LOG[previous] + root]
    return bytes(_LOG[c] for c in poly[1:])


def _check_bytes(block, generator):
    """The block's Reed-Solomon check bytes: the remainder of its long division by the generator."""
    degree = len(generator)
    work = bytearray(len(block) + degree)
    work[:len(block)] = block
    for i in range(len(block)):
        factor = work[i]
        if factor:
            factor = _LOG[factor]
            for j in range(degree):
                work[i + 1 + j] ^= _EXP[factor + generator[j]]
    return memoryview(work)[len(block):]


def _codewords(data, version, ecc):
    """All codewords in symbol order: the data blocks interleaved, then their check bytes."""
    stream = _data_stream(data, version, ecc)
    index = ecc * MAX_VERSION + version - 1
    degree = _CHECK_BYTES_PER_BLOCK[index]
    blocks = _BLOCKS[index]
    data_length = len(stream)
    short = data_length // blocks
    first_long = blocks - data_length % blocks  # the last blocks carry one data byte more
    generator = _generator_logs(degree)
    out = bytearray(_raw_codewords(version))
    source = memoryview(stream)
    start = 0
    for b in range(blocks):
        length = short + (b >= first_long)
        block = source[start:start + length]
        start += length
        for j in range(short):
            out[j * blocks + b] = block[j]
        if length > short:
            out[short * blocks + b - first_long] = block[short]
        check = _check_bytes(block, generator)
        for j in range(degree):
            out[data_length + j * blocks + b] = check[j]
    return out


def _with_bch(data, width, generator, degree):
    """`data` (`width` bits) followed by its BCH check bits, as format and version info use."""
    remainder = data << degree
    for bit in range(width + degree - 1, degree - 1, -1):
        if (remainder >> bit) & 1:
            remainder ^= generator << (bit - degree)
    return (data << degree) | remainder


def _masked(mask, x, y):
    """Whether mask pattern `mask` inverts the module in column x, row y."""
    if mask == 0:
        value = (x + y) % 2
    elif mask == 1:
        value = y % 2
    elif mask == 2:
        value = x % 3
    elif mask == 3:
        value = (x + y) % 3
    elif mask == 4:
        value = (y // 2 + x // 3) % 2
    elif mask == 5:
        value = x * y % 2 + x * y % 3
    elif mask == 6:
        value = (x * y % 2 + x * y % 3) % 2
    else:
        value = ((x + y) % 2 + x * y % 3) % 2
    return value == 0


def _line_penalty(modules, start, step, size):
    """Penalty rules 1 and 3 along one row or column.

    Rule 1: 3 points for a run of five same-coloured modules, 1 more per module beyond.
    Rule 3: 40 points for each 1:1:3:1:1 finder look-alike with four light modules on one side;
    an 11-bit window slides along the line, and beyond its ends all is light (the quiet zone).
    """
    score = 0
    run = 0
    colour = 2
    window = 0
    i = start
    for _ in range(size):
        module = modules[i]
        i += step
        if module == colour:
            run += 1
            if run == 5:
                score += 3
            elif run > 5:
                score += 1
        else:
            colour = module
            run = 1
        window = ((window << 1) | module) & 0x7FF
        if window == 0x05D or window == 0x5D0:
            score += 40
    for _ in range(4):
        window = (window << 1) & 0x7FF
        if window == 0x5D0:
            score += 40
    return score


class _Symbol:
    """The module matrix under construction, with a map of the function patterns' modules."""

    def __init__(self, version):
        self.version = version
        self.size = size = 4 * version + 17
        self.modules = bytearray(size * size)  # 1 is dark
        self.function = bytearray(size * size)  # 1 is a function pattern: no data, no mask
        self._draw_function_patterns()

    def _set(self, x, y, dark):
        i = y * self.size + x
        self.modules[i] = 1 if dark else 0
        self.function[i] = 1

    def _draw_function_patterns(self):
        size = self.size
        for i in range(size):  # timing patterns; finders and alignment patterns overdraw them
            self._set(6, i, i % 2 == 0)
            self._set(i, 6, i % 2 == 0)
        last = size - 7
        for cx, cy in ((3, 3), (size - 4, 3), (3, size - 4)):  # finders and their separators
            for dy in range(-4, 5):
                for dx in range(-4, 5):
                    x, y = cx + dx, cy + dy
                    if 0 <= x < size and 0 <= y < size:
                        ring = max(abs(dx), abs(dy))
                        self._set(x, y, ring != 2 and ring != 4)
        if self.version > 1:
            centres = (6, last) if self.version < 7 else (6, (size - 1) // 2, last)
            for cy in centres:
                for cx in centres:
                    if (cx == 6 and cy in (6, last)) or (cx == last and cy == 6):
                        continue  # where the finders are
                    for dy in range(-2, 3):
                        for dx in range(-2, 3):
                            self._set(cx + dx, cy + dy, max(abs(dx), abs(dy)) != 1)
        self._set(8, size - 8, True)  # the dark module
        self.draw_format(0, 0)  # reserves its modules; drawn for real once the mask is chosen
        if self.version >= 7:
            bits = _with_bch(self.version, 6, 0x1F25, 12)
            for i in range(18):
                a, b = size - 11 + i % 3, i // 3
                dark = (bits >> i) & 1
                self._set(a, b, dark)
                self._set(b, a, dark)

    def draw_format(self, ecc, mask):
        """The 15 format bits (level and mask), twice: around the top-left finder and split
        between the other two."""
        size = self.size
        bits = _with_bch(_ECC_FORMAT_BITS[ecc] << 3 | mask, 5, 0x537, 10) ^ 0x5412
        for i in range(15):
            dark = (bits >> i) & 1
            if i < 6:
                self._set(8, i, dark)
            elif i < 8:
                self._set(8, i + 1, dark)
            elif i == 8:
                self._set(7, 8, dark)
            else:
                self._set(14 - i, 8, dark)
            if i < 8:
                self._set(size - 1 - i, 8, dark)
            else:
                self._set(8, size - 15 + i, dark)

    def place(self, codewords):
        """Lay the codewords' bits, most significant first, in two-module columns that zigzag
        up and down from the bottom-right corner, skipping function patterns and the timing
        column; the bits that are left over stay light."""
        size = self.size
        modules = self.modules
        function = self.function
        total = len(codewords) * 8
        bit = 0
        right = size - 1
        while right > 0:
            if right == 6:
                right = 5
            upward = (right + 1) & 2 == 0
            for step in range(size):
                row = (size - 1 - step if upward else step) * size
                for x in range(right, right - 2, -1):
                    i = row + x
                    if not function[i]:
                        if bit < total:
                            modules[i] = (codewords[bit >> 3] >> (7 - (bit & 7))) & 1
                        bit += 1
            right -= 2

    def apply_mask(self, mask):
        """Invert the data modules the mask selects; applying it again undoes it.

        Every mask repeats every 6 columns and 12 rows, so it is evaluated once on that tile.
        """
        tile = bytearray(72)
        for k in range(72):
            tile[k] = _masked(mask, k % 6, k // 6)
        size = self.size
        modules = self.modules
        function = self.function
        i = 0
        for y in range(size):
            row = y % 12 * 6
            for x in range(size):
                if tile[row + x % 6] and not function[i]:
                    modules[i] ^= 1
                i += 1

    def penalty(self):
        """How hard the symbol is to scan, by the standard's four rules: lower is better."""
        size = self.size
        modules = self.modules
        score = 0
        for k in range(size):
            score += _line_penalty(modules, k * size, 1, size) + _line_penalty(modules, k, size, size)
        for y in range(size - 1):  # rule 2: 3 points for each 2x2 block of one colour
            i = y * size
            for _ in range(size - 1):
                module = modules[i]
                if module == modules[i + 1] and module == modules[i + size] and module == modules[i + size + 1]:
                    score += 3
                i += 1
        total = size * size  # rule 4: 10 points per 5 % that dark modules stray from half
        return score + 10 * (abs(20 * sum(modules) - 10 * total) // total)

    def best_mask(self, ecc):
        best, lowest = 0, -1
        for mask in range(8):
            self.draw_format(ecc, mask)
            self.apply_mask(mask)
            score = self.penalty()
            self.apply_mask(mask)
            if lowest < 0 or score < lowest:
                best, lowest = mask, score
        return best


class QRCode:
    """One QR code at a time, read module by module; the interface of the native module."""

    def __init__(self, ecc=ECC_MEDIUM, mask=MASK_AUTO):
        if not ECC_LOW <= ecc <= ECC_HIGH:
            raise ValueError("ecc must be one of ECC_LOW, ECC_MEDIUM, ECC_QUARTILE, ECC_HIGH")
        if not MASK_AUTO <= mask <= MASK_7:
            raise ValueError("mask must be MASK_AUTO or one of MASK_0 to MASK_7")
        self._ecc = ecc
        self._mask = mask
        self._size = 0
        self._modules = b""

    def set_text(self, text):
        """Encode `text` (str, as UTF-8, or bytes) and answer True, as the native module does.

        Raises ValueError, keeping the previous code, when the text does not fit version 10.
        """
        if isinstance(text, str):
            text = text.encode()
        elif not isinstance(text, (bytes, bytearray)):
            raise TypeError("set_text needs a str or bytes")
        version, ecc = _fit(len(text), self._ecc)
        symbol = _Symbol(version)
        symbol.place(_codewords(text, version, ecc))
        mask = symbol.best_mask(ecc) if self._mask == MASK_AUTO else self._mask
        symbol.draw_format(ecc, mask)
        symbol.apply_mask(mask)
        self._size = symbol.size
        self._modules = symbol.modules
        return True

    def get_size(self):
        return self._size, self._size

    def get_module(self, x, y):
        """True where the module is dark."""
        size = self._size
        return 0 <= x < size and 0 <= y < size and self._modules[y * size + x] == 1
