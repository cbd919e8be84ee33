"""A person with a phone, over HTTP: the verification pages' forms, submitted as a browser would.

Not a test module. Tests, and the badge's end-to-end test, use it for the person's
side of the device flow, against a real server (its URL) or the app in process:

    person = Person(server.url, "ada")               # or Person(app, "ada")
    person.approve(user_code="BCDF-GHJK-LMNP")       # typed: /device, log in, the code, the confirm page
    person.approve(link=verification_uri_complete)    # scanned: the QR code's link
    person.deny(link=verification_uri_complete)

The person signs up the first time they need an account and logs in after that.
Each step reads the page it is on, finds the form by its id, keeps its hidden
fields (the CSRF token) and cookies, and posts it; a missing form fails with
what the page said instead.
"""

from html.parser import HTMLParser

import httpx

from tests.conftest import Site, connect

PASSWORD = "correct horse battery staple"


class Person:
    def __init__(
        self,
        server: str | Site,
        username: str,
        *,
        name: str | None = None,
        password: str = PASSWORD,
        picture: str = "",
        address: str | None = None,
    ):
        """``address``: the loopback address (127.0.0.x) the person's requests come from."""
        self.browser = connect(server, address, follow_redirects=True, timeout=30)
        self.username = username
        self.name = name or username.title()
        self.password = password
        self.picture = picture
        self.has_account = False

    def enter_code(self, user_code: str) -> httpx.Response:
        """Open /device, log in (or sign up) there, type ``user_code``: the confirm page, or the entry
        page with its error."""
        return self.submit(self.logged_in(self.browser.get("/device")), "enter-code", code=user_code)

    def open(self, link: str) -> httpx.Response:
        """Follow the badge's QR link (``verification_uri_complete``)."""
        return self.browser.get(link)

    def sign_up(self, page: httpx.Response) -> httpx.Response:
        fields = {"username": self.username, "name": self.name, "password": self.password, "picture": self.picture}
        answer = self.submit(page, "sign-up", **fields)
        self.has_account = self.has_account or "log-out" in forms(answer.text)
        return answer

    def log_in(self, page: httpx.Response) -> httpx.Response:
        return self.submit(page, "log-in", username=self.username, password=self.password)

    def logged_in(self, page: httpx.Response) -> httpx.Response:
        """``page`` (a confirm page, or /device) with this person logged in: signed up first if they
        have no account yet."""
        if "log-in" not in forms(page.text):
            return page
        return self.log_in(page) if self.has_account else self.sign_up(page)

    def approve(self, *, user_code: str | None = None, link: str | None = None) -> httpx.Response:
        """The whole person's side: reach the login, compare codes, log in or sign up, Approve."""
        return self.submit(self.logged_in(self._reach(user_code, link)), "approve")

    def deny(self, *, user_code: str | None = None, link: str | None = None) -> httpx.Response:
        return self.submit(self._reach(user_code, link), "deny")

    def submit(
        self, page: httpx.Response, form_id: str, *, headers: dict | None = None, **fields: str
    ) -> httpx.Response:
        """Post the form ``form_id`` of ``page`` with its hidden fields and ``fields`` (and ``headers``,
        such as the ``Origin`` a browser adds)."""
        form = forms(page.text).get(form_id)
        if form is None:
            raise AssertionError(f"no form {form_id!r} on {page.url} ({page.status_code}): {visible_text(page.text)}")
        action, hidden = form
        return self.browser.post(page.url.join(action), data={**hidden, **fields}, headers=headers)

    def close(self) -> None:
        self.browser.close()

    def _reach(self, user_code: str | None, link: str | None) -> httpx.Response:
        if (user_code is None) == (link is None):
            raise ValueError("give either user_code or link")
        return self.enter_code(user_code) if link is None else self.open(link)


def csrf_token(page: httpx.Response) -> str:
    """The CSRF token the page's forms carry."""
    return forms(page.text)[next(iter(forms(page.text)))][1]["_csrf_token"]


def forms(html: str) -> dict[str, tuple[str, dict[str, str]]]:
    """Each form of the page by id: its action and its hidden fields."""
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def visible_text(html: str) -> str:
    """The page's words, for failure messages and assertions."""
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.words).split())


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: dict[str, tuple[str, dict[str, str]]] = {}
        self._current: dict[str, str] | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self._current = {}
            self.forms[attributes.get("id", "")] = (attributes.get("action", ""), self._current)
        elif tag == "input" and self._current is not None and attributes.get("type") == "hidden":
            self._current[attributes["name"]] = attributes.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.words: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        self._hidden += tag in {"script", "style", "head"}

    def handle_endtag(self, tag):
        self._hidden -= tag in {"script", "style", "head"}

    def handle_data(self, data):
        if not self._hidden:
            self.words.append(data)
