"""The error a device gets back from the OAuth endpoints, raised wherever the flow decides."""

import re

from arcade.sdk.errors import ArcadeError

_NOT_ALLOWED = re.compile(r'[^\x20-\x21\x23-\x5b\x5d-\x7e]')
"""RFC 6749 §5.2: descriptions are printable ASCII without the double quote and the backslash."""


class OAuthError(ArcadeError):
    """An RFC 6749 §5.2 error: ``error`` is the code clients act on, ``description`` says why.

    Anything in the description RFC 6749 does not allow (say, from an echoed
    parameter) becomes ``?``.
    """

    def __init__(self, error: str, description: str, status_code: int = 400):
        super().__init__(description)
        self.error = error
        self.description = _NOT_ALLOWED.sub("?", description)
        self.status_code = status_code
