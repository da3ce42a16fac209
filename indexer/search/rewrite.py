"""Keyword-side query rewriting for plain queries: add official vocabulary, optionally drop question scaffolding.

Researchers ask in everyday words (上访的老案子怎么处理); reports use the official ones (信访积案化解). BM25
only sees shared words, so for the full-text retriever a plain query is rewritten as
  (the user's words [without scaffolding])  OR  expansion_weight × (official terms from the 口语→公文 lexicon)
- scaffolding (有哪些做法, 是怎么安排的, 的做法 …) carries no topic; stripping it is optional
  (Config.rewrite.strip_scaffolding, off by default: the parser already drops 怎么/如何/哪些 as function words, and
  dropping the rest gained nothing on any evaluation set, docs/evaluation.md);
- expansions are extra optional clauses at a lower weight: a chunk that uses the user's own words still
  ranks first, one that only uses the official term is now found at all.
Quoted phrases, +required words, AND/OR/NOT and parentheses mean exactly what was typed: such queries are
never rewritten. The semantic side always embeds the query as typed.
"""
from __future__ import annotations

import dataclasses
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from indexer.core.analysis import LEXICON_DIR, default_analyzer, is_stopword, normalize
from indexer.core.config import RewriteSettings
from indexer.core.lru import LruCache
from indexer.core.querytree import Boosted, Group, Node, ParsedQuery, Terms
from indexer.search.query import QUOTES_AS_EMPHASIS, parse_query
from indexer.search.routing import QueryKind, is_statement, query_kind
from indexer.search.types import QueryError

log = logging.getLogger(__name__)

COLLOQUIAL_LEXICON = LEXICON_DIR / "colloquial.txt"
_CLAUSE = re.compile(r"[^\W_]+")  # a run of letters, digits and ideographs

# Question and request scaffolding, longest forms first. Replaced by a space so that the words on either
# side are not glued into a new jieba word. Place words (乡镇, 镇里) are not scaffolding: measured, dropping
# them loses 乡镇综合行政执法 / 法院和乡镇 queries (docs/evaluation.md).
_SCAFFOLDING = re.compile("|".join([
    r"(?:是|都|又|要)?(?:怎么|怎样|如何)(?:样)?(?:安排|开展|做|搞|处理|落实|推进|组织|实施|进行|操作|解决|办)的",
    r"(?:有|采取了?|采用了?|用了?|都有)(?:哪些|什么|啥)(?:好的|具体|主要|有效的?)?"
    r"(?:做法|举措|措施|办法|经验|方式|形式|手段|途径|渠道|方法|好办法)",
    r"的?(?:具体|典型|好的|主要|有效)?(?:经验做法|好做法|做法|典型经验|经验)(?:有哪些|是什么|有什么)?",
    r"怎么办|怎么样|怎么|怎样|如何|哪些|什么|是否|是不是|有没有|能不能|能否|可不可以|为什么",
    r"请问|介绍一下|说说|讲讲|一下|平时|一般|通常",
    r"[吗呢吧?？]",
]))


@dataclass(frozen=True)
class Rule:
    """One lexicon line: any alternative (all of its parts occur in the query) adds the targets."""

    alternatives: tuple[tuple[str, ...], ...]
    targets: tuple[str, ...]
    line: int = 0


def read_lexicon(path: Path) -> list[Rule]:
    """Parse a 口语→公文 lexicon (format in the file's header). Raises ValueError naming the file and line."""
    rules: list[Rule] = []
    for lineno, raw in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        left, arrow, right = line.partition("=>")
        alternatives = tuple(
            tuple(normalize(p.strip()) for p in alt.split("&") if p.strip())
            for alt in left.split("|") if alt.strip()
        )
        targets = tuple(dict.fromkeys(normalize(t) for t in right.split()))
        if not arrow or not alternatives or not targets:
            raise ValueError(f"{path}:{lineno}: expected 'everyday words => official terms', got {raw.strip()!r}")
        short = [alt[0] for alt in alternatives if len(alt) == 1 and len(alt[0]) < 2]
        if short:  # one character matches far too many queries
            raise ValueError(f"{path}:{lineno}: {short[0]!r} is too short to match on its own; combine it with '&'")
        rules.append(Rule(alternatives, targets, lineno))
    return rules


def _alt_words(alternative: str, window: int) -> tuple[str, ...]:
    """A lexicon alternative's jieba words when it may match spread out: window > 0, two words or more,
    nothing cut away, and no function word (村里的钱 is a phrase: 村里老人的钱 is not about it)."""
    if window <= 0:
        return ()
    words = tuple(default_analyzer().words(alternative))
    if len(words) < 2 or "".join(words) != alternative or any(is_stopword(w) for w in words):
        return ()
    return words


