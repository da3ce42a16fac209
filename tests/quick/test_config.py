"""One configuration object: defaults < TOML file < REPORTSEARCH_* environment < command-line flags."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from indexer.core.config import Config, load_config
from indexer.cli.commands import main
from indexer.evaluation.run import apply_sets

REPO = Path(__file__).resolve().parents[2]


def test_precedence_defaults_file_environment_flags(tmp_path):
    toml = tmp_path / "rs.toml"
    toml.write_text('index_dir = "/srv/idx"\n[fusion]\nrrf_k = 30\n[analysis]\nmax_chunk_chars = 300\n'
                    '[embedding]\nmodel = "from-file"\n', encoding="utf-8")
    env = {"REPORTSEARCH_RRF_K": "45", "REPORTSEARCH_MODEL": "from-env"}
    config = load_config(toml, {"model": "from-flag"}, environ=env)
    assert config.index_dir == Path("/srv/idx")  # file beats default
    assert config.analysis.max_chunk_chars == 300
    assert config.fusion.rrf_k == 45  # environment beats file
    assert config.embedding.model == "from-flag"  # flag beats environment
    assert config.analysis.min_chunk_chars == Config().analysis.min_chunk_chars  # default stays


def test_sections_load_from_toml_including_nested_ones(tmp_path):
    toml = tmp_path / "rs.toml"
    toml.write_text('corpus_dir = "/srv/reports"\n'
                    '[engine]\nname = "milvus"\n[engine.milvus]\nuri = "http://milvus:19530"\ncollection = "gov"\n'
                    '[retrieval]\nsemantic_floor = 0.5\n[sentences]\nrerank = "off"\nweight = 0.25\n'
                    '[index]\nfulltext = "tantivy"\nverify_checksums = false\n', encoding="utf-8")
    config = load_config(toml, environ={})
    assert config.corpus_dir == Path("/srv/reports")
    assert (config.engine.name, config.engine.milvus.uri, config.engine.milvus.collection) == \
        ("milvus", "http://milvus:19530", "gov")
    assert config.engine.milvus.token == ""  # a key the section does not name keeps its default
    assert config.retrieval.semantic_floor == 0.5 and config.sentences.rerank == "off"
    assert config.sentences.weight == 0.25 and config.index.fulltext == "tantivy"
    assert config.index.verify_checksums is False
    assert config.config_file == toml


def test_flat_keys_of_an_old_config_file_still_load(tmp_path):
    """Files written before the sections: flat keys at the top or under [reportsearch]."""
    toml = tmp_path / "rs.toml"
    toml.write_text('[reportsearch]\nrrf_k = 30\nmilvus_uri = "./x.db"\nfusion = "rrf"\nembed_context = "headings"\n'
                    'verify_index_checksums = false\n', encoding="utf-8")
    config = load_config(toml, environ={})
    assert config.fusion.rrf_k == 30 and config.engine.milvus.uri == "./x.db" and config.fusion.method == "rrf"
    assert config.embedding.context == "headings" and config.index.verify_checksums is False
    old = tmp_path / "old.toml"
    old.write_text("keep_generations = 7\nembed_with_context = false\n", encoding="utf-8")
    config = load_config(None, None, environ={"REPORTSEARCH_CONFIG": str(old)})  # the file from the environment
    assert config.index.keep_generations == 7 and config.embedding.with_context is False


def test_every_setting_reads_its_environment_name():
    """REPORTSEARCH_<FLAT NAME> for every setting: a value unlike the default comes through, typed."""
    def other(setting) -> tuple[str, object]:
        if setting.type == "bool":
            return ("false", False) if setting.default else ("true", True)
        if setting.type == "int":
            return str(setting.default + 3), setting.default + 3
        if setting.type == "float":
            return str(setting.default + 0.25), setting.default + 0.25
        if "Path" in setting.type:
            return "/tmp/somewhere", Path("/tmp/somewhere")
        return "other-value", "other-value"

    env, expected = {}, {}
    for setting in Config.settings():
        env[setting.env], expected[setting.dotted] = other(setting)
    config = load_config(None, environ=env)
    for setting in Config.settings():
        assert config.value(setting.dotted) == expected[setting.dotted], setting.env
    names = {s.env for s in Config.settings()}
    for old in ("REPORTSEARCH_RRF_K", "REPORTSEARCH_MILVUS_URI", "REPORTSEARCH_ENGINE", "REPORTSEARCH_EMBEDDING_CACHE",
                "REPORTSEARCH_FULLTEXT_BACKEND", "REPORTSEARCH_SENTENCE_RERANK", "REPORTSEARCH_SEMANTIC_FLOOR",
                "REPORTSEARCH_VERIFY_INDEX_CHECKSUMS", "REPORTSEARCH_INDEX_DIR", "REPORTSEARCH_USER_DICT"):
        assert old in names


def test_set_accepts_section_keys_and_the_old_flat_names():
    config = apply_sets(Config(), ["fusion.rrf_k=20", "semantic_floor=0.5", "engine=milvus",
                                   "engine.milvus.collection=gov", "fusion_norm=minmax", "sentences.weight=0.4"])
    assert config.fusion.rrf_k == 20 and config.retrieval.semantic_floor == 0.5
    assert config.engine.name == "milvus" and config.engine.milvus.collection == "gov"
    assert config.fusion.norm == "minmax" and config.sentences.weight == 0.4
    assert apply_sets(Config(), ["rrf_k=20"]) == apply_sets(Config(), ["fusion.rrf_k=20"])


def test_eval_set_with_an_unknown_key_names_key_and_section(capsys, monkeypatch):
    for name in [n for n in os.environ if n.startswith("REPORTSEARCH_")]:
        monkeypatch.delenv(name)
    assert main(["eval", "unused-set", "--set", "rrf_k=20", "--set", "fusion.colour=red"]) == 2
    err = capsys.readouterr().err
    assert "fusion.colour" in err and "[fusion]" in err and "rrf_k" in err  # what the section does have


@pytest.mark.parametrize("key,needles", [
    ("fusion.colour", ["fusion.colour", "section [fusion] has no 'colour'"]),
    ("engine.milvus.port", ["engine.milvus.port", "[engine.milvus]", "uri"]),
    ("colour.rrf_k", ["colour.rrf_k", "no section [colour]", "[fusion]"]),
    ("colour", ["unknown setting: colour"]),
])
def test_unknown_setting_names_the_key_and_section(key, needles):
    with pytest.raises(ValueError) as info:
        Config().with_overrides({key: "1"})
    for needle in needles:
        assert needle in str(info.value)


@pytest.mark.parametrize("content,needle", [
    ("rrf_k = [", "not valid TOML"),
    ("colour = 1", "unknown setting: colour"),
    ('rrf_k = "many"', "fusion.rrf_k"),
    ("[fusion]\ncolour = 1", "section [fusion] has no 'colour'"),
    ("[colour]\nrrf_k = 1", "unknown section [colour]"),
])
def test_bad_config_names_the_problem(tmp_path, content, needle):
    toml = tmp_path / "rs.toml"
    toml.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape(needle)):
        load_config(toml, environ={})


def test_missing_config_file_is_named(tmp_path):
    with pytest.raises(ValueError, match="config file not found"):
        load_config(tmp_path / "nope.toml", environ={})


def test_config_is_frozen_and_overrides_make_copies():
    base = Config()
    changed = base.with_overrides({"fusion.rrf_k": 9})
    assert base.fusion.rrf_k == 5 and changed.fusion.rrf_k == 9
    assert changed.retrieval is base.retrieval  # untouched sections are shared, not copied
    with pytest.raises(AttributeError):
        base.fusion.rrf_k = 3  # type: ignore[misc]


def test_docs_list_every_setting_with_its_environment_name():
    doc = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    for section in Config.sections():
        assert f"[{section}]" in doc, section
    for setting in Config.settings():
        assert f"`{setting.dotted.rpartition('.')[2]}`" in doc and setting.env in doc, setting.dotted


def test_a_section_given_a_plain_value_is_refused_with_the_way_that_works() -> None:
    # Config(engine="milvus") once replaced the whole [engine] section by a string, silently.
    with pytest.raises(TypeError, match=r"Config\(engine=\.\.\.\) takes a EngineSettings.*with_overrides"):
        Config(engine="milvus")
    assert Config().with_overrides({"engine": "milvus"}).engine.name == "milvus"
