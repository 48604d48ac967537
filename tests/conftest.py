"""Shared fixtures: a fake deterministic embedder so most tests run without the real model."""

from __future__ import annotations

import hashlib
import importlib.util
import re
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from claimmatch.config import Settings

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


def load_script(name: str) -> ModuleType:
    """A file of ``scripts/`` (not a package) imported as a module, so tests can call its ``main``."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class FakeEmbedder:
    """Bag of lower-cased words hashed into 256 dims: equal word sets give cosine 1, disjoint ones 0."""

    name = "fake-bow-256"
    dim = 256

    def __init__(self) -> None:
        self.calls = 0
        self.texts_seen = 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        self.texts_seen += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                slot = int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim
                out[row, slot] += 1.0
            norm = np.linalg.norm(out[row])
            if norm:
                out[row] /= norm
        return out


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for index tests: indexes and caches under this test's tmp_path, quiet, no NLI."""
    return Settings(index_dir=str(tmp_path / "indexes"), cache_dir=str(tmp_path / "cache"), quiet=True,
                    use_nli=False)


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory, monkeypatch):
    """Keep the embedding cache and index home of every test out of the user's folders."""
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("CLAIMMATCH_CACHE_DIR", str(cache))
    return cache


@pytest.fixture
def articles(tmp_path: Path) -> Path:
    """Three small articles by three outlets: two report the same claim, one contradicts it."""
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "alpha.txt").write_text(
        "Storm closes harbour\n\nThe harbour of Portville was closed on Monday after a storm damaged the pier. "
        "Fishermen said the closure would last a week.\n", encoding="utf-8")
    (folder / "beta.txt").write_text(
        "Portville harbour shut\n\nThe harbour of Portville was closed on Monday after a storm damaged the pier. "
        "The mayor said repairs would cost two million euros.\n", encoding="utf-8")
    (folder / "gamma.txt").write_text(
        "Harbour open as usual\n\nOfficials insisted the Portville harbour stayed open all week despite rumours. "
        "Tourists visited the old lighthouse on Sunday afternoon.\n", encoding="utf-8")
    return folder


@pytest.fixture
def cli_env(monkeypatch, tmp_path: Path) -> None:
    """CLI runs with the fake embedder, no NLI, and indexes under this test's tmp_path."""
    from claimmatch import pipeline

    monkeypatch.setattr(pipeline, "default_embedder", lambda settings: FakeEmbedder())
    monkeypatch.setenv("CLAIMMATCH_USE_NLI", "false")
    monkeypatch.setenv("CLAIMMATCH_INDEX_DIR", str(tmp_path / "indexes"))


def invoke(*args):
    """Run the claimmatch CLI in-process on string-converted arguments."""
    from typer.testing import CliRunner

    from claimmatch.cli import app

    return CliRunner().invoke(app, [str(a) for a in args])
