"""The reporting place of a document and the region it belongs to, checked against the gazetteer.

A place is only ever a real division name (罗子山瑶族乡, 鹤龙街道, 冠县), written in full: the short form
鹤龙街 is stored as 鹤龙街道. Where the evidence does not single out one division, the field stays unknown.

Evidence, strongest first:
- the title names it (中共张店区房镇镇委员会关于…报告 → 房镇镇; the lowest division named wins);
- the signature line names it (房镇镇人民政府);
- the text names it at least twice, at the level the writer uses for itself (我镇/全镇 → a 镇);
- the file's path names it (…/观音堂镇/报告.docx).
The region is the division the place belongs to (a township's county, a county's prefecture). When several
divisions share the name (新店镇 exists in 16 counties), the one whose county or prefecture the text names is
taken, else the one whose kind of county the text calls its superior (县委、县政府 → a 县; 区委 → a 区);
else unknown.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Iterable

from indexer.pipeline.gazetteer import COUNTY_LEVELS, TOWNSHIP_LEVELS, Division, Gazetteer

# Last characters of a division name; a scan only looks back from these.
_END_CHARS = frozenset("乡镇道街区县市旗木省州盟")
_CJK = re.compile(r"[\u4e00-\u9fff]")
# Names that are also everyday words (老城区改造, 小城镇建设): only a title, signature or path, or an
# authority right after them (城区人民政府), makes them a place.
_COMMON_WORDS = frozenset({"城区", "郊区", "矿区", "东区", "西区", "南区", "北区", "中区", "新城区", "老城区", "新市区",
                           "市中区", "城中区", "城东区", "城西区", "城北区", "河东区", "河西区", "城关镇", "小城镇",
                           "中心镇", "新城镇", "新市镇", "新镇", "城郊乡", "郊区乡", "中心街道", "城关街道"})
_AUTHORITY_AFTER = ("人民政府", "政府", "党委", "党工委", "委员会", "办事处", "司法所", "司法局", "人民法院", "法院",
                    "人大", "公安局", "委", "县委", "区委", "市委")
# How a writer names its own unit: 我镇, 本乡, 全街道 ("全市" is too often the prefecture to count).
_SELF = re.compile(r"(?:我|本|全)(街道|乡(?!镇)|镇|县|区(?!域)|市(?!场))")  # not 全乡镇 (all townships), 全区域
_SUPERIOR = re.compile(r"(县|区)(?:委|人民政府|政府)")


@dataclass(frozen=True)
class Mention:
    name: str  # the full division name (鹤龙街 in the text → 鹤龙街道)
    start: int
    end: int
    divisions: tuple[Division, ...]

    @property
    def rank(self) -> int:
        return max(d.rank for d in self.divisions)

    @property
    def level(self) -> str:
        return next(d.level for d in self.divisions if d.rank == self.rank)


@dataclass(frozen=True)
class PlaceResult:
    name: str = ""
    level: str = ""
    region: str = ""
    place_source: str = ""  # title / text / path
    place_sure: str = ""  # high / medium
    region_source: str = ""  # gazetteer / text
    region_sure: str = ""


def mentions(text: str, gazetteer: Gazetteer, naming: bool = False) -> list[Mention]:
    """Every division name in `text`, longest at each end position, in order; overlapping shorter ones dropped.
    `naming`: the text names the document (title, signature, path), where 城区 or 老城镇 is a name, not a word."""
    found: list[Mention] = []
    longest = gazetteer.max_name
    for i, ch in enumerate(text):
        if ch not in _END_CHARS:
            continue
        end = i + 1
        best: Mention | None = None
        for length in range(min(longest, end), 1, -1):
            start = end - length
            if not _CJK.match(text[start]):
                continue
            surface = text[start:end]
            name = surface
            divisions = gazetteer.lookup(name)
            if not divisions and surface.endswith("街") and text[end:end + 1] != "道":
                name = surface + "道"  # 鹤龙街 is how Guangzhou names 鹤龙街道
                divisions = gazetteer.lookup(name)
            divisions = [d for d in divisions if d.level]
            if divisions and (naming and len(name) > 2 or _stands_alone(text, start, end, name)):
                best = Mention(name, start, end, tuple(divisions))
                break
        if best is not None:
            while found and found[-1].end > best.start:  # 张店区 inside 中共张店区房镇镇: keep the longer
                if found[-1].end - found[-1].start >= best.end - best.start and found[-1].start <= best.start:
                    best = None
                    break
                found.pop()
            if best is not None:
                found.append(best)
    return found


def _stands_alone(text: str, start: int, end: int, name: str) -> bool:
    """Whether a division name found in running text is used as one, not as part of another word:
    short (冠县, 新县) and everyday (城区) names need a word boundary or an authority after them."""
    after_authority = text.startswith(_AUTHORITY_AFTER, end)
    if name in _COMMON_WORDS:
        return after_authority
    if len(name) > 2:
        return True
    before = text[start - 1] if start else ""
    return after_authority or not before or not _CJK.match(before) or before in "省市州盟和及、与在对"


def reporting_place(title: str, signature: list[str], body: str, path: str, gazetteer: Gazetteer) -> PlaceResult:
    text = "\n".join([title, body])
    chosen, source, sure = _lowest(mentions(title, gazetteer, naming=True)), "title", "high"
    if chosen is None:
        found = (m for line in signature for m in mentions(line, gazetteer, naming=True))
        chosen, source, sure = _lowest(found), "text", "high"
    if chosen is None:
        chosen, source, sure = _from_text(body, gazetteer), "text", "medium"
    if chosen is None:
        found = mentions(path.replace("/", "，"), gazetteer, naming=True)
        chosen, source, sure = _lowest(found), "path", "medium"
    if chosen is None:
        return PlaceResult()
    region, region_source, region_sure = _region(chosen, text, gazetteer)
    if region_sure == "conflict":
        if source != "title":
            return PlaceResult()  # named in passing, and not the division of that name: unknown
        region_sure = ""
    return PlaceResult(chosen.name, chosen.level, region, source, sure, region_source, region_sure)


def _lowest(found: Iterable[Mention]) -> Mention | None:
    """The most specific division among these (a township before its county), the first of equals."""
    best: Mention | None = None
    for m in found:
        if best is None or m.rank > best.rank:
            best = m
    return best


def _from_text(body: str, gazetteer: Gazetteer) -> Mention | None:
    """The division the text names most (twice at least), at the level the writer calls itself."""
    found = mentions(body, gazetteer)
    if not found:
        return None
    counts = Counter(m.name for m in found)
    first: dict[str, Mention] = {}
    for m in found:
        first.setdefault(m.name, m)
    self_level = _self_level(body)
    wanted = {self_level} if self_level else set(TOWNSHIP_LEVELS)
    pool = [n for n in first if first[n].level in wanted and counts[n] >= 2]
    if not pool and not self_level:
        pool = [n for n in first if first[n].level in COUNTY_LEVELS and first[n].rank == 2 and counts[n] >= 2]
    if not pool:
        return None
    # most mentions, then the earliest (order of the text, never of a set: reproducible)
    best = min(pool, key=lambda n: (-counts[n], first[n].start))
    return first[best]


def _self_level(body: str) -> str:
    counts = Counter(m.group(1) for m in _SELF.finditer(body))
    if len(counts) > 1:
        counts.pop("市", None)  # 全市 beside 我镇 is the city the township is in
    if not counts:
        return ""
    (level, n), *rest = counts.most_common()
    if rest and rest[0][1] == n:
        return ""
    return level


def _region(place: Mention, text: str, gazetteer: Gazetteer) -> tuple[str, str, str]:
    """(region, source, sureness) for the place, or ("", "", "") when it cannot be told."""
    candidates = [d for d in place.divisions if d.rank == place.rank]
    superior = _superior_level(text) if place.rank == 3 else ""
    parents = {_parent(d) for d in candidates}
    if len(parents) == 1:
        parent = parents.pop()
        if superior and parent and _level_of_parent(parent, gazetteer) not in (superior, ""):
            return "", "", "conflict"  # the text reports to a 区, the only 增福镇 is in a 市: another place
        return (parent, "gazetteer", "high") if parent else ("", "", "")
    named = {m.name for m in mentions(text, gazetteer)}
    # the county named in the text, else the prefecture (重庆市 has two 义和镇: the county decides)
    for tier in (lambda d: _parent(d) in named, lambda d: d.city in named):
        by_text = {_parent(d) for d in candidates if tier(d) and _parent(d)}
        if len(by_text) == 1:
            return by_text.pop(), "text", "high"
        if by_text:
            break
    if superior:
        pool = by_text or {_parent(d) for d in candidates}
        by_level = {p for p in pool if p and _level_of_parent(p, gazetteer) == superior}
        if len(by_level) == 1:  # 前营乡: one in 辛集市, one in 宝丰县; the text reports to 县委县政府
            return by_level.pop(), "text", "medium"
    return "", "", ""


def _parent(d: Division) -> str:
    parent = d.parent
    if parent.endswith("直辖行政区划"):  # 中山市's towns, 仙桃市: no county between
        parent = d.city if d.rank == 3 and not d.city.endswith("直辖行政区划") else d.province
    return parent


def _level_of_parent(name: str, gazetteer: Gazetteer) -> str:
    return next((d.level for d in gazetteer.lookup(name) if d.rank == 2), "")


def _superior_level(text: str) -> str:
    """The kind of county a township's text reports to: 县 (县委、县政府), 区 or 市; "" when mixed."""
    counts = Counter(m.group(1) for m in _SUPERIOR.finditer(text))
    if counts["县"] and not counts["区"]:
        return "县"
    if counts["区"] and not counts["县"]:
        return "区"
    return ""
