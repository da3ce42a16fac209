""".html/.htm reader for report pages saved from government sites.

The page's article body is found readability-style: the element holding the most Chinese text outside links,
descended into while one child still holds most of that text. Navigation, headers, footers, share bars,
breadcrumbs, scripts and related-link lists are removed first. The title is the article's headline (its first
heading or headline-like line, an <h1>, a "title" element or og:title), confirmed by <title> when they agree;
<title> alone only when there is no headline, and never a site name ("XX县人民政府网") or a site suffix.
"发布日期/发布时间" gives the date hint.
"""
from __future__ import annotations

import logging
import re
from pathlib import Path

from bs4 import BeautifulSoup, NavigableString, Tag
from charset_normalizer import from_bytes

from indexer.core.document import Block, RawDocument, Role, sha256_bytes
from indexer.pipeline.load import DEFAULT_LIMITS, LoadError, ReadLimits
from indexer.pipeline.load.common import text_block, title_block

log = logging.getLogger(__name__)

_PARAGRAPH_MARK = re.compile(rb"<(?:p|br|li|tr)[\s/>]", re.I)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_\-]+)""", re.I)
_CJK = re.compile(r"[\u4e00-\u9fff]")
_DROP_TAGS = ("script", "style", "noscript", "iframe", "nav", "header", "footer", "aside", "form", "button",
              "select", "input", "textarea", "svg", "template", "object", "embed", "map")
_CLUTTER = re.compile(
    r"(^|[-_ ])(nav|navbar|menu|breadcrumbs?|crumbs?|share|bdshare|social|footer|foot|header|head|top|topbar|"
    r"sidebar|side|aside|related|relate|xgxx|xglj|xgwz|links?|friendlink|copyright|toolbar|tools?|position|"
    r"location|dqwz|weizhi|print|comment|ad|ads|banner|search|login|pager|pagination)($|[-_ \d])",
    re.I,
)
_BLOCK_ONLY = {"p", "div", "section", "article", "main", "li", "ul", "ol", "blockquote", "pre", "center", "dd",
               "dt", "dl", "h1", "h2", "h3", "h4", "h5", "h6", "table", "tr", "td", "th", "tbody", "thead", "body"}
_HEADING = re.compile(r"^h([1-6])$")
_DATE = re.compile(r"(\d{4})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})")
_DATE_LABEL = re.compile(r"(?:发布|发文|成文|印发)?(?:日期|时间)\s*[:：]?\s*(\d{4}\s*[-年/.]\s*\d{1,2}\s*[-月/.]\s*\d{1,2})")
_PAGE_CHROME = re.compile(
    r"^(?:[【\[]?\s*(?:打印|关闭|关闭窗口|返回顶部|收藏|字号|字体|分享到?|扫一扫|打印本页|关闭本页)\s*[】\]]?\s*[：:|]?\s*)+"
    r"|^(?:发布|发文|信息来源|来源|浏览次数|点击数|阅读|作者|责任编辑|编辑)\s*[:：]"
    r"|^(?:字号|【字体)",
)
_TITLE_SEPARATORS = re.compile(r"\s*(?:[_|｜]|--|—|-\s)\s*")


def load(path: Path, rel_path: str, data: bytes, limits: ReadLimits = DEFAULT_LIMITS) -> RawDocument:
    _check_size(rel_path, data, limits)
    text = decode_html(data)
    soup = BeautifulSoup(text, "lxml")
    page_title, meta_title = _head_titles(soup)
    date = _date(soup)
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    for tag in soup.find_all(_is_clutter):
        if not tag.decomposed:
            tag.decompose()
    body = _article(soup)
    blocks = _Emitter().run(body) if body is not None else []
    blocks = [b for b in blocks if not _PAGE_CHROME.match(b.text) and not (date and _only_date(b.text))]
    title = _title(page_title, meta_title, _headline_candidates(soup, body, blocks))
    if title:
        # The page shows its title as the first body line, or not at all: it becomes the title block either way.
        blocks = [b for b in blocks[:3] if b.text != title] + blocks[3:]
        blocks.insert(0, title_block(title))
    if not any(b.text for b in blocks):
        raise LoadError(rel_path, "no article text found in HTML page")
    hints = {key: value for key, value in (("title", title), ("date", date)) if value}
    return RawDocument(path=rel_path, fmt="html", blocks=blocks, content_hash=sha256_bytes(data), hints=hints)


def _check_size(rel_path: str, data: bytes, limits: ReadLimits) -> None:
    """Count tags and paragraph marks in the bytes before any tree is built: a page of a million tags would
    take gigabytes of memory and minutes to parse only to fail max_file_paragraphs."""
    tags = data.count(b"<")
    if tags > limits.html_tags:
        raise LoadError(rel_path, f"too many HTML tags: {tags:,} > {limits.html_tags:,} (a reading limit)")
    paragraphs = len(_PARAGRAPH_MARK.findall(data))
    if paragraphs > 2 * limits.paragraphs:
        raise LoadError(rel_path, f"too many paragraphs: more than {2 * limits.paragraphs:,} <p>/<br> marks "
                                  f"(limit {limits.paragraphs:,} of text, setting max_file_paragraphs)")


def decode_html(data: bytes) -> str:
    """Text of an HTML file: BOM, then <meta charset>, then strict UTF-8, then detection."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    declared = _META_CHARSET.search(data[:4096])
    if declared:
        name = declared.group(1).decode("ascii").lower()
        if name in ("gb2312", "gbk", "gb_2312-80", "x-gbk", "gb18030"):
            name = "gb18030"  # the superset: pages labelled gb2312 routinely contain GBK-only characters
        try:
            return data.decode(name)
        except (LookupError, UnicodeDecodeError):
            log.debug("declared charset %s does not decode; detecting", name)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    best = from_bytes(data).best()
    if best is not None:
        return str(best)
    return data.decode("gb18030", errors="replace")


