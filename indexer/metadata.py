"""Metadata: title, reporting place, its level and region, report year and signing date.

Everything comes from the document's own words; nothing is invented. The reporting place is the
乡/镇/街道 (or 县/区/市) the title, the signature or most sentences name, not one mentioned in
passing; the year is the year reported on (a report signed 2024-02-27 about 2023 is a 2023 report).
Loader hints (RawDocument.hints "title"/"date", e.g. from document properties) fill gaps only:
document properties are often stale templates, the text is what the reader sees.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
from collections import Counter
from dataclasses import dataclass, field

from indexer.document import DocumentMeta, Paragraph, RawDocument
from indexer.lines import TITLE_LEVEL, is_signature_line

log = logging.getLogger(__name__)

TOWNSHIP_UNITS = ("街道", "乡", "镇")
COUNTY_UNITS = ("县", "区", "市")

# A place name starts where a word can start: at the beginning, after punctuation, digits, a year
# ("2023年度观音堂镇") or a higher-level unit ("三门峡市陕州区"). This keeps 我镇/全乡/在乡 out.
_BOUNDARY = (
    set("，。、；：！？“”‘’《》〈〉（）()【】—-·,.;:!?\"' \t\n")
    | set("0123456789年度县区市省")
    | set("在于对从向由与和及据按经受")  # function words: 在泉州市委…, 硖石乡和隆务镇
)
_MIN_NAME, _MAX_NAME = 2, 4
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
_UNIT_CHARS = re.compile(r"街道|[乡镇县区市省]")
# First characters that make a pronoun or a phrase, not a name: 我镇, 全乡, 各乡镇, 在乡, 本区 …
_NOT_NAME_START = set("我全本各该此其在和与及对于从向把将被由为以经这那某每乡镇县区市省村等了的是有共个年度月日底初")
# Names that are kinds of area, not places: 示范区, 开发区, 行政村 …
_GENERIC_NAMES = {"示范", "开发", "行政", "自治", "保护", "风景", "工业", "产业", "试验", "城区", "社区", "辖区",
                  "园区", "景区", "市区", "山区", "农村", "城市", "乡村", "基层", "地区", "片区", "街道"}
_GENERIC_ENDINGS = ("旅游", "工业", "经济", "功能", "生态", "产业", "开发", "示范", "保护", "试验", "商务", "物流")
_AUTHORITIES = ("委", "人民政府", "政府", "司法局", "人大", "法院", "检察院", "公安局", "法治")
_MAX_REGION_NAME = 3  # county names are short (德化县, 陕州区); longer runs are descriptions (近郊旅游区)

_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*年")
_YEAR_RANGE = re.compile(r"(?<!\d)(?:19|20)\d{2}\s*年?\s*[—–\-~～至到]+\s*(?:19|20)\d{2}\s*年?")
_REPORT_SENTENCE = re.compile(r"现将([^。；]{0,40}?)(情况|工作)?(报告|汇报)如下")
_DATE = re.compile(
    r"(\d{4}|[〇零一二三四五六七八九]{4})\s*[年.\-/]\s*([\d〇零一二三四五六七八九十]{1,3})\s*[月.\-/]"
    r"\s*([\d〇零一二三四五六七八九十]{1,3})\s*日?\s*$"
)
_CN_DIGIT = {ch: i for i, ch in enumerate("〇一二三四五六七八九")} | {"零": 0}
_PRONOUNS = re.compile(r"^(?:我|本|全)(?:乡|镇|街道|县|区|市)")
_TOPIC = re.compile(r"法治政府建设|法治建设|依法行政|普法")


@dataclass(frozen=True)
class _Place:
    name: str  # with its unit: 观音堂镇
    unit: str  # 镇
    at: int = field(default=0, compare=False)  # where in the text this mention starts


def extract_metadata(raw: RawDocument, paragraphs: list[Paragraph]) -> DocumentMeta:
    title = next((p.text for p in paragraphs if p.is_heading and p.heading_level == TITLE_LEVEL), "")
    body = [p.text for p in paragraphs if not (p.is_heading and p.heading_level == TITLE_LEVEL)]
    signature = [t for t in body[-3:] if is_signature_line(t)]
    text = "\n".join([title, *body])

    place = _reporting_place(title, signature, text)
    region = _region(text, place)
    date = _signing_date(signature) or _iso_date(raw.hints.get("date", ""))
    year = _report_year(title, text, date)
    title = title or raw.hints.get("title", "").strip() or _derived_title(text, place, year)
    meta = DocumentMeta(
        title=title,
        place=place.name if place else "",
        level=place.unit if place else "",
        region=region,
        year=year,
        date=date,
    )
    log.debug("%s: %s", raw.path, meta)
    return meta


# --- places -----------------------------------------------------------------------------------


def place_candidates(text: str, units: tuple[str, ...], max_name: int = _MAX_NAME) -> list[_Place]:
    """Every place name with one of `units` that starts at a word boundary, in order of occurrence.

    The name is the shortest run of 2–4 CJK characters followed by a unit: 张茅乡, 观音堂镇.
    """
    found: list[_Place] = []
    for start in range(len(text)):
        if start and text[start - 1] not in _BOUNDARY:
            continue
        if text[start] in _NOT_NAME_START:
            continue
        for length in range(_MIN_NAME, max_name + 1):
            stem = text[start:start + length]
            if len(stem) < length or not _CJK_RUN.fullmatch(stem) or _UNIT_CHARS.search(stem):
                break
            unit = next((u for u in units if text.startswith(u, start + length)), None)
            if unit:
                if stem not in _GENERIC_NAMES and not stem.endswith(_GENERIC_ENDINGS):
                    found.append(_Place(stem + unit, unit, start))
                break
    return found


def _reporting_place(title: str, signature: list[str], text: str) -> _Place | None:
    """The place the report is about: named in title or signature, else the most frequent one."""
    for units in (TOWNSHIP_UNITS, COUNTY_UNITS):
        candidates = place_candidates(text, units)
        if not candidates:
            continue
        scores: Counter[_Place] = Counter()
        for place in set(candidates):
            scores[place] = text.count(place.name)
            if place.name in title:
                scores[place] += 10
            if any(line.startswith(place.name) for line in signature):
                scores[place] += 10
        best, score = scores.most_common(1)[0]
        # A township named once in passing is not the reporting unit; a county-level one may be
        # (a county's own report names itself rarely).
        if score >= 2 or units == COUNTY_UNITS:
            return best
    return None


def _region(text: str, place: _Place | None) -> str:
    """The higher-level region the text names: a 县/区 for a township (a 市 for a county)."""
    if place is None:
        return ""
    levels = (("县", "区"), ("市",)) if place.unit in TOWNSHIP_UNITS else (("市",),)
    for units in levels:
        candidates = place_candidates(text, units, max_name=_MAX_REGION_NAME)
        names = Counter(p.name for p in candidates if p.name != place.name and _names_a_region(text, p, place))
        if names:
            return names.most_common(1)[0][0]
    return ""


def _names_a_region(text: str, mention: _Place, place: _Place) -> bool:
    """A region is named as one: in a document name (《德化县法治政府建设实施方案》), as an
    authority (陕州区委, 德化县人民政府), or right before the place (陕州区观音堂镇)."""
    after = text[mention.at + len(mention.name):]
    return (
        (mention.at > 0 and text[mention.at - 1] == "《")
        or after.startswith(_AUTHORITIES)
        or after.startswith(place.name)
    )


# --- dates and years --------------------------------------------------------------------------


def _signing_date(signature: list[str]) -> str:
    for line in reversed(signature):
        m = _DATE.search(line)
        if m:
            return _to_iso(*m.groups())
    return ""


def _to_iso(year: str, month: str, day: str) -> str:
    try:
        return dt.date(_numeral(year, positional=True), _numeral(month), _numeral(day)).isoformat()
    except (ValueError, TypeError):
        return ""


def _numeral(token: str, positional: bool = False) -> int:
    """'27' / '二十七' / '二〇二四' as an int."""
    if token.isdigit():
        return int(token)
    if positional:
        return int("".join(str(_CN_DIGIT[ch]) for ch in token))
    tens, sep, units = token.partition("十")
    if not sep:
        return _CN_DIGIT[token]
    return (_CN_DIGIT[tens] if tens else 1) * 10 + (_CN_DIGIT[units] if units else 0)


def _iso_date(value: str) -> str:
    try:
        return dt.date.fromisoformat(value.strip()[:10]).isoformat() if value.strip() else ""
    except ValueError:
        return ""


def _report_year(title: str, text: str, date: str) -> int | None:
    """The year reported on: the title's year, the year of the "现将…报告如下" sentence, else the
    year named most often (plan periods like 2021—2025年 and the signing date do not count)."""
    m = _YEAR.search(title)
    if m:
        return int(m.group(1))
    sentence = _REPORT_SENTENCE.search(text)
    if sentence:
        m = _YEAR.search(sentence.group(0))
        if m:
            return int(m.group(1))
    counts = Counter(int(y) for y in _YEAR.findall(_YEAR_RANGE.sub("", text)))
    if date and counts[int(date[:4])] == 1 and len(counts) > 1:
        del counts[int(date[:4])]  # the signature's own year
    if not counts:
        return None
    best = max(counts.values())
    return min(year for year, n in counts.items() if n == best)


# --- titles -----------------------------------------------------------------------------------


def _derived_title(text: str, place: _Place | None, year: int | None) -> str:
    """A title for an untitled report, only from words in it: place + year + its own description
    ("现将我乡2023年度法治政府建设情况报告如下" -> 硖石乡2023年法治政府建设情况报告)."""
    if place is None:
        return ""
    prefix = place.name + (f"{year}年" if year else "")
    sentence = _REPORT_SENTENCE.search(text)
    if sentence:
        subject = _PRONOUNS.sub("", sentence.group(1))
        subject = re.sub(r"(?:19|20)\d{2}\s*年度?", "", subject).strip("的 ")
        if subject.startswith(place.name):
            subject = subject[len(place.name):]
        if subject:
            return f"{prefix}{subject}{sentence.group(2) or ''}{sentence.group(3)}"
    topic = _TOPIC.search(text)
    return f"{prefix}{topic.group()}工作报告" if topic and year else ""
