"""Logging the badge in with the OAuth 2.0 device flow (RFC 8628), on the e-ink screen.

It shows the QR code of ``verification_uri_complete``, the URL and the user code, polls the
token endpoint at ``interval`` (5 s more on ``slow_down``, longer after network errors) and
stops on ``access_denied``, ``expired_token`` or the C button. It copes with providers that
send errors with HTTP 200, 400, 403 or 429, say ``verification_url``, or leave out
``interval`` or ``verification_uri_complete``; an answer without what the flow needs, of the
right type, stops the login saying so. The API is named both ways providers read it: Auth0's
``audience`` and RFC 8707's ``resource`` (node-oidc-provider, Keycloak). The badge tells the
provider its name (``device_name``), which the confirm page shows. When memory is too short
for the QR code, the URL and the code still show.
"""

import gc
import json
import sys
import time
from binascii import a2b_base64, hexlify

import net
import scores
import ui
from session import name_api
from hal import BLACK, BUTTON_C, HEIGHT, UPDATE_FAST, WHITE, WIDTH

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
DEFAULT_INTERVAL_S = 5
DEFAULT_EXPIRES_S = 600
SLOW_DOWN_S = 5
MAX_BACKOFF_S = 60
COUNTDOWN_EVERY_MS = 15000
POLL_MS = 50
QR_SIZE = HEIGHT - 4
MODULE_MIN = 2  # pixels: a phone still reads modules of 0.4 mm
COUNTDOWN_Y = HEIGHT - 24


def run(badge, session, back, server, titles, title, then):
    """An app: main.py runs it with the launcher and online.py unloaded, for the heap its requests'
    TLS takes. Logs in on the screen titled ``title``, then answers online.py to send what waits
    with ``then`` shown, or the launcher at ``back``."""
    try:
        if not server:
            ui.message(badge, "no-server", "No server", net.NO_SERVER)
        elif log_in(badge, server, session, title) and scores.waiting():
            return ("online", back, server, titles, "send", then)
    except ui.Home:
        back = ("menu", back[1])
    return ("launcher", back)


def log_in(badge, server, session, title):
    """Logs in and keeps the tokens in ``session``; answers True when logged in. Failures are
    shown on the screen until a button is pressed."""
    try:
        net.join(badge, lambda text: ui.status(badge, "wifi", title, text))
    except OSError as error:
        ui.message(badge, "login-offline", "No connection", "%s. Check WIFI_CONFIG.py." % error)
        return False
    ui.status(badge, "login-start", title, "Asking the arcade how to log in...")
    try:
        identity = _identity(server)
        grant = _device_authorization(identity)
        tokens = _poll(badge, identity, grant, title)
    except LoginStopped as stop:
        if stop.screen:
            ui.message(badge, stop.screen, stop.title, stop.text)
        return False
    except net.Untrusted as error:
        ui.message(badge, "login-untrusted", "Not the arcade", "%s. %s" % (error, net.Untrusted.ADVICE))
        return False
    except net.OutOfMemory:
        ui.message(badge, "login-failed", "Login failed", net.OutOfMemory.ADVICE)
        return False
    except OSError as error:
        ui.message(badge, "login-offline", "No connection", "Could not reach the server (%s). Check the Wi-Fi and try again." % error)
        return False
    session.start(tokens, identity)
    session.set_name(_name(tokens))
    return True


class LoginStopped(Exception):
    """Ends the login, showing ``text`` on the screen ``screen`` (none for a cancel)."""

    def __init__(self, screen, title, text):
        self.screen = screen
        self.title = title
        self.text = text


def _identity(server):
    status, info = net.get_json(server + "/api/v1/badge")
    identity = info.get("identity")
    needed = ("device_authorization_endpoint", "token_endpoint", "client_id")
    if status != 200 or not net.has_strings(identity, needed):
        raise LoginStopped("login-failed", "Login failed", "The server at %s answered %d without login settings." % (server, status))
    return identity


def _device_authorization(identity):
    fields = {"client_id": identity["client_id"], "scope": identity.get("scope"), "device_name": device_name()}
    status, grant = net.post_form(identity["device_authorization_endpoint"], name_api(fields, identity.get("audience")))
    grant["verification_uri"] = grant.get("verification_uri") or grant.get("verification_url")
    if grant.get("error") or not net.has_strings(grant, ("device_code", "user_code", "verification_uri")):
        raise LoginStopped("login-failed", "Login failed", _describe(status, grant))
    if not isinstance(grant.get("verification_uri_complete"), str):
        grant["verification_uri_complete"] = None
    return grant


def device_name():
    """What the confirm page calls this badge: its model and the end of its chip's id."""
    try:
        import machine

        return "Badger 2040 W " + hexlify(machine.unique_id()[-2:]).decode().upper()
    except (ImportError, AttributeError):  # the unix port has no chip id
        return "Badger 2040 W (simulated)"


def _seconds(value, default):
    """A positive number of seconds the provider gave, or ``default`` for anything else."""
    try:
        value = int(value)
    except (TypeError, ValueError):
        return default
    return value if value > 0 else default


