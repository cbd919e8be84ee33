"""The built-in provider's attempt budgets: how much one account, one client address, and everyone may try."""

from typing import Annotated

import msgspec

Count = Annotated[int, msgspec.Meta(ge=1)]


class Limits(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``[identity.builtin.limits]``: how much one account, one client address, and everyone together may try."""

    wrong_user_codes: Count = 100_000
    """Wrong user codes typed by everyone together within any ``device_code_ttl``.

    A code lives ``device_code_ttl`` seconds, so at most this many guesses meet it:
    100,000 in 20^12 is 2^-35.3, below RFC 8628 §5.1's 2^-32 (``tests/test_device_flow_limits.py``
    computes it). Reaching it takes 20,000 accounts guessing at once; scanning the badge's
    QR code needs no user code and is never held up by it.
    """
    wrong_user_codes_per_account: Count = 5
    """Wrong user codes one logged-in person may type within any ``device_code_ttl``."""
    wrong_user_codes_per_address: Count = 100
    """Wrong user codes from one client address within any ``device_code_ttl``, whichever accounts type them."""
    device_authorizations_per_minute: Count = 30
    """Device authorization requests per client address."""
    token_requests_per_minute: Count = 300
    """Token requests per client address: 25 badges polling every 5 s behind one address."""
    wrong_passwords_per_account: Count = 10
    """Wrong passwords for one account within 15 minutes."""
    wrong_passwords_per_address: Count = 30
    """Wrong passwords from one client address within 15 minutes."""
    sign_ups_per_address: Count = 20
    """New accounts from one client address within an hour."""
