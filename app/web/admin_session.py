"""The maintainer pages' sign-in cookie: a signed, expiring value that never holds the token.

The value is `{token id}.{expires at, unix seconds}.{signature}`. The signature is an HMAC
(under `Keys.admin_session_key`) of the id, the expiry and the token's fingerprint (its stored
sha256), so a cookie cannot be forged, extended or moved to another token, and revoking the
admin token (or issuing a new one in its place) ends every session made with it.
"""

import hashlib
import hmac
from dataclasses import dataclass

from app.config import tokens_match

LIFETIME_SECONDS = 12 * 3600


@dataclass(frozen=True)
class SessionClaim:
    """What a well-formed, unexpired cookie says; its signature is checked against the token's
    fingerprint once the token is looked up (`is_signed_for`)."""

    token_id: int
    expires_at: int
    signature: str

    def is_signed_for(self, key: bytes, fingerprint: str) -> bool:
        expected = _signature(key, self.token_id, self.expires_at, fingerprint)
        return tokens_match(self.signature, expected)


def _signature(key: bytes, token_id: int, expires_at: int, fingerprint: str) -> str:
    message = f"admin-session\x00{token_id}\x00{expires_at}\x00{fingerprint}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def issue(key: bytes, token_id: int, fingerprint: str, now: float) -> str:
    expires_at = int(now) + LIFETIME_SECONDS
    return f"{token_id}.{expires_at}.{_signature(key, token_id, expires_at, fingerprint)}"


def _is_number(text: str) -> bool:
    return 0 < len(text) <= 12 and text.isascii() and text.isdigit()


def read(value: str | None, now: float) -> SessionClaim | None:
    """The claim of a cookie value, or None when it is malformed or expired."""
    parts = (value or "").split(".")
    if len(parts) != 3 or not all(_is_number(p) for p in parts[:2]):
        return None
    claim = SessionClaim(int(parts[0]), int(parts[1]), parts[2])
    return claim if claim.expires_at > now else None
