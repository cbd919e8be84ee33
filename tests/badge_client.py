"""A badge's side of the device flow over HTTP: the form posts the firmware sends to the OAuth
endpoints (RFC 8628, RFC 6749 §6, RFC 7009).

Not a test module. The device-flow tests and the crash harness (bench/crash.py) use it with
tests/people.py, the person's side, against a real server (its URL) or the app in process.
"""

import httpx

from tests.conftest import Site, connect
from tests.people import Person

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


class Badge:
    """The badge's side of the flow: form posts to the OAuth endpoints, as the firmware sends them."""

    def __init__(self, server: str | Site, client_id: str = "badge", address: str | None = None):
        """``server``: a URL or a test arcade; ``address``: the loopback address (127.0.0.x) the
        badge's requests come from."""
        self.http = connect(server, address, timeout=30)
        self.client_id = client_id

    def start(self, **form) -> dict:
        response = self.ask(**form)
        assert response.status_code == 200, response.text
        return response.json()

    def ask(self, **form) -> httpx.Response:
        return self.http.post("/oauth/device_authorization", data={"client_id": self.client_id, **form})

    def poll(self, grant: dict, **form) -> httpx.Response:
        data = {"grant_type": DEVICE_CODE_GRANT, "device_code": grant["device_code"], "client_id": self.client_id}
        return self.http.post("/oauth/token", data={**data, **form})

    def refresh(self, refresh_token: str, **form) -> httpx.Response:
        data = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": self.client_id}
        return self.http.post("/oauth/token", data={**data, **form})

    def revoke(self, token: str, **form) -> httpx.Response:
        return self.http.post("/oauth/revoke", data={"token": token, "client_id": self.client_id, **form})

    def log_in(self, person: Person, **form) -> dict:
        """A whole login: the badge asks, the person approves from the QR link, the badge polls."""
        grant = self.start(**form)
        assert person.approve(link=grant["verification_uri_complete"]).status_code == 200
        response = self.poll(grant)
        assert response.status_code == 200, response.text
        return response.json()

    def close(self) -> None:
        self.http.close()
