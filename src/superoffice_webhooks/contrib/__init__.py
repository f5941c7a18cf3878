"""Adapters for web frameworks: ``contrib.django``, ``contrib.flask``, ``contrib.asgi``, ``contrib.fastapi``."""
