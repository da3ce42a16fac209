"""The corpus's own official terms, collected at build time for the query-side bridge (issue 27, direction 2).

Researchers ask in everyday words; reports name their practices in their own vocabulary. A hand lexicon
(indexer/lexicon/colloquial.txt) covers what its writer thought of; these terms come from the indexed
corpus itself, so they exist for any user's reports:
- quoted slogans and names (“四议两公开”, “法律明白人”);
- named practices: a few words ending in 机制 / 模式 / 工作法 / 工程 … (矛盾纠纷多元化解机制);
- words of the domain dictionary the corpus uses;
- salient multi-character words: rare enough to say something (by document frequency), frequent enough
  not to be noise.
Each term is embedded once (through the embedding cache) with the model that embeds the paragraphs, so a
query vector can be compared with them by one matrix product (search/bridge.py).
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Iterable

from indexer.core.analysis import LEXICON_DIR, Analyzer, default_analyzer, is_stopword, normalize

_QUOTED = re.compile(r"[“\"「『]([^“”\"「」『』\n]{2,20})[”\"」』]")
_CLAUSE = re.compile(r"[^\W_]+")
_CJK = re.compile(r"^[\u4e00-\u9fff]+$")
# The last word of a named practice (矛盾纠纷多元化解机制, 枫桥式工作法, 法律进乡村行动).
PRACTICE_ENDS = ("机制", "模式", "工作法", "工程", "行动", "制度", "工作室", "服务站", "调解室", "品牌", "体系",
                 "平台", "中心", "经验", "工作站", "联盟", "网格", "清单")
_ENDS = re.compile("|".join(PRACTICE_ENDS))
MAX_PRACTICE_WORDS = 4


@dataclass(frozen=True)
class TermSettings:
    min_df: int = 2  # a word in one paragraph only is as often a typo or a name as a term
    max_df_share: float = 0.05  # in more than this share of paragraphs it says nothing (工作, 开展)
    min_chars: int = 2
    max_chars: int = 12
    # Salient words too (rare but not single-paragraph words). Measured (docs/evaluation.md, issue 27): the
    # bridge is as good without them, and they are four fifths of the table.
    salient: bool = False


def domain_words() -> set[str]:
    """The domain dictionary's words (lexicon/domain_dict.txt)."""
    out = set()
    for line in (LEXICON_DIR / "domain_dict.txt").read_text(encoding="utf-8").splitlines():
        word = line.split("#", 1)[0].split()
        if word:
            out.add(normalize(word[0]))
    return out


def collect_terms(texts: Iterable[str], settings: TermSettings = TermSettings(),
                  analyzer: Analyzer | None = None) -> dict[str, str]:
    """The corpus's official terms and where each comes from (quoted / practice / domain / salient), in a
    stable order (by kind, then by how many paragraphs hold it, then by text).

    Without salient words only the clauses holding a practice ending are cut into words (jieba is most of
    the cost: 2.0 s per 1,000 chunks for every clause, measured at 100k); quotes and domain words are found
    by regular expressions."""
    analyzer = analyzer or default_analyzer()
    df: Counter[str] = Counter()  # paragraphs holding each word / practice / quote
    kinds: dict[str, str] = {}
    domain = domain_words()
    domain_re = re.compile("|".join(re.escape(w) for w in sorted(domain, key=len, reverse=True)))
    n = 0
    for text in texts:
        n += 1
        norm = normalize(text)
        seen: set[str] = set()
        for m in _QUOTED.finditer(norm):
            quoted = m.group(1).strip()
            if _CJK.match(quoted) and settings.min_chars <= len(quoted) <= settings.max_chars:
                seen.add(quoted)
                kinds.setdefault(quoted, "quoted")
        for m in domain_re.finditer(norm):
            seen.add(m.group(0))
            kinds.setdefault(m.group(0), "domain")
        for clause in _CLAUSE.findall(norm):
            if not settings.salient and _ENDS.search(clause) is None:
                continue
            words = analyzer.words(clause)
            for i, word in enumerate(words):
                if not _CJK.match(word) or is_stopword(word):
                    continue
                if settings.salient:
                    seen.add(word)
                if word.endswith(PRACTICE_ENDS):
                    _practices(words, i, settings, seen, kinds)
        df.update(seen)
    max_df = max(settings.min_df, int(settings.max_df_share * n))
    out: dict[str, str] = {}
    for term, count in df.items():
        kind = kinds.get(term, "salient")
        if not settings.min_chars <= len(term) <= settings.max_chars:
            continue
        if kind == "quoted" or kind == "domain":
            keep = True  # the corpus or the dictionary names it: once is enough
        elif kind == "practice":
            keep = count >= settings.min_df
        else:
            keep = settings.salient and settings.min_df <= count <= max_df
        if keep:
            out[term] = kind
    order = {"quoted": 0, "practice": 1, "domain": 2, "salient": 3}
    return dict(sorted(out.items(), key=lambda item: (order[item[1]], -df[item[0]], item[0])))


def _practices(words: list[str], i: int, settings: TermSettings, seen: set[str], kinds: dict[str, str]) -> None:
    """The names ending at word i: it with the 1–3 words before it (多元化解机制, 矛盾纠纷多元化解机制)."""
    for size in range(2, MAX_PRACTICE_WORDS + 1):
        parts = words[max(0, i - size + 1): i + 1]
        if len(parts) < size or any(is_stopword(p) or not _CJK.match(p) for p in parts):
            break
        name = "".join(parts)
        if len(name) > settings.max_chars:
            break
        seen.add(name)
        kinds.setdefault(name, "practice")