def spread_match(words: list[str], alternative: tuple[str, ...], window: int, start: int) -> bool:
    """Whether the alternative's words occur among the clause's `words` from `start` on, whole and in
    order, with at most `window` other words between neighbours: users insert words into the phrases a
    lexicon lists (给 村里 的 学生 讲 法律 holds 给学生讲法律). Whole words, so 申请 does not match inside 申请人."""
    at = start
    for part in alternative[1:]:
        nxt = next((j for j in range(at + 1, min(len(words), at + window + 2)) if words[j] == part), None)
        if nxt is None:
            return False
        at = nxt
    return True


def strip_scaffolding(text: str) -> str:
    """The query without question scaffolding (spaces where it was), collapsed; may be empty.

    Only matches that start and end on jieba word boundaries are removed: 经验 goes in 有哪些经验 but
    stays in 枫桥经验, 做法 goes in 的做法 but not in 怎样做法律风险把关 (做 | 法律)."""
    tokens = default_analyzer().tokenize(text, subwords=False)
    inside = {i for t in tokens for i in range(t.start + 1, t.end)}  # offsets that would split a word
    kept, last = [], 0
    for m in _SCAFFOLDING.finditer(text):
        if m.start() in inside or m.end() in inside:
            continue
        kept.append(text[last : m.start()])
        last = m.end()
    kept.append(text[last:])
    return " ".join(" ".join(kept).split())


_QUOTE_MARKS = "\"“”「」『』"
_QUOTES = re.compile(f"[{_QUOTE_MARKS}]")
_SYNTAX = re.compile(f"[{_QUOTE_MARKS}()（）]")


def is_plain(parsed: ParsedQuery) -> bool:
    """Only words, no strict quotes, required words, operators or parentheses (their words mean what was
    typed). Quotes a question uses for emphasis (怎么处理“老案子”？) are no syntax: the question is still
    rewritten, so everyday words inside them gain their official terms too."""
    if not isinstance(parsed.root, Terms) or parsed.root.require_all or parsed.phrases:
        return False
    text = parsed.text
    if parsed.warning and QUOTES_AS_EMPHASIS in parsed.warning:
        text = _QUOTES.sub("", text)
    return not _SYNTAX.search(text)


