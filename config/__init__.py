"""Project package: settings, URLs, the Celery app, WSGI/ASGI and the API router."""

from config.celery_app import app as celery_app

__all__ = ("celery_app",)
