"""Writes the event classes and the typed ``on()`` from the event catalogue (not shipped)."""
