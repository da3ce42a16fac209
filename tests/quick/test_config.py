"""One configuration object: defaults < TOML file < REPORTSEARCH_* environment < command-line flags."""
from __future__ import annotations

from pathlib import Path

import pytest

from indexer.core.config import Config, load_config


def test_precedence_defaults_file_environment_flags(tmp_path):
    toml = tmp_path / "rs.toml"
    toml.write_text('[reportsearch]\nindex_dir = "/srv/idx"\nrrf_k = 30\nmax_chunk_chars = 300\nmodel = "from-file"\n',
                    encoding="utf-8")
    env = {"REPORTSEARCH_RRF_K": "45", "REPORTSEARCH_MODEL": "from-env"}
    config = load_config(toml, {"model": "from-flag"}, environ=env)
    assert config.index_dir == Path("/srv/idx")  # file beats default
    assert config.max_chunk_chars == 300
    assert config.rrf_k == 45  # environment beats file
    assert config.model == "from-flag"  # flag beats environment
    assert config.min_chunk_chars == Config().min_chunk_chars  # default stays


def test_config_file_can_come_from_the_environment(tmp_path):
    toml = tmp_path / "rs.toml"
    toml.write_text("keep_generations = 7\nembed_with_context = false\n", encoding="utf-8")
    config = load_config(None, None, environ={"REPORTSEARCH_CONFIG": str(toml)})
    assert config.keep_generations == 7 and config.embed_with_context is False


@pytest.mark.parametrize("content,needle", [("rrf_k = [", "not valid TOML"), ("colour = 1", "unknown setting: colour"),
                                             ('rrf_k = "many"', "rrf_k")])
def test_bad_config_names_the_problem(tmp_path, content, needle):
    toml = tmp_path / "rs.toml"
    toml.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=needle):
        load_config(toml, environ={})


def test_missing_config_file_is_named(tmp_path):
    with pytest.raises(ValueError, match="config file not found"):
        load_config(tmp_path / "nope.toml", environ={})
