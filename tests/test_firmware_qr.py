"""The badge's QR encoder (firmware/qr.py), run by the real MicroPython unix port in the badge's
96 KB heap, its codes rendered as a phone would see them and read back by the zbar decoder."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import qrcode
from PIL import Image

MICROPYTHON = Path(sys.executable).parent / "micropython"
FIRMWARE = Path(__file__).resolve().parent.parent / "firmware"

DEVICE_URL = "http://192.168.1.20:8000/device?user_code=BCDF-GHJK"
LONGEST_URL = "https://arcade.example.org:8443/device?user_code=BCDF-GHJK&client_id=badger2040w&scope=openid+scores"
GREETING = "Grüße aus der Arcade, Zoë! 🎮 Высокий счёт"
LARGEST_TEXT = "0123456789abcdef" * 13 + "01234"  # 213 bytes: all that version 10 holds at level M
VERSION_INFO_TEXT = "v" * 150  # version 8 at level M: big enough to carry version information

ENCODE = """
import qr
code = qr.QRCode({options})
assert code.set_text({text!r}) is True
size, _ = code.get_size()
for y in range(size):
    print("".join("#" if code.get_module(x, y) else "." for x in range(size)))
"""


def micropython(script: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """Run `script` as the badge would: MicroPython, a 96 KB heap, firmware/ on the path."""
    path = tmp_path / "script.py"
    path.write_text(script, encoding="utf-8")
    return subprocess.run(
        [str(MICROPYTHON), "-X", "heapsize=96K", str(path)],
        env={**os.environ, "MICROPYPATH": str(FIRMWARE)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def encode(text: str, tmp_path: Path, options: str = "") -> list[str]:
    """The module matrix MicroPython prints for `text`, one string of '#' and '.' per row."""
    result = micropython(ENCODE.format(text=text, options=options), tmp_path)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


@pytest.fixture
def scan(zbarimg, tmp_path):
    """Render a matrix at 4 pixels a module inside a 4-module quiet zone; answer what zbar reads."""

    def read(rows: list[str]) -> str:
        scale, quiet = 4, 4
        side = (len(rows) + 2 * quiet) * scale
        image = Image.new("L", (side, side), 255)
        for y, row in enumerate(rows):
            for x, module in enumerate(row):
                if module == "#":
                    left, top = (x + quiet) * scale, (y + quiet) * scale
                    image.paste(0, (left, top, left + scale, top + scale))
        path = tmp_path / "code.png"
        image.save(path)
        result = subprocess.run([zbarimg, "--raw", "-q", str(path)], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, f"zbar found no code: {result.stderr}"
        return result.stdout.removesuffix("\n")

    return read


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("Badge Arcade", 21),
        (DEVICE_URL, 33),
        (LONGEST_URL, 41),
        (GREETING, 33),
        (LARGEST_TEXT, 57),
    ],
    ids=["short", "device-url", "100-char-url", "utf-8", "version-10"],
)
def test_code_scans_back_to_the_exact_text_at_the_smallest_size(text, size, tmp_path, scan):
    rows = encode(text, tmp_path)
    assert len(rows) == size and all(len(row) == size for row in rows)
    assert scan(rows) == text


@pytest.mark.parametrize("options", [f"mask=qr.MASK_{n}" for n in range(8)] + [f"ecc=qr.ECC_{level}" for level in ("LOW", "QUARTILE", "HIGH")])
def test_every_mask_and_error_correction_level_scans(options, tmp_path, scan):
    assert scan(encode(DEVICE_URL, tmp_path, options)) == DEVICE_URL


def test_longest_login_url_fits_the_badge_heap(tmp_path):
    assert len(LONGEST_URL) == 100
    result = micropython(ENCODE.format(text=LONGEST_URL, options=""), tmp_path)
    assert "MemoryError" not in result.stderr
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.split()) == 41


def test_too_long_text_is_refused_with_the_limit_and_the_previous_code_kept(tmp_path):
    script = f"""
