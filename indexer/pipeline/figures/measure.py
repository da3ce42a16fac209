"""The measure of a figure: the phrase it quantifies, taken from its clause.

Usually the verb+object or noun phrase right before the numeral (化解信访积案6起 -> 化解信访积案); when the
numeral comes first, the noun after its unit (开展4次全体镇干部学法活动 -> 开展全体镇干部学法活动, 90%的区级
政务服务事项… -> 区级政务服务事项…). Words that frame rather than name the thing (dates, 全年, 累计, 共, 达, 为,
a leading 在/通过… phrase) are dropped. jieba's part-of-speech tags tell verbs and nouns apart.
"""
from __future__ import annotations

import re

from indexer.pipeline.figures.marks import TextMarks
from indexer.pipeline.figures.words import tag

OPEN_QUOTES = "“「『《("  # kept at the start of a measure (“法律明白人”)
# Words that frame a claim (time, scope, totalling, linking) rather than name what is counted.
FRAME_WORDS = frozenset(
    "今年 今年以来 全年 本年度 年度 年内 当年 目前 截至目前 同时 此外 另外 其中 先后 共计 累计 总计 合计 共 计 已 均 "
    "已经 达 达到 均达 为 均为 有 了 的 定期 全部 分别 一共 总共 主动 共有 现有 新 再 截至 截止".split())
# Leading punctuation, list markers (二是, (三), 1.) and dates.
LEAD_STRIP = re.compile(r"^(?:[、,，\s]|[一二三四五六七八九十]+是|[(（][一二三四五六七八九十\d]+[)）]|\d+[.、．]"
                        r"|(?:19|20)\d{2}年(?:度)?(?:以来)?|截至\d+月(?:\d+日)?|今年以来|截至目前)+")
# A clause that only names a change (增长8.4%) measures the change of what the clause before counted.
CHANGE = re.compile(r"^(?:同比|环比|较上年|比上年)?(?:增长|下降|增加|减少|提高|提升|降低|上升)$")
SCOPE = re.compile(r"^(?:全|我|本|该)(?:镇|乡|区|县|市|街|街道|村|社区)$")
PLACE_WORDS = frozenset("辖区 街道 社区 县直 区直 市直 镇内 乡内 村内 区内 县内 市内".split())
TOTALLING = frozenset("共 共计 累计 总计 合计 先后".split())
SUBJECT_LINKS = ("共有", "现有", "共", "有")
PREPOSITIONS = frozenset("在 通过 对 向 为 依托 利用 围绕 针对 结合 按照 根据 以 从 于 经 把 将 由 与 和".split())


def _trim(words: list[tuple[str, str]], lead: bool = True) -> list[tuple[str, str]]:
    """Drop frame words at both ends (`lead=False`: at the end only, for the noun after a numeral)."""
    # 营仔镇共签约…, 年度共组织…: what comes before a totalling adverb is the subject or the time
    totals = [i for i, (w, _) in enumerate(words[:-1]) if w in TOTALLING]
    if totals:
        words = words[totals[-1] + 1:]
    # leading frame words, scopes (全镇, 我区), times, places and a leading prepositional phrase up to its verb
    while words and lead:
        w, f = words[0]
        punct = f == "x" and w not in OPEN_QUOTES
        if w in FRAME_WORDS or SCOPE.match(w) or ((f in ("t", "c", "ns", "m", "d") or punct) and len(words) > 1):
            words = words[1:]
        elif w in PREPOSITIONS and len(words) > 1:
            # 在政府门户网站更新发布信息: the phrase ends where the predicate (an adverb or verb) starts
            verb = next((i for i, (_, g) in enumerate(words[1:], 1) if g.startswith(("v", "d"))), None)
            if verb is None:
                break
            words = words[verb:]
            break
        else:
            break
    while words and (words[-1][0] in FRAME_WORDS or words[-1][1] in ("u", "uj", "ul", "m", "t")
                     or words[-1][0].isdigit()):
        words = words[:-1]
    return words


