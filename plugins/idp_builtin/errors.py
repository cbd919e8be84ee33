"""The error a device gets back from the OAuth endpoints, raised wherever the flow decides."""


class OAuthError(Exception):
    """An RFC 6749 §5.2 error: ``error`` is the code clients act on, ``description`` says why.

    Descriptions stay within the characters RFC 6749 allows (printable ASCII
    without ``"`` and ``\\``), so write them with single quotes.
    """

    def __init__(self, error: str, description: str, status_code: int = 400):
        super().__init__(description)
        self.error = error
        self.description = description
        self.status_code = status_code