class QueryRewriter:
    """Rewrites plain queries for the keyword retriever (see the module docstring). Thread-safe."""

    def __init__(self, rules: Iterable[Rule] = (), strip: bool = False, expand: bool = True,
                 weight: float = 0.7, max_terms: int = RewriteSettings.max_expansion_terms,
                 clause_weight: float = 0.0, min_clause_chars: int = RewriteSettings.min_clause_chars,
                 window: int = RewriteSettings.rule_window, bridge_weight: float = RewriteSettings.bridge_weight):
        self.rules = list(rules)
        # One regex per rule for its single-part alternatives (most of them): ~10x faster than testing each.
        self._compiled: list[tuple[Rule, re.Pattern | None, list[tuple[str, ...]]]] = []
        # Single-part alternatives of several words (骗老人 -> 骗, 老人) by their first word, with their rule's
        # index: matched with up to `window` query words inserted between their words (spread_match).
        self._spread: dict[str, list[tuple[int, tuple[str, ...]]]] = {}
        self._spread_cache: LruCache[str, frozenset[int]] = LruCache(256)  # a query is rewritten ~3 times
        self.window = window
        for index, rule in enumerate(self.rules):
            singles = [re.escape(alt[0]) for alt in rule.alternatives if len(alt) == 1]
            combos = [alt for alt in rule.alternatives if len(alt) > 1]
            self._compiled.append((rule, re.compile("|".join(singles)) if singles else None, combos))
            for alt in rule.alternatives:
                words = _alt_words(alt[0], window) if len(alt) == 1 else ()
                if words:
                    self._spread.setdefault(words[0], []).append((index, words))
        self.strip = strip
        self.expand = expand and bool(self.rules) and weight > 0
        self.weight = weight
        self.max_terms = max_terms
        self.clause_weight = clause_weight
        self.min_clause_chars = min_clause_chars
        self.bridge_weight = bridge_weight

    @classmethod
    def from_config(cls, config) -> "QueryRewriter":
        expand = config.rewrite.expand_colloquial
        rules = read_lexicon(COLLOQUIAL_LEXICON) if expand else []
        if expand:
            log.info("query expansion: %d rules from %s", len(rules), COLLOQUIAL_LEXICON)
        settings = config.rewrite
        return cls(rules, strip=settings.strip_scaffolding, expand=expand, weight=settings.expansion_weight,
                   max_terms=settings.max_expansion_terms, clause_weight=settings.clause_weight,
                   min_clause_chars=settings.min_clause_chars, window=settings.rule_window,
                   bridge_weight=settings.bridge_weight)

    @property
    def active(self) -> bool:
        return self.strip or self.expand or self.clause_weight > 0

    def clauses(self, parsed: ParsedQuery) -> Node | None:
        """A pasted statement's clauses as exact strings, weighted `clause_weight`: the paragraph a sentence
        was copied from holds them verbatim and so ranks above paragraphs that merely share its words."""
        if self.clause_weight <= 0 or not is_statement(parsed):
            return None
        runs = [m.group(0) for m in _CLAUSE.finditer(normalize(parsed.text))]
        runs = list(dict.fromkeys(r for r in runs if len(r) >= self.min_clause_chars))
        return Boosted(Terms((), glued=tuple(runs)), self.clause_weight) if runs else None

    def expansions(self, text: str, lookup: bool = False) -> list[str]:
        """Official terms the lexicon adds for this query text, minus those the text already contains.

        A `lookup` (a short term, see routing.query_kind) that already names one of a rule's official terms
        (依申请公开 contains the everyday 申请公开) gets nothing from that rule: the user looks up that exact
        term, and its neighbours (政府信息公开) would only push other passages in between. A question keeps
        them (高价彩礼怎么治理 still gains 移风易俗)."""
        norm = normalize(text)
        spread = self._spread_hits(norm)
        out: list[str] = []
        for index, (rule, single, combos) in enumerate(self._compiled):
            hit = (single is not None and single.search(norm) is not None) or bool(combos) and any(
                all(part in norm for part in alt) for alt in combos) or index in spread
            if not hit or (lookup and any(t in norm for t in rule.targets)):
                continue
            out.extend(t for t in rule.targets if t not in norm and t not in out)
        return out[: self.max_terms]

    def _spread_hits(self, norm: str) -> frozenset[int]:
        """Indexes of the rules one of whose alternatives occurs spread out in a clause of the query."""
        if not self._spread:
            return frozenset()
        return self._spread_cache.get_or_make(norm, self._find_spread)

    def _find_spread(self, norm: str) -> frozenset[int]:
        hits: set[int] = set()
        for clause in _CLAUSE.findall(norm):
            words = default_analyzer().words(clause)
            for start, word in enumerate(words):
                for index, alt in self._spread.get(word, ()):
                    if index not in hits and spread_match(words, alt, self.window, start):
                        hits.add(index)
        return frozenset(hits)

    def official_terms(self, parsed: ParsedQuery) -> tuple[str, ...]:
        """The official terms (口语→公文 lexicon) the keyword side adds for this query, each as one string;
        empty for a query that is not plain or fires no rule."""
        if not self.expand or not is_plain(parsed):
            return ()
        analyzer = default_analyzer()
        typed = set(self._base(parsed).words) if isinstance(self._base(parsed), Terms) else set()
        lookup = query_kind(parsed) is QueryKind.LOOKUP
        out = []
        for term in self.expansions(parsed.text, lookup):
            words = tuple(w for w in dict.fromkeys(analyzer.words(term)) if not is_stopword(w))
            if words and not set(words) <= typed:
                out.append(term)
        return tuple(out)

    def _base(self, parsed: ParsedQuery) -> Node:
        """The typed words, without scaffolding when that is on (with glued strings and sub-words)."""
        if self.strip:
            stripped = strip_scaffolding(parsed.text)
            if stripped and stripped != parsed.text.strip():
                try:
                    candidate = parse_query(stripped).root
                except QueryError:  # only punctuation left
                    candidate = None
                if isinstance(candidate, Terms) and candidate.words:  # else keep the words as typed
                    return candidate  # 城关乡 stays one string
        return parsed.root

    def keyword_query(self, parsed: ParsedQuery, bridge: tuple[str, ...] = ()) -> ParsedQuery:
        """The query the full-text index should run: `parsed` itself unless it is plain and something applies.
        `bridge`: the corpus's terms nearest to the query (search/bridge.py), added at `bridge_weight`."""
        if not (self.active or bridge) or not is_plain(parsed):
            return parsed
        base = self._base(parsed)
        extra = [_term_node(term) for term in self.official_terms(parsed)]
        near = [_term_node(term) for term in bridge]
        clauses = self.clauses(parsed)
        if not extra and not near and clauses is None:
            return parsed if base is parsed.root else dataclasses.replace(parsed, root=base)
        should = [base]
        if extra:
            should.append(Boosted(extra[0] if len(extra) == 1 else Group(should=tuple(extra)), self.weight))
        if near:
            should.append(Boosted(near[0] if len(near) == 1 else Group(should=tuple(near)), self.bridge_weight))
        if clauses is not None:
            should.append(clauses)
        return dataclasses.replace(parsed, root=Group(should=tuple(should)))


def _term_node(term: str) -> Terms:
    """An added term as the keyword side matches it: its words, each once, without function words."""
    return Terms(tuple(w for w in dict.fromkeys(default_analyzer().words(term)) if not is_stopword(w)))