def _clean(phrase: str) -> str:
    phrase = re.sub(r"(?:《[^》]*》)+等", "", phrase)  # 学习《民法典》《信访工作条例》等法律法规 -> 学习法律法规
    return LEAD_STRIP.sub("", phrase).strip("、,， ")


def _noun_after(text: str, marks: TextMarks, unit_end: int, next_start: int) -> tuple[str, int]:
    """The noun phrase right after a figure's unit (1名专职法治员、… -> 专职法治员) and where it ends: up to the
    clause end, an enumeration comma, a conjunction, 等, or the next figure."""
    right = min(marks.first_from("enumeration", unit_end), next_start)
    lead = re.match(r"(?:以上|以下|以内|左右|内|余|多)?的?", text[unit_end:right])
    pos = unit_end + (lead.end() if lead else 0)
    kept: list[tuple[str, str]] = []
    for w, f in tag(text[pos:right]):
        if f == "c" or w in ("等", "中"):  # 1名常年法律顾问和2名…: the conjunction ends the noun
            right = pos
            break
        kept.append((w, f))
        pos += len(w)
    words = _trim(tag(_clean("".join(w for w, _ in kept))), lead=False)
    return "".join(w for w, _ in words), right


def _is_place(word: str, flag: str) -> bool:
    return flag in ("ns", "s", "f") or bool(SCOPE.match(word)) or word in PLACE_WORDS


def measure_phrase(text: str, marks: TextMarks, start: int, unit_end: int, previous_end: int, next_start: int,
                   previous_measure: str, previous_unit_end: int = 0) -> tuple[str, int]:
    """The measure, and where the text it was taken from ends (the next figure's measure starts after it).

    `start`..`unit_end`: the figure (with its prefix qualifier); `previous_end`: where the previous figure's
    text ended (0 when none), `previous_unit_end` where the previous figure itself ended; `next_start`: start
    of the next figure (len(text) when none)."""
    clause_left = marks.last_before("clause", start) + 1
    raw = _clean(text[max(clause_left, previous_end):start])
    words = _trim(tag(raw))
    prefix = "".join(w for w, _ in words)
    if (CHANGE.match(prefix) and previous_measure and previous_end > 0
            and not marks.any_between("sentence", previous_end, start)):
        return previous_measure + prefix, unit_end  # 生产总值25.10亿元,增长8.4% -> 生产总值增长
    suffix, right = _noun_after(text, marks, unit_end, next_start)
    if raw.endswith("连续"):
        # 连续6年入选…: the streak is of what follows
        return "连续" + suffix, (right if suffix else unit_end)
    if suffix:
        if raw.endswith(SUBJECT_LINKS) or text.startswith("的", unit_end):
            # 李桥乡共90余名“法律明白人”, 约99%的初发矛盾…: the numeral quantifies the noun after it; the words
            # before are the subject or a frame
            return suffix, right
        place = bool(words) and _is_place(*words[-1])
        if place:
            # 为镇内10余家企业提供…, 对全区70个单位…: a place before the numeral frames it
            words = [w for w in words[:-1] if w[0] not in PREPOSITIONS]
            prefix = "".join(w for w, _ in words)
        if not words or words[-1][1].startswith(("v", "p")) or words[-1][0] in PREPOSITIONS:
            # the numeral comes first: the thing counted follows its unit (开展4次…活动, 1名专职法治员)
            if words and words[-1][0] in PREPOSITIONS:
                prefix = "".join(w for w, _ in words[:-1])
            return prefix + suffix, right
        if place:
            return suffix, right
    if not prefix and clause_left <= previous_unit_end < start:
        # 在6个行政村开展“法治流动课堂”18次: the previous figure's noun phrase is this one's measure too
        return "".join(w for w, _ in _trim(tag(_clean(text[previous_unit_end:start])))), unit_end
    return prefix, unit_end
