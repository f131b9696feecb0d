"""Operator passwords (scrypt) and signed session cookies (HMAC-SHA256), standard library only.

A session token is ``<base64url JSON claims>.<base64url HMAC>``; the claims hold the operator
id, name and expiry. The CSRF token of a session is an HMAC of the session token under a
different label, so forms and ``fetch`` calls prove they come from a page we served.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass

# scrypt cost: N=2**14, r=8 takes 46 ms and 16 MiB on one core of the development machine:
# slow enough to make offline guessing expensive, fast enough that a login does not stall the
# ingest sharing the process. Raise N (it is stored with each hash) on a bigger server.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
KEY_BYTES = 32
MIN_PASSWORD_CHARS = 10


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=KEY_BYTES, maxmem=64 * 2**20
    )


def hash_password(password: str) -> str:
    """``scrypt$<n>$<r>$<p>$<salt>$<key>``: the parameters travel with the hash."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_CHARS} characters")
    salt = secrets.token_bytes(SALT_BYTES)
    key = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        candidate = _scrypt(password, _unb64(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(candidate, _unb64(key))


@dataclass(frozen=True, slots=True)
class SessionClaims:
    operator_id: int
    username: str
    expires_at_s: float  # Unix time


class SessionSigner:
    def __init__(self, secret: str, max_age_s: float) -> None:
        self._key = hashlib.sha256(b"vigifeu-console-session\0" + secret.encode()).digest()
        self.max_age_s = max_age_s

    def _mac(self, label: bytes, payload: bytes) -> str:
        return _b64(hmac.new(self._key, label + payload, hashlib.sha256).digest())

    def issue(self, operator_id: int, username: str, now_s: float | None = None) -> str:
        expires = (time.time() if now_s is None else now_s) + self.max_age_s
        claims = json.dumps({"id": operator_id, "name": username, "exp": expires}).encode()
        payload = _b64(claims)
        return f"{payload}.{self._mac(b'session:', payload.encode())}"

    def verify(self, token: str, now_s: float | None = None) -> SessionClaims | None:
        """The claims of a valid, unexpired token; None for anything else."""
        payload, _, mac = token.partition(".")
        if not mac or not hmac.compare_digest(mac, self._mac(b"session:", payload.encode())):
            return None
        try:
            claims = json.loads(_unb64(payload))
            result = SessionClaims(int(claims["id"]), str(claims["name"]), float(claims["exp"]))
        except (ValueError, KeyError, TypeError):
            return None
        if result.expires_at_s < (time.time() if now_s is None else now_s):
            return None
        return result

    def csrf_token(self, session_token: str) -> str:
        return self._mac(b"csrf:", session_token.encode())

    def csrf_valid(self, session_token: str, candidate: str) -> bool:
        return hmac.compare_digest(self.csrf_token(session_token), candidate)


class LoginThrottle:
    """Refuse logins for a name after ``max_failures`` failures within ``window_s``.

    In memory, per process: it slows online guessing of one account; scrypt slows the rest.
    """

    def __init__(self, max_failures: int = 5, window_s: float = 300.0) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()
        self.refused = 0

    def _recent(self, username: str, now_s: float) -> list[float]:
        recent = [t for t in self._failures.get(username, []) if now_s - t < self.window_s]
        self._failures[username] = recent
        return recent

    def allowed(self, username: str, now_s: float | None = None) -> bool:
        now = time.monotonic() if now_s is None else now_s
        with self._lock:
            ok = len(self._recent(username, now)) < self.max_failures
            self.refused += 0 if ok else 1
            return ok

    def failed(self, username: str, now_s: float | None = None) -> None:
        now = time.monotonic() if now_s is None else now_s
        with self._lock:
            self._recent(username, now).append(now)

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._failures.pop(username, None)
