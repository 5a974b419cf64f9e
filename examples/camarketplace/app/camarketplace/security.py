"""Password hashes and signed bearer tokens (stateless, so every version accepts them)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time


def hash_password(password: str, *, salt: str, iterations: int = 20000) -> str:
    """``pbkdf2_sha256$iterations$salt$hex``."""
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations)
    return f"pbkdf2_sha256${iterations}${salt}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a hash made by :func:`hash_password`."""
    try:
        _, iterations, salt, _ = stored.split("$")
        expected = hash_password(password, salt=salt, iterations=int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(expected, stored)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _sign(payload: str, secret: str) -> str:
    return _b64(hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest())


def issue_token(user_id: str, secret: str, *, ttl: int = 3600) -> str:
    """A bearer token for ``user_id`` valid for ``ttl`` seconds."""
    payload = _b64(json.dumps({"sub": user_id, "exp": int(time.time()) + ttl}).encode())
    return f"{payload}.{_sign(payload, secret)}"


def read_token(token: str, secret: str) -> str | None:
    """The user id in a valid, unexpired token, else None."""
    payload, _, signature = token.partition(".")
    if not hmac.compare_digest(signature, _sign(payload, secret)):
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        user_id, expires = str(claims["sub"]), int(claims["exp"])
    except (ValueError, KeyError, TypeError):
        return None
    return user_id if expires > time.time() else None
