"""Integrations with web frameworks and engines; each module imports its own dependency."""
