"""The ASGI entry point: ``python -m uvicorn camarketplace.app:app`` in a version directory."""

from camarketplace.factory import create_app

app = create_app()