def _is_clutter(tag: Tag) -> bool:
    if tag.name in ("html", "body") or tag.attrs is None:
        return False
    names = " ".join(tag.get("class", []) or []) + " " + str(tag.get("id", "") or "")
    return bool(names.strip()) and bool(_CLUTTER.search(names))


def _cjk(text: str) -> int:
    return len(_CJK.findall(text))


def _score(tag: Tag) -> int:
    total = _cjk(tag.get_text(" ", strip=True))
    linked = sum(_cjk(a.get_text(" ", strip=True)) for a in tag.find_all("a"))
    return total - 2 * linked


def _article(soup: BeautifulSoup) -> Tag | None:
    """The smallest element that still holds most of the page's link-free Chinese text."""
    node = soup.body or soup
    if not isinstance(node, Tag):
        return None
    score = _score(node)
    while True:
        children = [c for c in node.find_all(True, recursive=False) if c.name in _BLOCK_ONLY]
        scored = [(_score(c), c) for c in children]
        best = max(scored, key=lambda pair: pair[0], default=None)
        if best is None or best[0] < 0.8 * score or best[0] <= 0:
            return node
        score, node = best


def _clean(text: str) -> str:
    return re.sub(r"[ \t\r\n\u00a0\u3000]+", " ", text).strip()


# A site's name, as <title> or a title suffix carries it: 陕州区人民政府网, XX县人民政府, 门户网站, 首页.
_SITE_NAME = re.compile(r"(?:人民政府|政府|门户)?(?:网站?|网站群|门户|官网|首页|主页)$|人民政府$|^首页|信息公开$")
# Words a report's headline carries (and a nav heading such as 最新动态 or 相关链接 does not).
_HEADLINE_WORDS = re.compile(r"报告|总结|情况|工作|要点|计划|规划|方案|意见|通知|决定|办法|讲话|公告|年度|\d{4}年")
_SENTENCE_END = re.compile(r"[。；;！!？?：:]")


def _head_titles(soup: BeautifulSoup) -> tuple[str, str]:
    """(<title>, og:title or ArticleTitle), read before the page chrome is removed."""
    page_title = _clean(soup.title.get_text()) if soup.title else ""
    meta = soup.find("meta", attrs={"property": "og:title"}) or soup.find("meta", attrs={"name": "ArticleTitle"})
    return page_title, _clean(meta["content"]) if meta and meta.get("content") else ""


def _title_like(text: str) -> bool:
    return 4 <= len(text) <= 100 and _cjk(text) >= 4 and not _SITE_NAME.search(text)


def _lines_above(soup: BeautifulSoup, body: Tag | None, blocks: list[Block], n: int = 3) -> list[Block]:
    """The last `n` lines of the page just above the article element (where a headline sits when the
    article element found is only the text under it)."""
    page = soup.body
    if body is None or page is None or body is page or not blocks:
        return []
    lines = [b for b in _Emitter().run(page) if not _PAGE_CHROME.match(b.text)]
    first = next((i for i, b in enumerate(lines) if b.text == blocks[0].text), 0)
    return lines[max(0, first - n):first]


