"""A FAKE Auth0 tenant on loopback, for tests only: Auth0's documented wire format, not Auth0.

Auth0's cloud cannot run here, so this stands in for it, speaking what the arcade and the badge
use: OpenID discovery, the JWKS (RS256), the device-code and token endpoints with Auth0's status
codes (``403 authorization_pending``, ``429 slow_down``, ``403 expired_token``, ``403
access_denied``), refresh tokens, revocation, ``/userinfo``, and the Management API's client
credentials and get-user-by-id. It serves HTTPS, as Auth0's issuer is ``https://DOMAIN/``, with a
certificate from a throwaway CA (tests/certificates.py). The person's side of the
device flow (entering the code at ``/activate``) is :meth:`FakeAuth0.approve`.

For a Regular Web Application (:meth:`FakeAuth0.add_web_client`) it has the authorization code
flow as Auth0 runs it: ``/authorize`` refuses an unknown client and a redirect URI that is not
an Allowed Callback URL on its own error page, sends other errors back to the redirect URI, and
shows its login page (``/u/login``, e-mail and password); the token endpoint takes each code once,
from that client with its secret, with the same redirect URI and the PKCE verifier of its
challenge. This tenant requires PKCE (S256), as Auth0 does of public clients and Okta and Keycloak
can be set to of every client.
"""

import base64
import hashlib
import html
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlencode

import uvicorn
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from litestar import Litestar, MediaType, Request, Response, get, post
from litestar.response import Redirect

from tests.certificates import Certificates

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
CLIENT_ID = "badge-native-app"
AUDIENCE = "https://arcade.example/api"
MANAGEMENT_CLIENT_ID = "arcade-m2m"
MANAGEMENT_CLIENT_SECRET = "m2m-secret-for-tests"
WEB_CLIENT_ID = "arcade-web-app"
WEB_CLIENT_SECRET = "web-app-secret-for-tests"
PASSWORD = "Correct-Horse-7"
"""Every user's password at the login page."""


def new_signing_key(kid: str | None = None) -> RSAKey:
    """An RS256 key as Auth0 publishes them; ``kid`` to impersonate a published key's id."""
    parameters = {"use": "sig", "alg": "RS256"} | ({"kid": kid} if kid else {})
    key = RSAKey.generate_key(2048, parameters=parameters, private=True)
    key.ensure_kid()
    return key


@dataclass
class DeviceGrant:
    user_code: str
    expires_at: float
    audience: str | None
    polled_at: float = 0.0
    user_id: str | None = None
    denied: bool = False


@dataclass
class WebClient:
    secret: str
    callbacks: list[str]


@dataclass
class AuthorizationCode:
    client_id: str
    redirect_uri: str
    user_id: str
    nonce: str | None
    challenge: str
    used: bool = False


@dataclass
class Transaction:
    """An /authorize request waiting at the login page."""

    client_id: str
    redirect_uri: str
    state: str | None
    nonce: str | None
    challenge: str
    logins: list[str] = field(default_factory=list)


