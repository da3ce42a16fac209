"""User query text -> ParsedQuery: a small backend-neutral tree plus what highlighting and the
semantic retriever need.

Syntax: plain words (segmented by jieba), quoted phrases ("…", “…”, 「…」, 『…』), AND / OR / NOT
(also 与 / 或 / 非 as separate words), `-word` (exclude), `+word` (require), parentheses.

Meaning of a sequence of items (see `Group`):
- plain words are optional and ranked: a chunk matching more of them scores higher, and one matching
  all of them gets a bonus, so natural queries like `信访积案化解做法` do not need every word;
- quoted phrases, `+items` and both sides of AND are required -- except quotes inside a question with no
  other operator (如何通过居住权制度实现“以房养老”？): there they quote a term, as Chinese prose does, and
  the phrase ranks first without being required (`quotes_are_emphasis`; `warning` says so);
- NOT / `-` items are excluded;
- OR binds loosest: `a b OR c` is `(a b) OR c`.
Malformed input never raises: it is repaired and `warning` says (in Chinese) how it was read. Two
exceptions are refused as a QueryError: parentheses nested deeper than MAX_NESTING (no one writes that by
hand, and the parser and everything walking the tree recurse once per level), and a query left with
nothing to look for once repaired (only quotes, brackets, operators, punctuation).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from indexer.core.analysis import default_analyzer, is_stopword
from indexer.core.querytree import (AnyOf, Group, Node, ParsedQuery, Phrase, Terms, has_positive,
                                     is_empty)
from indexer.search.routing import is_question
from indexer.search.types import QueryError

# Deepest parenthesis nesting accepted. Far beyond any hand-written query, far below Python's recursion
# limit (the parser uses ~3 frames per level; 326 unclosed "(" used to overflow it and fail with a 500).
MAX_NESTING = 32

# ---------------------------------------------------------------- lexing

_QUOTES = {'"': '"', "“": "”", "「": "」", "『": "』", "”": "”"}
_OPEN_PARENS = "(（"
_CLOSE_PARENS = ")）"
_OPERATORS = {"AND": "AND", "OR": "OR", "NOT": "NOT", "与": "AND", "或": "OR", "非": "NOT",
              "&&": "AND", "||": "OR"}
_SPECIAL = set(_QUOTES) | set("”」』") | set(_OPEN_PARENS) | set(_CLOSE_PARENS)


@dataclass
class _Lexeme:
    kind: str  # WORD, PHRASE, LP, RP, AND, OR, NOT
    text: str = ""
    prefix: str = ""  # "+", "-" or ""
    quoted: bool = False  # a WORD that was typed in quotes read as emphasis (quotes_are_emphasis)


@dataclass
class _Warnings:
    messages: list[str] = field(default_factory=list)

    def add(self, message: str) -> None:
        if message not in self.messages:
            self.messages.append(message)


def _lex(text: str, warnings: _Warnings) -> list[_Lexeme]:
    out: list[_Lexeme] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        prefix = ""
        if ch in "+-" and i + 1 < n and not text[i + 1].isspace():
            prefix, i = ch, i + 1
            ch = text[i]
        if ch in _QUOTES:
            close = _QUOTES[ch]
            end = text.find(close, i + 1)
            if end < 0 and close == "”":  # some keyboards produce ASCII closing quotes after “
                end = text.find('"', i + 1)
            if end < 0:
                warnings.add("引号不成对，已按普通词语检索")
                i += 1  # the stray quote is read as punctuation, the rest as words
                if prefix:
                    out.append(_Lexeme("WORD", "", prefix))  # keep +/- for the next word
                continue
            out.append(_Lexeme("PHRASE", text[i + 1 : end], prefix))
            i = end + 1
            continue
        if ch in _OPEN_PARENS:
            out.append(_Lexeme("LP", prefix=prefix))
            i += 1
            continue
        if ch in _CLOSE_PARENS:
            out.append(_Lexeme("RP"))
            i += 1
            continue
        if ch in "”」』":  # a closing quote without an opening one
            warnings.add("引号不成对，已按普通词语检索")
            i += 1
            continue
        j = i
        while j < n and not text[j].isspace() and text[j] not in _SPECIAL:
            j += 1
        word = text[i:j]
        i = j
        if not prefix and word in _OPERATORS:
            out.append(_Lexeme(_OPERATORS[word]))
        else:
            out.append(_Lexeme("WORD", word, prefix))
    # A prefix left on an empty word (before a stray quote) applies to the following word.
    merged: list[_Lexeme] = []
    for lex in out:
        if merged and merged[-1].kind == "WORD" and merged[-1].text == "" and lex.kind == "WORD":
            lex.prefix = lex.prefix or merged.pop().prefix
        merged.append(lex)
    return [lx for lx in merged if not (lx.kind == "WORD" and lx.text == "")]


# ---------------------------------------------------------------- parsing


@dataclass
class _Item:
    node: Node | None  # None: a plain word (collected into the ranked pool)
    words: tuple[str, ...] = ()
    raw: str = ""
    required: bool = False
    negated: bool = False
    stop_only: bool = False  # a plain word made only of function words (的, 怎么, ...)
    glued: tuple[str, ...] = ()  # see Terms.glued
    lone: tuple[str, ...] = ()


class _Parser:
    def __init__(self, lexemes: list[_Lexeme], warnings: _Warnings):
        self.lx = lexemes
        self.i = 0
        self.warn = warnings
        self.analyzer = default_analyzer()
        self.positive_words: list[str] = []
        self.positive_phrases: list[str] = []
        self.semantic_parts: list[str] = []

    def peek(self) -> _Lexeme | None:
        return self.lx[self.i] if self.i < len(self.lx) else None

    def parse(self) -> Node:
        node = self.parse_or(depth=0)
        while self.peek() is not None:  # only stray ')' can stop parse_or early at depth 0
            self.i += 1
            self.warn.add("括号不成对，已忽略多余的右括号")
            more = self.parse_or(depth=0)
            node = _join_and(node, more)
        return node

    def parse_or(self, depth: int) -> Node:
        alternatives = [self.parse_and(depth)]
        while (lex := self.peek()) is not None and lex.kind == "OR":
            self.i += 1
            nxt = self.peek()
            if nxt is None or nxt.kind in ("RP", "OR"):
                self.warn.add("OR 两侧缺少检索词，已忽略该 OR")
                continue
            alternatives.append(self.parse_and(depth))
        alternatives = [a for a in alternatives if not is_empty(a)]
        if not alternatives:
            return Group()
        if len(alternatives) == 1:
            return alternatives[0]
        if any(not has_positive(a) for a in alternatives):
            self.warn.add("OR 的一侧只有排除条件，已忽略该侧")
            alternatives = [a for a in alternatives if has_positive(a)] or alternatives[:1]
            if len(alternatives) == 1:
                return alternatives[0]
        return AnyOf(tuple(alternatives))

    def parse_and(self, depth: int) -> Node:
        items: list[_Item] = []
        pending_and = False
        negate = False
        while (lex := self.peek()) is not None and lex.kind not in ("OR",):
            if lex.kind == "RP":
                if depth > 0:
                    break
                return self._build(items, pending_and, negate)  # parse() reports the stray ')'
            self.i += 1
            if lex.kind == "AND":
                if not items or pending_and:
                    self.warn.add("AND 前缺少检索词，已忽略该 AND")
                else:
                    pending_and = True
                continue
            if lex.kind == "NOT":
                negate = True
                continue
            item = self.parse_unit(lex, depth, negated=negate or lex.prefix == "-")
            if item is None:
                continue
            if lex.prefix == "+":
                item.required = True
            if pending_and:
                item.required = True
                items[-1].required = True
                pending_and = False
            negate = False
            items.append(item)
        return self._build(items, pending_and, negate)

    def parse_unit(self, lex: _Lexeme, depth: int, negated: bool) -> _Item | None:
        if lex.kind == "LP":
            inner = self.parse_or(depth + 1) if not negated else self._parse_negated_group(depth)
            nxt = self.peek()
            if nxt is not None and nxt.kind == "RP":
                self.i += 1
            else:
                self.warn.add("括号不成对，已在末尾补全右括号")
            if is_empty(inner):
                return None
            return _Item(inner, negated=negated)
        if lex.kind == "PHRASE":
            words = tuple(self.analyzer.words(lex.text))
            if not words:
                self.warn.add("引号内没有可检索的词，已忽略")
                return None
            if not negated:
                self.positive_phrases.append(lex.text)
                self.semantic_parts.append(lex.text)
            return _Item(Phrase(lex.text, words), negated=negated)
        words = tuple(self.analyzer.words(lex.text))
        if not words:
            return None
        if negated:
            # Excluding a word means excluding chunks that contain it as written.
            return _Item(Phrase(lex.text, words), negated=True)
        content = tuple(w for w in words if not is_stopword(w))
        self.semantic_parts.append(lex.text)
        if not content:  # only function words: kept only if the query has nothing else
            return _Item(None, words=words, raw=lex.text, stop_only=True)
        # The dictionary sub-words of long words score too (副镇长 -> 镇长, 投票决定 -> 投票), as the index holds
        # them at the long word's position; like lone characters they never make a chunk match on their
        # own, so what a query matches is unchanged (measured in docs/evaluation.md).
        subwords = [t.text for t in self.analyzer.tokenize(lex.text) if t.text not in content and not is_stopword(t.text)]
        self.positive_words.extend(content)
        glued, bound = glued_runs(lex.text)
        if lex.quoted and len(content) > 1:  # the quoted term as typed ranks above its words apart
            glued = tuple(dict.fromkeys([*glued, lex.text]))
        return _Item(None, words=tuple(w for w in content if w not in bound), raw=lex.text, glued=glued,
                     lone=tuple(dict.fromkeys([*(w for w in content if w in bound), *subwords])))

    def _parse_negated_group(self, depth: int) -> Node:
        # Words inside NOT ( … ) are not part of what the user is looking for.
        saved = (len(self.positive_words), len(self.positive_phrases), len(self.semantic_parts))
        inner = self.parse_or(depth + 1)
        del self.positive_words[saved[0]:]
        del self.positive_phrases[saved[1]:]
        del self.semantic_parts[saved[2]:]
        return inner

    def _build(self, items: list[_Item], pending_and: bool, negate: bool) -> Node:
        if pending_and:
            self.warn.add("AND 后缺少检索词，已忽略该 AND")
        if negate:
            self.warn.add("NOT 后缺少检索词，已忽略该 NOT")
        must: list[Node] = []
        should: list[Node] = []
        must_not: list[Node] = []
        pool: list[str] = []  # optional plain words: one ranked bag
        glued: list[str] = []
        lone: list[str] = []
        if any(not it.negated and not it.stop_only for it in items):
            items = [it for it in items if not it.stop_only]
        else:
            self.positive_words.extend(w for it in items if it.stop_only for w in it.words)
        for item in items:
            if item.negated:
                must_not.append(item.node if item.node is not None else Terms(item.words, True))
            elif item.node is None:
                if item.required:
                    must.append(Terms(item.words, require_all=True, glued=item.glued, lone=item.lone))
                else:
                    pool.extend(w for w in item.words if w not in pool)
                    glued.extend(g for g in item.glued if g not in glued)
                    lone.extend(w for w in item.lone if w not in lone)
            elif isinstance(item.node, Phrase) or item.required:
                must.append(item.node)  # phrases are required: "…" alone returns exactly its chunks
            else:
                should.append(item.node)
        if pool or glued:
            should.insert(0, Terms(tuple(pool), glued=tuple(glued), lone=tuple(w for w in lone if w not in pool)))
        if not must and not must_not and len(should) == 1:
            return should[0]
        if not must_not and not should and len(must) == 1:
            return must[0]
        return Group(tuple(must), tuple(should), tuple(must_not))


def _lone(word: str) -> bool:
    """A single ideograph the analyzer could not join to its neighbours (乡 in 城关乡), not a function word."""
    return len(word) == 1 and not word.isascii() and word.isalpha() and not is_stopword(word)


def glued_runs(text: str) -> tuple[tuple[str, ...], frozenset[str]]:
    """The exact strings that carry `text`'s lone characters, and those characters.

    Each run of adjacent lone characters is taken with the content word before and after it (城关 + 乡
    -> 城关乡; 每个 + 村 + 都请 ... -> the span up to the next content word); a function word, punctuation
    or the edge of the typed word ends the string. A word typed alone (乡) is the user's term and stays one."""
    tokens = default_analyzer().tokenize(text, subwords=False)
    if len(tokens) < 2:
        return (), frozenset()
    runs: list[str] = []
    bound: set[str] = set()
    free: set[str] = set()  # lone characters left standing (between function words)
    i = 0
    while i < len(tokens):
        if not _lone(tokens[i].text):
            i += 1
            continue
        j = i
        while j + 1 < len(tokens) and _lone(tokens[j + 1].text):
            j += 1
        # The neighbour joins only when nothing stands between (当日 + 票 -> 当日票, but 票，但是 stays apart).
        start = tokens[i - 1].start if i > 0 and not is_stopword(tokens[i - 1].text) and \
            not text[tokens[i - 1].end : tokens[i].start].strip() else tokens[i].start
        end = tokens[j + 1].end if j + 1 < len(tokens) and not is_stopword(tokens[j + 1].text) and \
            not text[tokens[j].end : tokens[j + 1].start].strip() else tokens[j].end
        if end - start >= 2:
            runs.append(text[start:end])
            bound.update(t.text for t in tokens[i : j + 1])
        else:
            free.add(tokens[i].text)
        i = j + 1
    return tuple(dict.fromkeys(runs)), frozenset(bound - free)


