"""A model of the test project, written by webhook handlers in the tests."""

from django.db import models


class Note(models.Model):
    """A line a handler wrote."""

    text = models.CharField(max_length=200)

    def __str__(self) -> str:
        return self.text
