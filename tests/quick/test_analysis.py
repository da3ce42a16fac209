"""jieba analysis: words, positions, offsets, dictionaries, normalisation."""
from __future__ import annotations

from pathlib import Path

import jieba
import pytest

from indexer.core.analysis import (
    Analyzer,
    char_grams,
    get_analyzer,
    normalize,
    phrase_grams,
    transparent,
)

CORPUS = Path(__file__).resolve().parents[2] / "corpora" / "fazhi-2023"


def corpus_lines() -> list[str]:
    return [ln for f in sorted(CORPUS.glob("*.txt")) for ln in f.read_text(encoding="utf-8").splitlines() if ln.strip()]


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return get_analyzer()


def test_offsets_point_into_original_text_and_positions_count_words(analyzer: Analyzer) -> None:
    for line in corpus_lines():
        tokens = analyzer.tokenize(line)
        assert tokens
        long_words = []
        for tok in tokens:
            # A word may span a quote or bracket between two ideographs (村“两委 is the word 村两委).
            assert transparent(normalize(line[tok.start : tok.end]))[0] == tok.text
            if not long_words or tok.pos != long_words[-1].pos:
                long_words.append(tok)
            else:  # a sub-word: inside its long word, at the same position
                parent = long_words[-1]
                assert parent.start <= tok.start < tok.end <= parent.end and tok.text != parent.text
        assert [t.pos for t in long_words] == list(range(len(long_words)))


def test_quotes_and_brackets_inside_a_term_do_not_split_it(analyzer: Analyzer) -> None:
    # The reports write “八五”普法 and “三务”公开; users type 八五普法, 三务公开 (issue 24).
    for written, typed in [("深入开展“八五”普法工作", "八五普法"), ("推进“三务”公开", "三务公开"),
                           ("开展《民法典》宣传月", "民法典"), ("落实「谁执法谁普法」责任", "谁执法谁普法")]:
        tokens = analyzer.tokenize(written, subwords=False)
        word = next(t for t in tokens if t.text == analyzer.words(typed)[0])
        assert analyzer.words(typed) == [word.text], (written, typed)
        assert transparent(written[word.start : word.end])[0] == typed  # offsets still point into the text
    # Elsewhere quotes and brackets stay punctuation: a mark after a comma or at the end separates.
    assert analyzer.words("普法，“八五”") == ["普法", "八五"]
    assert [t.text for t in analyzer.tokenize("工作(2023)")] == ["工作", "2023"]


def test_domain_words_stay_whole(analyzer: Analyzer) -> None:
    for word in ["信访积案", "枫桥经验", "法律明白人", "四议两公开", "三项制度", "谁执法谁普法", "小事不出村",
                 "大事不出乡", "防养老诈骗", "以案释法", "合法性审查", "法律顾问", "放管服", "心桥工程"]:
        assert analyzer.words(f"积极落实{word}工作") == ["积极", "落实", word, "工作"], word


def test_subwords_share_the_long_words_position(analyzer: Analyzer) -> None:
    tokens = analyzer.tokenize("着力化解信访积案")
    at = {t.text: t.pos for t in tokens}
    assert at["信访积案"] == at["信访"] == at["积案"] == at["化解"] + 1
    assert analyzer.words("着力化解信访积案") == ["着力", "化解", "信访积案"]  # no sub-words
    plain = get_analyzer(subwords=False).tokenize("着力化解信访积案")
    assert "信访" not in {t.text for t in plain}


def test_punctuation_and_spaces_are_not_tokens_and_take_no_position(analyzer: Analyzer) -> None:
    tokens = analyzer.tokenize("小事不出村，“大事不出乡” ！")
    long_words = [t for t in tokens if t.text in ("小事不出村", "大事不出乡")]
    assert [t.pos for t in long_words] == [0, 1]
    assert all(any(c.isalnum() for c in t.text) for t in tokens)


def test_full_width_latin_and_digits_are_normalised_with_original_offsets(analyzer: Analyzer) -> None:
    text = "共计ＡＢＣ１２３元"
    tokens = analyzer.tokenize(text)
    latin = [t for t in tokens if t.text == "abc123"]
    assert latin and text[latin[0].start : latin[0].end] == "ＡＢＣ１２３"
    assert analyzer.words("PDF文件") == analyzer.words("ｐｄｆ文件")


def test_own_tokenizer_leaves_the_global_jieba_dictionary_alone() -> None:
    get_analyzer()
    assert jieba.lcut("四议两公开", HMM=False) != ["四议两公开"]


def test_user_dictionary_adds_words_and_jieba_does_not_write_to_stderr(tmp_path: Path, capfd) -> None:
    user_dict = tmp_path / "words.txt"
    user_dict.write_text("# our words\n舟桥夜话 5 n\n", encoding="utf-8")
    with_user = Analyzer(user_dict)
    assert "舟桥夜话" in with_user.words("开展舟桥夜话活动")
    assert "舟桥夜话" not in get_analyzer().words("开展舟桥夜话活动")
    assert capfd.readouterr().err == ""


def test_get_analyzer_is_a_per_configuration_singleton(tmp_path: Path) -> None:
    assert get_analyzer() is get_analyzer()
    assert get_analyzer(subwords=False) is not get_analyzer()


def test_char_grams_skip_punctuation_and_end_with_the_last_character() -> None:
    assert char_grams("小事，不出") == ["小事", "事不", "不出", "出"]
    assert phrase_grams("事、不") == ["事不"]
    assert phrase_grams("镇") == ["镇"]
    assert phrase_grams("“”") == []
