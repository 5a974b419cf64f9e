"""Fixtures for driver tests."""

from __future__ import annotations

from httpapp import app_server, refused_url

__all__ = ["app_server", "refused_url"]
