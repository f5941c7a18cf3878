"""A model of the test project, written by webhook handlers in the tests."""

from __future__ import annotations

from django.db import models


class Note(models.Model):
    """A line a handler wrote."""

    text: models.CharField[str, str] = models.CharField(max_length=200)

    def __str__(self) -> str:
        return str(self.text)
