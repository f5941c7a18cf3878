"""Settings of a Django site that receives SuperOffice webhooks (the parts that matter)."""

import os

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "insecure: set DJANGO_SECRET_KEY")
DEBUG = False
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1").split(",")

INSTALLED_APPS = [
    "superoffice_webhooks.contrib.django",  # checks SUPEROFFICE_WEBHOOKS at startup
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",  # the webhook view is exempt
]
ROOT_URLCONF = "django_site.urls"
USE_TZ = True

SUPEROFFICE_WEBHOOKS = {
    "SECRET": os.environ["SUPEROFFICE_WEBHOOK_SECRET"],
    "DISPATCHER": "django_site.handlers.dispatcher",  # imported at the first request
    "OPTIONS": {"on_handler_error": "retry"},  # any Receiver option
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "django_site": {"handlers": ["console"], "level": "INFO"},
        "superoffice_webhooks": {"handlers": ["console"], "level": "WARNING"},
    },
}