def _poll(badge, identity, grant, title):
    interval = _seconds(grant.get("interval"), DEFAULT_INTERVAL_S)
    started = badge.ticks_ms()
    expires_ms = _seconds(grant.get("expires_in"), DEFAULT_EXPIRES_S) * 1000
    text_x = _draw(badge, grant, title, expires_ms)
    buttons = ui.Buttons(badge, started)
    wait_ms = interval * 1000
    polled = started
    shown = started
    while True:
        if buttons.pressed() & BUTTON_C:
            raise LoginStopped(None, None, None)
        now = badge.ticks_ms()
        left = expires_ms - time.ticks_diff(now, started)
        if left <= 0:
            raise _expired()
        if time.ticks_diff(now, shown) >= COUNTDOWN_EVERY_MS:
            _countdown(badge, text_x, left)
            badge.partial_update(0, COUNTDOWN_Y, WIDTH, 8)
            shown = now
        if time.ticks_diff(now, polled) < wait_ms:
            badge.sleep_ms(POLL_MS)
            continue
        try:
            fields = {"grant_type": DEVICE_GRANT, "device_code": grant["device_code"], "client_id": identity["client_id"]}
            status, answer = net.post_form(identity["token_endpoint"], name_api(fields, identity.get("audience")))
        except net.Untrusted:
            raise
        except OSError:
            status, answer = 0, {}
        polled = badge.ticks_ms()
        error = answer.get("error")
        if isinstance(answer.get("access_token"), str):
            return answer
        if error == "authorization_pending":
            wait_ms = interval * 1000
        elif error == "slow_down":
            interval += SLOW_DOWN_S
            wait_ms = interval * 1000
        elif error == "access_denied":
            raise LoginStopped("login-denied", "Login denied", "The login was declined. Press A to go back, and log in again when you like.")
        elif error == "expired_token":
            raise _expired()
        elif error or 400 <= status < 500:
            raise LoginStopped("login-failed", "Login failed", _describe(status, answer))
        else:  # no network, or the provider is in trouble: wait longer each time
            wait_ms = min(wait_ms * 2, MAX_BACKOFF_S * 1000)


def _expired():
    return LoginStopped("login-expired", "Code expired", "The code expired before it was confirmed. Log in again for a new code.")


def _draw(badge, grant, title, left_ms):
    ui.begin(badge, "login")
    complete = grant.get("verification_uri_complete")
    code = grant["user_code"]
    # the text beside the QR code needs room for its widest piece: the URL's host and port never wrap
    need = max(ui.widest(badge, "%s Scan, or open %s and enter" % (title, grant["verification_uri"])), badge.measure_text(code))
    try:
        qr_width = _draw_qr(badge, complete, WIDTH - 12 - need) if complete else 0
    except MemoryError:  # the native qrcode's buffers, on a full or fragmented heap: URL and code only
        gc.collect()
        badge.set_pen(WHITE)
        badge.rectangle(0, 0, QR_SIZE + 4, HEIGHT)
        qr_width = 0
    scannable = qr_width > 0
    x = qr_width + 8 if scannable else 4
    width = WIDTH - x - 4
    y = ui.paragraph(badge, title, x, 4, width)
    y = ui.paragraph(badge, "Scan, or open" if scannable else "Open", x, y + 4, width)
    y = ui.paragraph(badge, grant["verification_uri"], x, y, width)
    y = ui.paragraph(badge, "and enter", x, y, width)
    scale = 3
    while scale > 1 and badge.measure_text(code, scale) > width:
        scale -= 1
    badge.text(code, x, y + 4, scale)
    _countdown(badge, x, left_ms)
    badge.text("C: cancel", x, ui.FOOTER_Y)
    badge.set_update_speed(UPDATE_FAST)
    badge.update()
    return x


def _countdown(badge, x, left_ms):
    seconds = left_ms // 1000
    badge.set_pen(WHITE)
    badge.rectangle(x, COUNTDOWN_Y, WIDTH - x, 8)
    badge.set_pen(BLACK)
    badge.text("expires in %d:%02d" % (seconds // 60, seconds % 60), x, COUNTDOWN_Y)


def _draw_qr(badge, text, room):
    """Draws the QR code of ``text`` at the left, as large as fits ``room`` pixels (at most QR_SIZE)
    with modules of MODULE_MIN pixels or more; answers the width it takes, 0 when it is too long for
    one or does not fit (then URL and code suffice). The module is forgotten once drawn: the
    pure-Python one's code is heap the polls' TLS needs."""
    try:
        import qrcode
    except ImportError:
        import qr as qrcode
    try:
        return _draw_modules(badge, qrcode.QRCode(), text, min(room, QR_SIZE))
    finally:
        sys.modules.pop(qrcode.__name__, None)
        gc.collect()


def _draw_modules(badge, code, text, box):
    try:
        fits = code.set_text(text) is not False  # the native module answers False, ours raises
    except ValueError:
        fits = False
    if not fits:
        return 0
    size, _ = code.get_size()
    scale = (box - 4) // size
    if scale < MODULE_MIN:
        return 0
    x = 2 + (box - size * scale) // 2
    y = (HEIGHT - size * scale) // 2
    badge.set_pen(BLACK)
    for row in range(size):
        for col in range(size):
            if code.get_module(col, row):
                badge.rectangle(x + col * scale, y + row * scale, scale, scale)
    return box


def _describe(status, answer):
    reason = answer.get("error_description") or answer.get("error") or "no reason given"
    return "The identity provider answered %d: %s." % (status, reason)


def _name(tokens):
    """The player's name from the ID token (or a JWT access token); tokens themselves stay private."""
    for key in ("id_token", "access_token"):
        parts = (tokens.get(key) or "").split(".")
        if len(parts) == 3:
            try:
                payload = parts[1].replace("-", "+").replace("_", "/")
                claims = json.loads(a2b_base64(payload + "=" * (-len(payload) % 4)))
            except ValueError:
                continue
            if not isinstance(claims, dict):
                continue
            for claim in ("name", "preferred_username", "nickname", "email"):
                if claims.get(claim):
                    return claims[claim]
    return None
