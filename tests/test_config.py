from __future__ import annotations

from pathlib import Path

import pytest

from claimmatch.config import Settings, load_settings
from claimmatch.errors import ClaimmatchError


def test_layers_override_in_order(tmp_path: Path):
    cfg = tmp_path / "claimmatch.toml"
    cfg.write_text("threshold = 0.7\nneighbors = 7\nbatch_size = 16\n")
    env = {"CLAIMMATCH_NEIGHBORS": "5", "CLAIMMATCH_BATCH_SIZE": "8"}
    s = load_settings(cfg, {"batch_size": 4}, environ=env)
    assert (s.threshold, s.neighbors, s.batch_size) == (0.7, 5, 4)
    assert load_settings(None, None, environ={}).threshold == Settings().threshold


def test_claimmatch_table_and_bools(tmp_path: Path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[claimmatch]\nuse-nli = false\n")
    assert load_settings(cfg, environ={"CLAIMMATCH_QUIET": "yes"}).use_nli is False
    assert load_settings(cfg, environ={"CLAIMMATCH_QUIET": "yes"}).quiet is True


@pytest.mark.parametrize("content, needle", [
    ("threshhold = 0.7\n", "unknown setting 'threshhold'"),
    ("threshold = 'high'\n", "must be float"),
    ("threshold = [\n", "not valid TOML"),
    ("threshold = 0.3\ncandidate_threshold = 0.5\n", "must not exceed"),
])
def test_bad_config_is_a_clear_error(tmp_path: Path, content: str, needle: str):
    cfg = tmp_path / "claimmatch.toml"
    cfg.write_text(content)
    with pytest.raises(ClaimmatchError, match=needle):
        load_settings(cfg, environ={})


def test_bad_env_value_names_the_variable():
    with pytest.raises(ClaimmatchError, match="CLAIMMATCH_NEIGHBORS"):
        load_settings(None, environ={"CLAIMMATCH_NEIGHBORS": "many"})
