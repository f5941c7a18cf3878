"""The example's URL plus views configured by as_view() options, and the admin, for the tests."""

from django.contrib import admin
from django.urls import include, path
from webhook_cases import LIMIT, Recorder

from superoffice_webhooks.contrib.django import AsyncWebhookView, WebhookView

#: Records what the test views' handlers get; the tests clear it.
recorder = Recorder()

urlpatterns = [
    path("", include("django_site.urls")),
    path("admin/", admin.site.urls),
    path("sync/", WebhookView.as_view(dispatcher=recorder.dispatcher, max_body_size=LIMIT)),
    path("async/", AsyncWebhookView.as_view(dispatcher=recorder.dispatcher, max_body_size=LIMIT)),
    path("ack/", WebhookView.as_view(dispatcher=recorder.dispatcher, on_handler_error="ack")),
    path("settings/", WebhookView.as_view()),
]
