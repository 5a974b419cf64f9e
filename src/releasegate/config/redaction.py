"""What a secret looks like in text: itself, its common encodings, and a piece of it left
at either end of a text that was cut (output truncated to a limit).

:func:`forms_of` lists the strings to hide for one secret; :func:`redact` hides them all,
longest first. Base64 is matched at each of the three byte alignments a secret can have
inside a longer encoded value (``user:secret`` in a Basic auth header), by the characters
that depend on the secret's bytes alone.
"""

from __future__ import annotations

import base64
from functools import lru_cache
from urllib.parse import quote, quote_plus

MASK = "***"
MIN_LENGTH = 4
"""Shorter values are not hidden: they would mask ordinary words and numbers."""
MIN_ENCODED = 8
"""An encoded form shorter than this is too likely to occur by chance."""
MIN_EDGE = 6
"""At least this much of a secret left at the edge of a cut text is hidden."""


@lru_cache(maxsize=256)
def forms_of(secret: str) -> tuple[str, ...]:
    """The secret and the encodings of it to hide, longest first."""
    raw = secret.encode("utf-8")
    found = {secret}
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        for offset in range(3):
            text = encode(b"\0" * offset + raw).decode("ascii")
            start = 4 if offset else 0  # the first group mixes in the bytes before it
            end = 4 * ((offset + len(raw)) // 3)  # the last mixes in the bytes after it
            core = text[start:end]
            if len(core) >= MIN_ENCODED:
                found.add(core)
            whole = text.rstrip("=") if offset == 0 else ""
            if len(whole) >= MIN_ENCODED:
                found.add(whole)
    for encoded in (quote(secret, safe=""), quote_plus(secret)):
        if encoded != secret:
            found.add(encoded)
    return tuple(sorted(found, key=len, reverse=True))


def redact(text: str, secrets: set[str] | frozenset[str]) -> str:
    """``text`` with every secret, each of its encodings, and a cut piece of one at the
    start or end of the text replaced by ``***``."""
    usable = [s for s in secrets if len(s) >= MIN_LENGTH]
    if not usable or not text:
        return text
    forms = sorted({f for s in usable for f in forms_of(s)}, key=len, reverse=True)
    for form in forms:
        if form in text:
            text = text.replace(form, MASK)
    return _edges(text, usable)


def _edges(text: str, secrets: list[str]) -> str:
    """Hide a secret's head left at the end of ``text``, or its tail at the start."""
    for secret in secrets:
        for size in range(len(secret) - 1, MIN_EDGE - 1, -1):
            if text.endswith(secret[:size]):
                text = text[: -size] + MASK
                break
        for size in range(len(secret) - 1, MIN_EDGE - 1, -1):
            if text.startswith(secret[-size:]):
                text = MASK + text[size:]
                break
    return text
