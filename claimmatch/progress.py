"""Progress bars on stderr (tqdm), silenced by --quiet or when nothing is left to do."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from tqdm.auto import tqdm


def progress(total: int | None = None, desc: str = "", unit: str = "it", quiet: bool = False) -> tqdm:
    return tqdm(total=total, desc=desc, unit=unit, disable=quiet, file=sys.stderr, leave=False,
                dynamic_ncols=True)


@contextmanager
def no_weight_loading_bar() -> Iterator[None]:
    """Hide transformers' "Loading weights" bar: on every CLI run it is noise, not progress."""
    from transformers.utils import logging as hf_logging

    was_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_on:
            hf_logging.enable_progress_bar()
