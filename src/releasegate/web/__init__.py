"""The web dashboard and REST API (``releasegate serve``): see ``web/app.py``."""

from releasegate.web.app import create_app

__all__ = ["create_app"]
