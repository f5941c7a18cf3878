"""The Flask example as gunicorn serves it in the tests, with its log records on stderr."""

import logging

from flask_app import app

logging.basicConfig(level=logging.INFO)

__all__ = ["app"]
