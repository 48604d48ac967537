"""Progress bars on stderr (tqdm), silenced by --quiet or when nothing is left to do."""

from __future__ import annotations

import sys

from tqdm.auto import tqdm


def progress(total: int | None = None, desc: str = "", unit: str = "it", quiet: bool = False) -> tqdm:
    return tqdm(total=total, desc=desc, unit=unit, disable=quiet, file=sys.stderr, leave=False,
                dynamic_ncols=True)
