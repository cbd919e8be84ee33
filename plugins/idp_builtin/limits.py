"""The built-in provider's attempt budgets: how much one client address, and everyone, may try."""

from typing import Annotated

import msgspec

Count = Annotated[int, msgspec.Meta(ge=1)]


class Limits(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``[identity.builtin.limits]``: how much one client address, and everyone together, may try."""

    wrong_user_codes: Count = 5
    """Wrong user codes accepted from everyone together within any ``device_code_ttl``.

    Every other guess is refused until the window moves on, so at most this many
    guesses meet a code during its life: 5 in 20^8 is below 2^-32 (RFC 8628 §5.1).
    Scanning the badge's QR code needs no user code and is never held up by it.
    """
    wrong_user_codes_per_address: Count = 3
    """Wrong user codes from one client address within any ``device_code_ttl``."""
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
