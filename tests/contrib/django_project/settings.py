"""The example site's settings, with the test views' URLs, a database, the admin and a test app.

The databases' names and servers are filled in by ``databases.use_test_databases`` before
anything connects: SQLite in a temporary directory, and a real PostgreSQL server. It also
puts them in the environment, for the processes the tests start.
"""

import json
import os

from django_site.settings import *  # noqa: F403  # the documented settings, as they are
from django_site.settings import INSTALLED_APPS, MIDDLEWARE

ROOT_URLCONF = "django_project.urls"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    *INSTALLED_APPS,
    "django_project.notes",  # has a webhooks.py that nothing imports
]
MIDDLEWARE = [
    *MIDDLEWARE,
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
DATABASES = json.loads(
    os.environ.get(
        "SUPEROFFICE_WEBHOOKS_TEST_DJANGO_DATABASES",
        json.dumps(
            {
                "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ""},
                "postgres": {"ENGINE": "django.db.backends.postgresql", "NAME": ""},
            }
        ),
    )
)
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast, for tests only
