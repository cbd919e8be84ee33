"""A strict fake of MicroPython's ``network`` on the Pico W (cyw43), as the Badger 2040 W has it:
``WLAN`` for the station and access-point interfaces, the ``STAT_*`` codes, ``country``,
``hostname``. The access point it joins does what ARCADE_SIM_WIFI says (``joins`` after a second
and a half, ``silent``: never answers, ``wrong-password``, ``no-ap``). Sockets are not its
business: they go over the unix port's network, to the servers of the tests."""

import time

import _rig

STA_IF = 0
AP_IF = 1

STAT_IDLE = 0
STAT_CONNECTING = 1
STAT_WRONG_PASSWORD = -3
STAT_NO_AP_FOUND = -2
STAT_CONNECT_FAIL = -1
STAT_GOT_IP = 3

JOIN_MS = 1500
_ANSWERS = {"joins": STAT_GOT_IP, "wrong-password": STAT_WRONG_PASSWORD, "no-ap": STAT_NO_AP_FOUND}
_country = "XX"
_hostname = "PicoW"
_interfaces = {}


def country(code=None):
    global _country
    if code is None:
        return _country
    if not isinstance(code, str) or len(code) != 2:
        raise ValueError("invalid country code")
    _country = code


def hostname(name=None):
    global _hostname
    if name is None:
        return _hostname
    _hostname = name


class _Interface:
    def __init__(self):
        self.active = False
        self.status = STAT_IDLE
        self.since = 0
        self.ssid = None


class WLAN:
    """Every ``WLAN(STA_IF)`` is the same radio, as on the Pico W."""

    def __init__(self, interface=STA_IF):
        if interface not in (STA_IF, AP_IF):
            raise ValueError("WLAN(%r) doesn't exist" % interface)
        self._radio = _interfaces.setdefault(interface, _Interface())

    def active(self, is_active=None):
        radio = self._radio
        if is_active is None:
            return radio.active
        radio.active = bool(is_active)
        if not radio.active:
            radio.status = STAT_IDLE
        return None

    def connect(self, ssid=None, key=None, *, bssid=None, security=None):
        radio = self._radio
        if not radio.active:
            raise OSError("[CYW43] STA must be active")
        if not isinstance(ssid, str) or (key is not None and not isinstance(key, str)):
            raise TypeError("can't convert to str")
        radio.ssid = ssid
        radio.status = STAT_CONNECTING
        radio.since = time.ticks_ms()

    def disconnect(self):
        self._radio.status = STAT_IDLE

    def status(self, param=None):
        if param is not None:
            if param != "rssi":
                raise ValueError("unknown status param")
            return -50
        radio = self._radio
        answer = _ANSWERS.get(_rig.access_point())
        if radio.status == STAT_CONNECTING and answer is not None:
            if time.ticks_diff(time.ticks_ms(), radio.since) >= JOIN_MS:
                radio.status = answer
        return radio.status

    def isconnected(self):
        return self.status() == STAT_GOT_IP

    def ifconfig(self, config=None):
        if config is not None:
            return None
        if self.isconnected():
            return ("192.168.1.77", "255.255.255.0", "192.168.1.1", "192.168.1.1")
        return ("0.0.0.0", "0.0.0.0", "0.0.0.0", "0.0.0.0")

    def config(self, *names, **settings):
        known = ("mac", "ssid", "channel", "hostname", "security", "key", "password", "txpower", "pm")
        for name in list(names) + list(settings):
            if name not in known:
                raise ValueError("unknown config param")
        if names:
            return {"ssid": self._radio.ssid, "mac": b"\x28\xcd\xc1\x00\x00\x01", "pm": 0xA11142}.get(names[0])
        return None

    def scan(self):
        return [] if _rig.access_point() == "no-ap" else [(b"arcade-test", b"\x28\xcd\xc1\x00\x00\x02", 6, -50, 5, 0)]
