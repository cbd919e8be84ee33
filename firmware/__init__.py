"""The badge firmware (MicroPython), shipped inside the distribution for `arcade build`.

CPython never imports these modules; this file only makes the folder a package, and it is not
copied to the badge.
"""
