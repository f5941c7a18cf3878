"""The inbox table (:class:`~superoffice_webhooks.contrib.django.models.InboxEntry`)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []  # noqa: RUF012  # Django reads it as a plain class attribute

    operations = [  # noqa: RUF012  # as above
        migrations.CreateModel(
            name="InboxEntry",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("tenant", models.CharField(help_text="The ContextIdentifier.", max_length=255)),
                ("event_id", models.UUIDField(help_text="The EventId.")),
                (
                    "event",
                    models.CharField(
                        help_text="The event name, e.g. person.consented.", max_length=255
                    ),
                ),
                ("body", models.BinaryField(help_text="The raw body, as received and verified.")),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("pending", "pending"),
                            ("running", "running"),
                            ("done", "done"),
                            ("dead", "dead"),
                        ],
                        max_length=16,
                    ),
                ),
                ("attempts", models.PositiveIntegerField(default=0)),
                ("received_at", models.DateTimeField()),
                (
                    "next_attempt_at",
                    models.DateTimeField(
                        help_text="When it is due (pending) or last changed state."
                    ),
                ),
                ("owner", models.CharField(blank=True, max_length=255, null=True)),
                ("lease_until", models.DateTimeField(blank=True, null=True)),
                ("last_error", models.TextField(blank=True, null=True)),
            ],
            options={
                "verbose_name": "inbox entry",
                "verbose_name_plural": "inbox entries",
                "indexes": [
                    models.Index(
                        fields=["state", "next_attempt_at"], name="superoffice_wh_inbox_due"
                    ),
                    models.Index(
                        fields=["state", "lease_until"], name="superoffice_wh_inbox_lease"
                    ),
                    models.Index(fields=["received_at"], name="superoffice_wh_inbox_received"),
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("tenant", "event_id"), name="superoffice_webhooks_inbox_key"
                    )
                ],
            },
        ),
    ]