def _join_and(a: Node, b: Node) -> Node:
    """Combine the parts before and after a stray ')' as one sequence."""
    if is_empty(a):
        return b
    if is_empty(b):
        return a

    def parts(node: Node) -> tuple[tuple[Node, ...], tuple[Node, ...], tuple[Node, ...]]:
        if isinstance(node, Group):
            return node.must, node.should, node.must_not
        if isinstance(node, Phrase):
            return (node,), (), ()
        return (), (node,), ()

    (m1, s1, n1), (m2, s2, n2) = parts(a), parts(b)
    return Group(m1 + m2, s1 + s2, n1 + n2)


_SPACES = re.compile(r"\s+")


def _nesting(lexemes: list[_Lexeme]) -> int:
    """Deepest parenthesis nesting, counting unclosed "(" as open to the end (as the parser reads them)."""
    depth = deepest = 0
    for lex in lexemes:
        if lex.kind == "LP":
            depth += 1
            deepest = max(deepest, depth)
        elif lex.kind == "RP" and depth:
            depth -= 1
    return deepest


NOTHING_TO_SEARCH = "检索词中没有可检索的词语（引号、括号、AND / OR / NOT 和标点本身不能检索），请输入要查找的词语"
QUOTES_AS_EMPHASIS = "问句中的引号按强调处理，不要求段落必须包含引号内的词语（要求包含请在引号前加 +）"