import qr
code = qr.QRCode()
code.set_text("hi")
try:
    code.set_text({LARGEST_TEXT + "5"!r})
except ValueError as error:
    print(error)
print(code.get_size())
"""
    result = micropython(script, tmp_path)
    assert result.returncode == 0, result.stderr
    message, size = result.stdout.splitlines()
    assert message == "text is 214 bytes (UTF-8) but a QR code at error correction M holds at most 213: shorten it"
    assert size == "(21, 21)"


def test_interface_matches_the_native_module_at_its_edges(tmp_path):
    script = """
import qr
code = qr.QRCode(qr.ECC_LOW, qr.MASK_AUTO)
print(code.get_size())
print(code.set_text(b"bytes too"), code.get_size())
print(code.get_module(0, 0), code.get_module(-1, 0), code.get_module(0, 21))
for bad in ((lambda: code.set_text(42)), (lambda: qr.QRCode(ecc=4)), (lambda: qr.QRCode(mask=8))):
    try:
        bad()
    except (TypeError, ValueError) as error:
        print(type(error).__name__, error)
"""
    result = micropython(script, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "(0, 0)",
        "True (21, 21)",
        "True False False",
        "TypeError set_text needs a str or bytes",
        "ValueError ecc must be one of ECC_LOW, ECC_MEDIUM, ECC_QUARTILE, ECC_HIGH",
        "ValueError mask must be MASK_AUTO or one of MASK_0 to MASK_7",
    ]


REFERENCE_LEVELS = [
    qrcode.constants.ERROR_CORRECT_L,
    qrcode.constants.ERROR_CORRECT_M,
    qrcode.constants.ERROR_CORRECT_Q,
    qrcode.constants.ERROR_CORRECT_H,
]


def reference_matrix(data: bytes, level: int, mask: int) -> str | None:
    """What the `qrcode` library draws for the same choice: the smallest version at `level`,
    the level raised while that version still holds the data (as the native module does)."""
    version = fitting_version(data, level)
    if version > 10:
        return None
    while level < 3 and fitting_version(data, level + 1) == version:
        level += 1
    code = qrcode.QRCode(version=version, error_correction=REFERENCE_LEVELS[level], mask_pattern=mask, border=0)
    code.add_data(data, optimize=0)
    code.make(fit=False)
    return "|".join("".join("#" if dark else "." for dark in row) for row in code.get_matrix())


def fitting_version(data: bytes, level: int) -> int:
    code = qrcode.QRCode(error_correction=REFERENCE_LEVELS[level])
    code.add_data(data, optimize=0)
    return code.best_fit()


def test_every_module_matches_a_reference_encoder(tmp_path):
    """zbar forgives a wrong bit in one copy of the format or version information; a phone
    reading a smudged badge may not.  Every version size class, level and mask, bit for bit."""
    texts = ["Badge Arcade", DEVICE_URL, LONGEST_URL, GREETING, VERSION_INFO_TEXT, LARGEST_TEXT]
    script = f"""
import qr
for text in {texts!r}:
    for level in range(4):
        for mask in range(8):
            code = qr.QRCode(level, mask)
            try:
                code.set_text(text)
            except ValueError:
                print("too long")
                continue
            size, _ = code.get_size()
            print("|".join("".join("#" if code.get_module(x, y) else "." for x in range(size)) for y in range(size)))
"""
    result = micropython(script, tmp_path)
    assert result.returncode == 0, result.stderr
    printed = iter(result.stdout.splitlines())
    compared = 0
    for text in texts:
        for level in range(4):
            for mask in range(8):
                expected = reference_matrix(text.encode(), level, mask)
                ours = next(printed)
                assert ours == (expected or "too long"), (text, level, mask)
                compared += expected is not None
    assert compared == 8 * (4 + 4 + 4 + 4 + 3 + 2)