class FakeAuth0:
    """One fake tenant at ``https://127.0.0.1:PORT/``; start it with :meth:`start`."""

    def __init__(self, port: int, certificates: Certificates, interval: int = 5):
        self.port = port
        self.refuses_api_tokens_at_userinfo = False
        """As node-oidc-provider does: an access token for an API (a resource) is not for /userinfo."""
        self.links_from_host = False
        """As node-oidc-provider does: the verification links are built from the request's Host."""
        self.userinfo_down = False
        """/userinfo answers 503, as a tenant in trouble does."""
        self.device_requests: list[dict] = []
        """The fields of every device authorization request, as sent."""
        self.certificates = certificates
        self.interval = interval
        self.keys = [new_signing_key()]
        self.users: dict[str, dict] = {}
        self.grants: dict[str, DeviceGrant] = {}
        self.refresh_tokens: dict[str, str] = {}
        self.opaque_tokens: dict[str, str] = {}
        """The user of each opaque access token (no ``audience``): good for /userinfo only."""
        self.management_tokens: set[str] = set()
        self.web_clients: dict[str, WebClient] = {}
        self.transactions: dict[str, Transaction] = {}
        self.codes: dict[str, AuthorizationCode] = {}
        self.id_claims: dict[str, dict] = {}
        """Claims an Action adds to each user's ID tokens (``https://arcade.example/roles``)."""
        self.id_token_changes: dict = {}
        """What the test makes the next ID tokens say instead (another ``aud``, ``nonce``): a provider gone wrong."""
        self.calls: Counter = Counter()
        self.discovery = {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}authorize",
            "token_endpoint": f"{self.issuer}oauth/token",
            "device_authorization_endpoint": f"{self.issuer}oauth/device/code",
            "userinfo_endpoint": f"{self.issuer}userinfo",
            "jwks_uri": f"{self.issuer}.well-known/jwks.json",
            "revocation_endpoint": f"{self.issuer}oauth/revoke",
            "scopes_supported": ["openid", "profile", "offline_access", "name", "nickname", "picture", "email"],
            "response_types_supported": ["code", "token", "id_token", "code token", "code id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["HS256", "RS256", "PS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        }
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def domain(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def issuer(self) -> str:
        return f"https://{self.domain}/"

    # -- the test's side ------------------------------------------------------------------

    def add_user(
        self, user_id: str, name: str, nickname: str, picture: str | None = None, claims: dict | None = None
    ) -> None:
        """A user in the Management API's shape; ``claims``: what an Action adds to their ID tokens."""
        self.id_claims[user_id] = claims or {}
        self.users[user_id] = {
            "user_id": user_id,
            "email": f"{nickname}@example.org",
            "email_verified": True,
            "name": name,
            "nickname": nickname,
            "picture": picture,
            "identities": [{"provider": user_id.split("|")[0], "user_id": user_id.split("|")[1], "isSocial": False}],
            "created_at": "2024-05-01T10:00:00.000Z",
            "updated_at": "2024-05-01T10:00:00.000Z",
            "logins_count": 1,
        }

    def add_web_client(self, callbacks: list[str], client_id: str = WEB_CLIENT_ID) -> None:
        """A Regular Web Application with these Allowed Callback URLs and the secret WEB_CLIENT_SECRET."""
        self.web_clients[client_id] = WebClient(WEB_CLIENT_SECRET, callbacks)

    def approve(self, user_code: str, user_id: str) -> None:
        """The person's side: ``user_id`` entered ``user_code`` at /activate and confirmed."""
        self._grant_by_user_code(user_code).user_id = user_id

    def deny(self, user_code: str) -> None:
        self._grant_by_user_code(user_code).denied = True

    def rotate(self) -> None:
        """A new signing key, published before the old one (which stays published)."""
        self.keys.insert(0, new_signing_key())

    def mint(
        self, subject: str, claims: dict | None = None, header: dict | None = None, key: RSAKey | None = None
    ) -> str:
        """An access token as Auth0 issues it for the API, with ``claims`` and ``header`` overriding."""
        key = key or self.keys[0]
        now = int(time.time())
        payload = {
            "iss": self.issuer,
            "sub": subject,
            "aud": [AUDIENCE, f"{self.issuer}userinfo"],
            "iat": now,
            "exp": now + 86400,
            "azp": CLIENT_ID,
            "scope": "openid profile offline_access",
        }
        payload.update(claims or {})
        headers = {"alg": "RS256", "typ": "JWT", "kid": key.kid}
        headers.update(header or {})
        return jwt.encode(headers, payload, key, algorithms=[headers["alg"]])

    def id_token(
        self,
        user_id: str,
        claims: dict | None = None,
        key: RSAKey | None = None,
        client_id: str = CLIENT_ID,
        nonce: str | None = None,
    ) -> str:
        """The ID token Auth0 gives an application (the badges' by default): the user's profile, ``aud`` its
        client id; the user's Action claims, ``id_token_changes`` and then ``claims`` change what it says."""
        user = self.users[user_id]
        key = key or self.keys[0]
        now = int(time.time())
        payload = {
            "iss": self.issuer,
            "sub": user_id,
            "aud": client_id,
            "iat": now,
            "exp": now + 36000,
            "name": user["name"],
            "nickname": user["nickname"],
            "picture": user["picture"],
            **({"nonce": nonce} if nonce else {}),
            **self.id_claims.get(user_id, {}),
            **self.id_token_changes,
            **(claims or {}),
        }
        return jwt.encode({"alg": "RS256", "typ": "JWT", "kid": key.kid}, payload, key)

    def _grant_by_user_code(self, user_code: str) -> DeviceGrant:
        (grant,) = [grant for grant in self.grants.values() if grant.user_code == user_code]
        return grant

    # -- running ---------------------------------------------------------------------------

    def start(self) -> "FakeAuth0":
        config = uvicorn.Config(
            self._app(),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            timeout_graceful_shutdown=1,
            ssl_certfile=str(self.certificates.cert_file),
            ssl_keyfile=str(self.certificates.key_file),
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="fake-auth0", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the fake Auth0 did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            self._thread.join(30)
            self._server = None

    # -- the wire ----------------------------------------------------------------------------

    def _app(self) -> Litestar:
        fake = self

        @get("/.well-known/openid-configuration")
        async def discovery() -> Response:
            fake.calls["discovery"] += 1
            return _json(fake.discovery)

        @get("/.well-known/jwks.json")
        async def jwks() -> Response:
            fake.calls["jwks"] += 1
            return _json(KeySet(fake.keys).as_dict(private=False))

        @post("/oauth/device/code")
        async def device_code(request: Request) -> Response:
            fields = await _fields(request)
            fake.device_requests.append(fields)
            if fields.get("client_id") != CLIENT_ID:
                return _error(401, "unauthorized_client", "Unauthorized or unknown client")
            if fields.get("audience") not in (None, AUDIENCE):
                return _error(403, "access_denied", f"Service not found: {fields['audience']}")
            device_code = secrets.token_urlsafe(30)
            user_code = f"{secrets.token_hex(2).upper()}-{secrets.token_hex(2).upper()}"
            fake.grants[device_code] = DeviceGrant(
                user_code=user_code, expires_at=time.monotonic() + 900, audience=fields.get("audience")
            )
            base = f"https://{request.headers.get('host', '')}/" if fake.links_from_host else fake.issuer
            return _json(
                {
                    "device_code": device_code,
                    "user_code": user_code,
                    "verification_uri": f"{base}activate",
                    "verification_uri_complete": f"{base}activate?user_code={user_code}",
                    "expires_in": 900,
                    "interval": fake.interval,
                }
            )

        @post("/oauth/token")
        async def token(request: Request) -> Response:
            fields = await _fields(request)
            grant_type = fields.get("grant_type")
            if grant_type == DEVICE_GRANT:
                return fake._device_token(fields)
            if grant_type == "refresh_token":
                user_id = fake.refresh_tokens.get(fields.get("refresh_token", ""))
                if user_id is None or fields.get("client_id") != CLIENT_ID:
                    return _error(403, "invalid_grant", "Unknown or invalid refresh token.")
                return _json(fake._tokens(user_id, refresh=False, for_api=True))
            if grant_type == "client_credentials":
                return fake._management_token(fields)
            if grant_type == "authorization_code":
                return fake._code_token(fields, request.headers.get("authorization", ""))
            return _error(403, "unsupported_grant_type", f"Unsupported grant type: {grant_type}")

        @post("/oauth/revoke")
        async def revoke(request: Request) -> Response:
            fields = await _fields(request)
            fake.refresh_tokens.pop(fields.get("token", ""), None)
            return Response(content=b"", status_code=200)

        @get("/userinfo")
        async def userinfo(request: Request) -> Response:
            fake.calls["userinfo"] += 1
            if fake.userinfo_down:
                return Response(content="Service Unavailable", status_code=503, media_type=MediaType.TEXT)
            if fake.refuses_api_tokens_at_userinfo and fake._is_api_token(request.headers.get("authorization", "")):
                challenge = 'Bearer error="invalid_token", error_description="token audience prevents accessing the userinfo endpoint"'
                return Response(content=b"", status_code=401, headers={"WWW-Authenticate": challenge})
            user = fake._user_of_access_token(request.headers.get("authorization", ""))
            if user is None:
                return Response(content="Unauthorized", status_code=401, media_type=MediaType.TEXT)
            return _json({"sub": user["user_id"], **{k: user[k] for k in ("name", "nickname", "picture")}})

        @get("/api/v2/users/{user_id:str}")
        async def get_user(request: Request) -> Response:
            user_id = request.path_params["user_id"]
            fake.calls["management_user"] += 1
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            if scheme != "Bearer" or token not in fake.management_tokens:
                return _json({"statusCode": 401, "error": "Unauthorized", "message": "Invalid token"}, 401)
            if user_id not in fake.users:
                return _json(
                    {
                        "statusCode": 404,
                        "error": "Not Found",
                        "message": "The user does not exist.",
                        "errorCode": "inexistent_user",
                    },
                    404,
                )
            return _json(fake.users[user_id])

        @get("/authorize")
        async def authorize(request: Request) -> Response:
            return fake._authorize(dict(request.query_params))

        @post("/u/login")
        async def log_in(request: Request) -> Response:
            return fake._log_in(dict(await request.form()))

        routes = [discovery, jwks, device_code, token, revoke, userinfo, get_user, authorize, log_in]
        return Litestar(routes, openapi_config=None, logging_config=None)

    def _device_token(self, fields: dict) -> Response:
        grant = self.grants.get(fields.get("device_code", ""))
        if grant is None or fields.get("client_id") != CLIENT_ID:
            return _error(403, "invalid_grant", "Invalid or expired device code.")
        now = time.monotonic()
        if now > grant.expires_at:
            return _error(403, "expired_token", "The device code has expired.")
        if grant.denied:
            del self.grants[fields["device_code"]]
            return _error(403, "access_denied", "User cancelled the confirmation prompt or consent page.")
        if grant.user_id is None:
            too_soon = now - grant.polled_at < self.interval
            grant.polled_at = now
            if too_soon:
                return _error(
                    429, "slow_down", f"You are polling faster than the specified interval of {self.interval} seconds."
                )
            return _error(403, "authorization_pending", "User has yet to authorize device code.")
        del self.grants[fields["device_code"]]
        return _json(self._tokens(grant.user_id, refresh=True, for_api=grant.audience is not None))

    def _tokens(self, user_id: str, refresh: bool, for_api: bool) -> dict:
        """Auth0's token answer; without an ``audience`` the access token is opaque, good for /userinfo only."""
        answer = {
            "access_token": self.mint(user_id) if for_api else self._opaque_token(user_id),
            "id_token": self.id_token(user_id),
            "scope": "openid profile offline_access",
            "expires_in": 86400,
            "token_type": "Bearer",
        }
        if refresh:
            answer["refresh_token"] = secrets.token_urlsafe(32)
            self.refresh_tokens[answer["refresh_token"]] = user_id
        return answer

    def _management_token(self, fields: dict) -> Response:
        self.calls["management_token"] += 1
        if (fields.get("client_id"), fields.get("client_secret")) != (MANAGEMENT_CLIENT_ID, MANAGEMENT_CLIENT_SECRET):
            return _error(401, "access_denied", "Unauthorized")
        if fields.get("audience") != f"{self.issuer}api/v2/":
            return _error(403, "access_denied", f"Service not found: {fields.get('audience')}")
        token = secrets.token_urlsafe(32)
        self.management_tokens.add(token)
        return _json({"access_token": token, "scope": "read:users", "expires_in": 86400, "token_type": "Bearer"})

    def _authorize(self, query: dict) -> Response:
        """Errors about the client or the redirect URI are shown here: redirecting could send a code
        to whoever asked (RFC 6749 §4.1.2.1); the others go back to the redirect URI."""
        client = self.web_clients.get(query.get("client_id", ""))
        if client is None:
            return _page(400, "Unknown client", f"invalid_request: Unknown client: {query.get('client_id')}")
        redirect_uri = query.get("redirect_uri", "")
        if redirect_uri not in client.callbacks:
            text = f"Callback URL mismatch. {redirect_uri} is not in the list of allowed callback URLs."
            return _page(400, "Callback URL mismatch", text)
        state = query.get("state")
        if query.get("response_type") != "code":
            return _back(redirect_uri, state, "unsupported_response_type", "Unsupported response type")
        if not query.get("code_challenge") or query.get("code_challenge_method") != "S256":
            return _back(
                redirect_uri, state, "invalid_request", "code_challenge and code_challenge_method=S256 are required"
            )
        transaction = secrets.token_urlsafe(16)
        self.transactions[transaction] = Transaction(
            query["client_id"], redirect_uri, state, query.get("nonce"), query["code_challenge"]
        )
        return _login_page(transaction)

    def _log_in(self, form: dict) -> Response:
        transaction = self.transactions.get(form.get("transaction", ""))
        if transaction is None:
            return _page(400, "Oops!", "invalid_request: the login session expired; go back to the application")
        login = form.get("username", "")
        user = next((user for user in self.users.values() if login in (user["email"], user["nickname"])), None)
        if user is None or form.get("password") != PASSWORD:
            return _login_page(form["transaction"], "Wrong email or password.")
        del self.transactions[form["transaction"]]
        code = secrets.token_urlsafe(24)
        self.codes[code] = AuthorizationCode(
            transaction.client_id, transaction.redirect_uri, user["user_id"], transaction.nonce, transaction.challenge
        )
        query = {"code": code, **({"state": transaction.state} if transaction.state else {})}
        return Redirect(f"{transaction.redirect_uri}?{urlencode(query)}", status_code=302)

    def _code_token(self, fields: dict, authorization: str) -> Response:
        client_id, secret = fields.get("client_id"), fields.get("client_secret")
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() == "basic":
            client_id, _, secret = base64.b64decode(credentials).decode().partition(":")
        client = self.web_clients.get(client_id or "")
        if client is None or secret != client.secret:
            return _error(401, "access_denied", "Unauthorized")
        code = self.codes.get(fields.get("code", ""))
        if code is None or code.used or code.client_id != client_id:
            return _error(403, "invalid_grant", "Invalid authorization code")
        code.used = True  # once, whatever follows
        if fields.get("redirect_uri") != code.redirect_uri:
            return _error(403, "invalid_grant", "Unauthorized redirect_uri")
        verifier = fields.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if not verifier or challenge != code.challenge:
            return _error(403, "invalid_grant", "Failed to verify code verifier")
        return _json(
            {
                "access_token": self._opaque_token(code.user_id),
                "id_token": self.id_token(code.user_id, client_id=client_id, nonce=code.nonce),
                "scope": "openid profile",
                "expires_in": 86400,
                "token_type": "Bearer",
            }
        )

    def _opaque_token(self, user_id: str) -> str:
        token = secrets.token_urlsafe(24)
        self.opaque_tokens[token] = user_id
        return token

    def _user_of_access_token(self, authorization: str) -> dict | None:
        scheme, _, token = authorization.partition(" ")
        if scheme == "Bearer" and token in self.opaque_tokens:
            return self.users.get(self.opaque_tokens[token])
        try:
            claims = jwt.decode(token, KeySet(self.keys), algorithms=["RS256"]).claims
        except Exception:  # anything unverifiable is simply not a user here
            return None
        return self.users.get(claims.get("sub")) if scheme == "Bearer" else None

    def _is_api_token(self, authorization: str) -> bool:
        _, _, token = authorization.partition(" ")
        try:
            audience = jwt.decode(token, KeySet(self.keys), algorithms=["RS256"]).claims.get("aud")
        except Exception:
            return False
        return AUDIENCE in (audience if isinstance(audience, list) else [audience])


async def _fields(request: Request) -> dict:
    """Auth0 takes its parameters as a form or as JSON."""
    if request.headers.get("content-type", "").startswith("application/json"):
        return await request.json()
    return dict(await request.form())


def _json(content, status: int = 200) -> Response:
    return Response(content=content, status_code=status, media_type=MediaType.JSON)


def _page(status: int, title: str, text: str) -> Response:
    body = f"<!doctype html><title>{html.escape(title)}</title><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>"
    return Response(content=body, status_code=status, media_type=MediaType.HTML)


def _login_page(transaction: str, error: str = "") -> Response:
    """Universal Login's page, in the fewest words: e-mail (or username) and password."""
    shown = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
    body = (
        "<!doctype html><title>Log in</title><h1>Welcome</h1>"
        f'{shown}<form id="log-in" method="post" action="/u/login">'
        f'<input type="hidden" name="transaction" value="{transaction}">'
        '<label>Email address <input name="username" autocomplete="username"></label>'
        '<label>Password <input name="password" type="password"></label>'
        '<button type="submit">Continue</button></form>'
    )
    return Response(content=body, status_code=400 if error else 200, media_type=MediaType.HTML)


def _back(redirect_uri: str, state: str | None, error: str, description: str) -> Redirect:
    query = {"error": error, "error_description": description, **({"state": state} if state else {})}
    return Redirect(f"{redirect_uri}?{urlencode(query)}", status_code=302)


def _error(status: int, error: str, description: str) -> Response:
    return _json({"error": error, "error_description": description}, status)
