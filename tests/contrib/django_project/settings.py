"""The example site's settings, with the test views' URLs."""

from django_site.settings import *  # noqa: F403  # the documented settings, as they are

ROOT_URLCONF = "django_project.urls"
