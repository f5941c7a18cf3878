"""Integrations with web frameworks (django, flask, asgi, fastapi) and engines (redis, celery).

Each module imports its own dependency; the package root imports none of them.
"""