def quotes_are_emphasis(lexemes: list[_Lexeme]) -> bool:
    """Quotes in a question with no other operator mark a term, as in Chinese prose (实现“以房养老”吗), not
    a filter: requiring the quoted string would drop every passage that names the thing otherwise, which
    is what a question most needs (STARD: 5 of 6 such questions found nothing, docs/evaluation.md). A
    `+` before the quote, any other operator, or a query that is not a question keeps quotes strict."""
    if not any(lx.kind == "PHRASE" for lx in lexemes):
        return False
    if any(lx.kind != "PHRASE" and lx.kind != "WORD" or lx.prefix for lx in lexemes):
        return False
    outside = "".join(lx.text for lx in lexemes if lx.kind == "WORD")
    return is_question(outside)


def parse_query(text: str) -> ParsedQuery:
    """Parse what the user typed. Raises QueryError for a query with nothing to look for (empty, or only
    quotes, brackets, operators and punctuation: matching every paragraph would pass them all off as hits)."""
    if text is None or not text.strip():
        raise QueryError("q", "请输入检索词")
    warnings = _Warnings()
    lexemes = _lex(text.strip(), warnings)
    if _nesting(lexemes) > MAX_NESTING:
        raise QueryError("q", f"括号嵌套过深（超过 {MAX_NESTING} 层），请简化检索式。")
    if quotes_are_emphasis(lexemes):
        for lex in lexemes:
            if lex.kind == "PHRASE":
                lex.kind, lex.quoted = "WORD", True
        warnings.add(QUOTES_AS_EMPHASIS)
    parser = _Parser(lexemes, warnings)
    root = parser.parse()
    if isinstance(root, Group) and not root.must and not root.should:
        if not root.must_not:  # only quotes, brackets, operators or punctuation: nothing to look for
            raise QueryError("q", NOTHING_TO_SEARCH)
        warnings.add("只有排除条件，已列出不含这些词语的段落")
    terms = tuple(dict.fromkeys(parser.positive_words))
    phrases = tuple(dict.fromkeys(parser.positive_phrases))
    semantic = _SPACES.sub(" ", " ".join(parser.semantic_parts)).strip()
    return ParsedQuery(
        text=text,
        root=root,
        terms=terms,
        phrases=phrases,
        semantic_text=semantic,
        warning="；".join(warnings.messages) or None,
    )
