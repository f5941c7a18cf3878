"""URLs: the webhook view at /superoffice/webhook/."""

from django.urls import path

from superoffice_webhooks.contrib.django import WebhookView

urlpatterns = [
    path("superoffice/webhook/", WebhookView.as_view(), name="superoffice-webhook"),
]
