"""The words that may follow a numeral in a quantified claim, and the words around it that qualify it."""
from __future__ import annotations

import re

# Measure words and units (longest first when matching). 元 covers money; 万/亿 stay with the numeral.
UNITS: tuple[str, ...] = (
    # compound counts of people / visits / batches
    "人次", "场次", "户次", "家次", "批次", "车次", "辆次", "架次", "件次", "起次", "个次", "课时", "学时",
    # durations (年 only after 连续: see extract.py)
    "小时", "个工作日", "工作日", "个月", "分钟",
    # area, length, volume, weight, power, money, ratios
    "平方米", "平方公里", "平方千米", "立方米", "公里", "千米", "公顷", "亩", "吨", "公斤", "千克", "米", "千瓦",
    "美元", "元", "个百分点", "倍",
    # plain measure words
    "件", "起", "场", "次", "人", "个", "项", "名", "份", "条", "处", "户", "家", "批", "期", "本", "组",
    "支", "宗", "间", "辆", "册", "篇", "张", "台", "套", "所", "座", "部", "位", "类", "种", "轮", "堂",
    "节", "班", "队", "幅", "块", "面", "条次", "天", "年", "桌", "棵", "株", "头", "只", "栋", "盏", "箱", "袋", "艘", "架",
    # places counted as units (覆盖2镇27个村社)
    "镇", "村", "乡",
)
UNIT_RE = re.compile("|".join(sorted((re.escape(u) for u in UNITS), key=len, reverse=True)))
DURATION_UNITS = frozenset({"小时", "个工作日", "工作日", "个月", "分钟", "天"})

# Qualifiers written before the numeral -> the qualifier column (README of tests/data/figures).
PREFIX_QUALIFIERS: tuple[tuple[str, str], ...] = (
    ("不得高于", "以下"), ("不得超过", "以下"), ("不高于", "以下"), ("不超过", "以下"), ("不多于", "以下"),
    ("最多", "以下"), ("不超", "以下"),
    ("不得少于", "以上"), ("不少于", "以上"), ("至少", "以上"), ("最少", "以上"),
    ("不足", "不足"), ("不到", "不足"),
    ("超过", "超过"), ("多于", "超过"), ("逾", "超过"), ("超", "超过"),
    ("将近", "近"), ("接近", "近"), ("近", "近"), ("大约", "约"), ("约", "约"),
)
# ... and after the unit.
SUFFIX_QUALIFIERS: tuple[tuple[str, str], ...] = (
    ("以上", "以上"), ("以下", "以下"), ("以内", "以下"), ("之内", "以下"), ("内", "以下"),
    ("左右", "左右"),
)
