"""The year a report covers, and where that came from.

Rules, in order (the first that answers wins; none answering leaves the year unknown):
1. title: the first year it names that is not a plan period (2021—2025年); "2022年度…报告" is 2022. A
   政府工作报告 is named after the session it is delivered to (孙庙乡2025年政府工作报告, delivered in
   December 2024 or early 2025) and reviews the year before: title year − 1.
2. text: the year of the "现将…报告如下" sentence; else a body that opens on a year (2024年，我镇… /
   2025年以来 / 2024年度); else 上年度 or 一年来 with the signing date (a report signed in January–March
   of Y looks back on Y−1, one signed later on Y).
3. text: the year named most often, plan periods and the signing date's own year left out, when one year
   is named more than any other (a tie is no answer).
4. date: the signing date or the file's stated date, for a report-type title only (报告/总结/汇报), by the
   rule of 2.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*年")
_YEAR_RANGE = re.compile(r"(?<!\d)(?:19|20)\d{2}\s*年?\s*[—–\-~～至到]+\s*(?:19|20)\d{2}\s*年?")
_REPORT_SENTENCE = re.compile(r"现将([^。；]{0,40}?)(情况|工作)?(报告|汇报)如下")
_OPENING = re.compile(r"^\s*((?:19|20)\d{2})\s*年(?:度|以来|来|，|,|是|[\u4e00-\u9fff])")
_LOOKING_BACK = re.compile(r"上年度|一年来|过去一年|本年度")
_REPORT_TITLE = re.compile(r"报告|总结|汇报")
_WORK_REPORT = re.compile(r"(?<!法治)政府工作报告")  # 法治政府工作报告 is an annual report
_LOOK_BACK_MONTHS = 3  # a report dated January–March is about the year before


@dataclass(frozen=True)
class YearResult:
    year: int | None = None
    source: str = ""  # title / text / date
    sure: str = ""  # high / medium / low


def report_year(title: str, body: str, date: str) -> YearResult:
    title_year = _first_year(title)
    if title_year is not None:
        if _WORK_REPORT.search(title):
            return YearResult(title_year - 1, "title", "medium")
        return YearResult(title_year, "title", "high")
    sentence = _REPORT_SENTENCE.search(body)
    if sentence:
        year = _first_year(sentence.group(0))
        if year is not None:
            return YearResult(year, "text", "high")
    for line in body.splitlines()[:3]:
        opening = _OPENING.match(line)
        if opening:
            return YearResult(int(opening.group(1)), "text", "high")
    if date and _LOOKING_BACK.search(body[:600]):
        return YearResult(_covered_by(date), "text", "medium")
    counts = Counter(int(y) for y in _YEAR.findall(_YEAR_RANGE.sub("", body)))
    if date and counts[int(date[:4])] == 1 and len(counts) > 1:
        del counts[int(date[:4])]  # the signature's own year
    ranked = counts.most_common(2)
    if ranked and (len(ranked) == 1 or ranked[0][1] > ranked[1][1]):
        return YearResult(ranked[0][0], "text", "medium")
    if date and _REPORT_TITLE.search(title):
        return YearResult(_covered_by(date), "date", "low")
    return YearResult()


def _first_year(text: str) -> int | None:
    m = _YEAR.search(_YEAR_RANGE.sub("", text))
    return int(m.group(1)) if m else None


def _covered_by(date: str) -> int:
    year, month = int(date[:4]), int(date[5:7])
    return year - 1 if month <= _LOOK_BACK_MONTHS else year
