"""Connecting to Ray, shared by every Ray engine (index builds, NLI pair scoring).

One place decides how Ray is found (an address, else ``RAY_ADDRESS``, else a local Ray started here),
how a missing Ray or an unreachable cluster is reported (one line), and that only the engine that
started Ray shuts it down.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from types import ModuleType

from claimmatch.errors import ClaimmatchError


def connect(address: str | None = None, init_options: dict | None = None) -> tuple[ModuleType, bool]:
    """The ``ray`` module, initialised; the flag says whether this call started it (and must stop it)."""
    try:
        import ray
    except ImportError:
        raise ClaimmatchError("--engine ray needs Ray: pip install 'claimmatch[ray]'") from None
    if ray.is_initialized():
        return ray, False
    address = address or os.environ.get("RAY_ADDRESS") or None
    try:
        ray.init(address=address, log_to_driver=False, configure_logging=False, **(init_options or {}))
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise ClaimmatchError(f"cannot reach the Ray cluster at {address or 'a local Ray'}: {exc}") from None
    return ray, True


def cluster_cpus(ray: ModuleType) -> int:
    return max(1, int(ray.cluster_resources().get("CPU", 1)))


def disconnect(ray: ModuleType, owns: bool) -> None:
    if owns and ray.is_initialized():
        ray.shutdown()


def ordered(get: Callable, submit: Callable, items: Iterable, max_in_flight: int) -> Iterator:
    """Results in submission order, with at most ``max_in_flight`` tasks running or queued.

    The bound keeps the driver's memory flat however long ``items`` is; the order keeps every Ray run
    equal to the in-process one. ``get`` is ``ray.get`` or a wrapper of it.
    """
    window: deque = deque()
    for item in items:
        window.append(submit(item))
        if len(window) >= max_in_flight:
            yield get(window.popleft())
    while window:
        yield get(window.popleft())
