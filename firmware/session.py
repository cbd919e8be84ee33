"""The one login every game shares: tokens on flash, refreshed before they expire.

The badge's clock is not trusted, so expiry is measured in relative time: a token obtained
since boot is fresh until ``expires_in`` (less a margin) has passed on the tick counter; a
token read from flash at boot has an unknown age and is refreshed before its first use.
Tokens are never printed. A session file that is damaged, or is not a login, is kept aside and
the player is asked to log in again; a full flash keeps the session in memory only.
"""

import time

import net
import storage

FILE = storage.STATE + "/session.json"
MARGIN_S = 60
MAX_LIFETIME_S = 86400  # keeps tick arithmetic far from the RP2040's 2**29 ms horizon


def name_api(fields, audience):
    """``fields`` naming the arcade's API both ways providers read it: ``audience`` (Auth0) and
    RFC 8707's ``resource`` (node-oidc-provider, Keycloak), which must be an absolute URI."""
    fields["audience"] = audience
    fields["resource"] = audience if isinstance(audience, str) and "://" in audience else None
    return fields


class Session:
    def __init__(self, clock):
        self._clock = clock
        self._saved, self.damaged = _load()
        self._fresh_until = None

    @property
    def logged_in(self):
        return self._saved is not None

    @property
    def name(self):
        return self._saved.get("name") if self._saved else None

    def start(self, tokens, identity):
        """Keeps the tokens of a finished login, with what a refresh and a log-out need."""
        revocation = identity.get("revocation_endpoint")
        self._saved = {
            "token_endpoint": identity["token_endpoint"],
            "revocation_endpoint": revocation if isinstance(revocation, str) else None,
            "client_id": identity["client_id"],
            "audience": identity.get("audience") if isinstance(identity.get("audience"), str) else None,
            "name": None,
        }
        self.damaged = False
        self._keep(tokens)

    @property
    def id_token(self):
        """The ID token of the login or of its last refresh, until the server has had it once."""
        return self._saved.get("id_token") if self._saved else None

    def id_token_sent(self):
        """The server named the player from the ID token: it need not go again, nor stay in the heap."""
        if self._saved and self._saved.pop("id_token", None):
            self._write()

    def set_name(self, name):
        if self._saved and isinstance(name, str) and name and name != self._saved.get("name"):
            self._saved["name"] = name
            self._write()

    def access_token(self):
        """A usable access token, refreshed first when it may have expired; None when logged out.
        Raises OSError when a needed refresh cannot reach the provider."""
        if self._saved is None:
            return None
        if self._is_stale() and self._saved.get("refresh_token"):
            self.refresh()
            if self._saved is None:
                return None
        return self._saved["access_token"]

    def refresh(self):
        """Trades the refresh token for new tokens. A refusal (an OAuth error) ends the session:
        the player logs in again. No answer, or one that is neither tokens nor a refusal (the
        provider in trouble, a garbled answer), raises OSError (net.ServerTrouble when it answered)
        and keeps everything."""
        saved = self._saved
        if not saved or not saved.get("refresh_token"):
            self.forget()
            return False
        fields = {
            "grant_type": "refresh_token",
            "refresh_token": saved["refresh_token"],
            "client_id": saved["client_id"],
        }
        status, answer = net.post_form(saved["token_endpoint"], name_api(fields, saved.get("audience")))
        if isinstance(answer.get("access_token"), str):
            self._keep(answer)
            return True
        if not answer.get("error") or status >= 500 or status == 429:
            raise net.ServerTrouble("the identity provider answered %d without tokens" % status)
        self.forget()
        return False

    def logout(self):
        """Revokes the refresh token (when the provider can) and forgets the session.
        Answers False when the provider could not be reached to revoke it."""
        saved = self._saved
        revoked = True
        if saved and saved.get("revocation_endpoint"):
            token = saved.get("refresh_token") or saved["access_token"]
            hint = "refresh_token" if saved.get("refresh_token") else "access_token"
            try:
                net.post_form(
                    saved["revocation_endpoint"],
                    {"token": token, "token_type_hint": hint, "client_id": saved["client_id"]},
                )
            except OSError:
                revoked = False
        self.forget()
        return revoked

    def forget(self):
        self._saved = None
        self._fresh_until = None
        storage.remove(FILE)

    def _keep(self, tokens):
        saved = self._saved
        saved["access_token"] = tokens["access_token"]
        if isinstance(tokens.get("refresh_token"), str):
            saved["refresh_token"] = tokens["refresh_token"]
        if isinstance(tokens.get("id_token"), str):  # who the player is: the server names them from it
            saved["id_token"] = tokens["id_token"]
        expires_in = tokens.get("expires_in")
        lifetime = min(expires_in if isinstance(expires_in, int) else 0, MAX_LIFETIME_S) - MARGIN_S
        self._fresh_until = time.ticks_add(self._clock.ticks_ms(), lifetime * 1000) if lifetime > 0 else None
        self._write()

    def _is_stale(self):
        if self._fresh_until is None:
            return True
        return time.ticks_diff(self._fresh_until, self._clock.ticks_ms()) <= 0

    def _write(self):
        try:
            storage.make_dirs(storage.STATE)
            storage.write_json(FILE, self._saved)
        except OSError as error:  # a full flash: the login lasts until the badge turns off
            print("session: %s: %s" % (FILE, error))


def _load():
    """The login kept on flash, or None; and whether a damaged one was kept aside instead."""
    if not storage.exists(FILE):
        return None, False
    saved = storage.read_json(FILE)  # keeps aside a file that is not JSON
    needed = ("access_token", "token_endpoint", "client_id")
    optional = ("refresh_token", "revocation_endpoint", "audience", "name", "id_token")
    if net.has_strings(saved, needed, optional):
        return saved, False
    if storage.exists(FILE):
        storage.keep_aside(FILE, "is not a login")
    return None, True
