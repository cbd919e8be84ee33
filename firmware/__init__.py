"""The badge firmware (MicroPython), shipped inside the distribution for `arcade build`.

CPython never imports these modules but ``qr.py``, plain Python, with which the server draws the
event screen's QR code; this file only makes the folder a package, and it is not copied to the badge.
"""
