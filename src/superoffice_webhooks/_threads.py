"""Blocking calls from async code, run in a worker thread.

asyncio is imported when something async first runs, not with the package: with the ``ssl``
module it pulls in, it would be most of what importing the package costs, which every
synchronous user and every short-lived process would pay for nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ParamSpec, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["to_thread"]

P = ParamSpec("P")
T = TypeVar("T")


async def to_thread(function: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """``asyncio.to_thread``: *function* in a worker thread, with the context variables."""
    import asyncio  # noqa: PLC0415  # see the module docstring

    return await asyncio.to_thread(function, *args, **kwargs)
