"""Metadata: title, reporting place, its level and region, report year and signing date.

Everything comes from the document's own words; nothing is invented. The reporting place and its
region are real divisions (indexer/pipeline/places.py, against indexer/pipeline/gazetteer.py); the year is the year
reported on (indexer/pipeline/report_year.py: a report signed 2024-02-27 about 2023 is a 2023 report). Each
field records its source and sureness in DocumentMeta.provenance.
Loader hints (RawDocument.hints "title"/"date", e.g. from document properties) fill gaps only:
document properties are often stale templates, the text is what the reader sees.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass

from indexer.pipeline import gazetteer
from indexer.core.document import DocumentMeta, Paragraph, RawDocument
from indexer.pipeline.lines import TITLE_LEVEL, is_signature_line
from indexer.pipeline.places import reporting_place
from indexer.pipeline.report_year import report_year

log = logging.getLogger(__name__)

_REPORT_SENTENCE = re.compile(r"现将([^。；]{0,40}?)(情况|工作)?(报告|汇报)如下")
_DATE = re.compile(
    r"(\d{4}|[〇零一二三四五六七八九]{4})\s*[年.\-/]\s*([\d〇零一二三四五六七八九十]{1,3})\s*[月.\-/]"
    r"\s*([\d〇零一二三四五六七八九十]{1,3})\s*日?\s*$"
)
_CN_DIGIT = {ch: i for i, ch in enumerate("〇一二三四五六七八九")} | {"零": 0}
_PRONOUNS = re.compile(r"^(?:我|本|全)(?:乡|镇|街道|县|区|市)")
_TITLE_LIKE = re.compile(r"[^。；;！!？?]{4,80}")
_TOPIC = re.compile(r"法治政府建设|法治建设|依法行政|普法")


@dataclass(frozen=True)
class _Place:
    name: str  # with its unit: 观音堂镇
    unit: str  # 镇


def extract_metadata(raw: RawDocument, paragraphs: list[Paragraph]) -> DocumentMeta:
    title = next((p.text for p in paragraphs if p.is_heading and p.heading_level == TITLE_LEVEL), "")
    body = [p.text for p in paragraphs if not (p.is_heading and p.heading_level == TITLE_LEVEL)]
    signature = [t for t in body[-3:] if is_signature_line(t)]
    text = "\n".join([title, *body])

    # A first line the structure step did not take for the title (joined to the next line, too long)
    # still names the document: read it as the file has it.
    first = next((b.text.strip() for b in raw.blocks if b.text.strip()), "")
    opening = first if not title and _TITLE_LIKE.fullmatch(first) else ""
    found = reporting_place(title or opening, signature, "\n".join(body), raw.path, gazetteer.get())
    place = _Place(found.name, found.level) if found.name else None
    date = _signing_date(signature)
    hint_date = "" if date else _iso_date(raw.hints.get("date", ""))
    unsigned = body[:len(body) - len(signature)] if signature == body[len(body) - len(signature):] else body
    covered = report_year(title or opening, "\n".join(unsigned), date or hint_date)  # the signature's year is no evidence
    year = covered.year
    title = title or raw.hints.get("title", "").strip() or _derived_title(text, place, year)
    provenance = {}
    if found.name:
        provenance["place"] = provenance["level"] = f"{found.place_source}/{found.place_sure}"
    if found.region:
        provenance["region"] = f"{found.region_source}/{found.region_sure}"
    if year is not None:
        source = "hint" if covered.source == "date" and hint_date else covered.source
        provenance["year"] = f"{source}/{covered.sure}"
    if date or hint_date:
        provenance["date"] = "text/high" if date else "hint/medium"
    meta = DocumentMeta(
        title=title,
        place=found.name,
        level=found.level,
        region=found.region,
        year=year,
        date=date or hint_date,
        provenance=provenance,
    )
    log.debug("%s: %s", raw.path, meta)
    return meta


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
