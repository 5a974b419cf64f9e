"""Tiny HTTP helpers the example's check scripts share (standard library only)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any


def get(url: str, timeout: float = 5.0) -> tuple[int, str, float]:
    """(status, body, seconds) of a GET; HTTP errors are returned, not raised."""
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read().decode("utf-8", "replace"), time.perf_counter() - start
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace"), time.perf_counter() - start


def get_json(url: str, timeout: float = 5.0) -> tuple[int, Any]:
    """(status, parsed JSON body or None)."""
    status, body, _ = get(url, timeout)
    try:
        return status, json.loads(body)
    except ValueError:
        return status, None
