"""claimmatch: find the claims news outlets share and the claims on which they disagree."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("claimmatch")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.1.0"

__all__ = ["__version__"]