def _headline_candidates(soup: BeautifulSoup, body: Tag | None, blocks: list[Block]) -> list[str]:
    """Possible headlines, the article's own first: a heading or headline-like short line just above or at
    the top of the article, then <h1>-<h3> and "title" elements left once navigation and headers are gone."""
    found: list[str] = []
    for block in _lines_above(soup, body, blocks) + blocks[:3]:
        text = block.text
        if block.role == Role.HEADING or (len(text) <= 60 and not _SENTENCE_END.search(text)
                                          and _HEADLINE_WORDS.search(text)):
            found.append(text)
            break
    found += [_clean(h.get_text()) for h in soup.find_all(("h1", "h2", "h3"))]
    found += [
        _clean(t.get_text())
        for t in soup.find_all(class_=re.compile(r"title|biaoti|bt", re.I))
        if t.name not in ("head", "title")
    ]
    return [c for c in dict.fromkeys(found) if _title_like(c)]


def _title(page_title: str, meta_title: str, candidates: list[str]) -> str:
    parts = [p for p in _TITLE_SEPARATORS.split(page_title) if p and _title_like(p)]  # site suffixes dropped
    # <title> confirms a headline: it is the title (or the title plus a site suffix) ...
    for candidate in candidates:
        if any(candidate in part for part in parts):
            return candidate
    # ... or the title is a bare short name (观音堂镇) the headline spells out.
    bare = [p for p in _TITLE_SEPARATORS.split(page_title) if p and not _SITE_NAME.search(p)]
    for candidate in candidates:
        if any(part in candidate for part in bare):
            return candidate
    if _title_like(meta_title):
        return meta_title
    for candidate in candidates:
        if _HEADLINE_WORDS.search(candidate):
            return candidate
    if parts:
        return max(parts, key=_cjk)
    return candidates[0] if candidates else ""


def _date(soup: BeautifulSoup) -> str:
    for name in ("PubDate", "pubdate", "publishdate", "firstpublishedtime", "article:published_time"):
        meta = soup.find("meta", attrs={"name": name}) or soup.find("meta", attrs={"property": name})
        if meta and meta.get("content"):
            iso = _iso(meta["content"])
            if iso:
                return iso
    match = _DATE_LABEL.search(soup.get_text(" "))
    return _iso(match.group(1)) if match else ""


def _iso(text: str) -> str:
    match = _DATE.search(text)
    if not match:
        return ""
    year, month, day = (int(g) for g in match.groups())
    if not (1990 <= year <= 2100 and 1 <= month <= 12 and 1 <= day <= 31):
        return ""
    return f"{year:04d}-{month:02d}-{day:02d}"


def _only_date(text: str) -> bool:
    return bool(_DATE.fullmatch(text.strip()))


class _Emitter:
    """Walks the article element and produces blocks: one per block element, <br> line or table row."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.line: list[str] = []

    def run(self, root: Tag) -> list[Block]:
        self._walk(root)
        self._flush()
        return self.blocks

    def _flush(self) -> None:
        text = _clean("".join(self.line))
        self.line = []
        if text:
            self.blocks.append(text_block(text))

    def _walk(self, node: Tag) -> None:
        for child in node.children:
            if isinstance(child, NavigableString):
                if type(child) is NavigableString:  # not a comment, CDATA or doctype
                    self.line.append(str(child))
                continue
            if not isinstance(child, Tag):
                continue
            name = child.name
            heading = _HEADING.match(name)
            if name == "br":
                self._flush()
            elif heading:
                self._flush()
                text = _clean(child.get_text(""))
                if text:
                    level = max(int(heading.group(1)) - 1, 1)
                    self.blocks.append(Block(text, Role.HEADING, level=level))
            elif name == "table":
                self._flush()
                self._table(child)
            elif name in _BLOCK_ONLY:
                self._flush()
                self._walk(child)
                self._flush()
            elif name in ("img",):
                continue
            else:
                self._walk(child)

    def _table(self, table: Tag) -> None:
        rows = [tr for tr in table.find_all("tr") if tr.find_parent("table") is table]
        grid = [[_clean(c.get_text(" ")) for c in tr.find_all(("td", "th"), recursive=False)] for tr in rows]
        width = max((len(r) for r in grid), default=0)
        if width <= 1 or any(len(cell) > 150 for row in grid for cell in row):
            # A layout table around the text: read its cells as ordinary content.
            for tr in rows:
                for cell in tr.find_all(("td", "th"), recursive=False):
                    self._walk(cell)
                    self._flush()
            return
        grid = [row for row in grid if any(row)]
        if not grid:
            return
        header = grid[0]
        if len(grid) > 1 and all(header) and len(set(header)) == len(header):
            self.blocks.append(Block(" | ".join(header), Role.TABLE_ROW))
            for row in grid[1:]:
                pairs = [f"{header[i]}：{v}" if i < len(header) else v for i, v in enumerate(row) if v]
                self.blocks.append(Block("；".join(pairs), Role.TABLE_ROW))
        else:
            for row in grid:
                self.blocks.append(Block(" | ".join(c for c in row if c), Role.TABLE_ROW))
