"""China's administrative divisions down to township level (乡/镇/街道), from jionlp's bundled dictionary.

The data is `jionlp/dictionary/china_location.zip`: a tab-indented tree province → city → county → township →
village. We read the file straight from the installed package without importing jionlp (its import prints a
banner and loads a word segmenter); villages are skipped. Loaded once, on first use, so a search never pays
for it: only metadata extraction at build time asks for it.
"""
from __future__ import annotations

import importlib.util
import io
import logging
import re
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

log = logging.getLogger(__name__)

DATA_PACKAGE = "jionlp"
DATA_FILE = ("dictionary", "china_location.zip")

# Levels as stored in DocumentMeta.level: a township is 乡 (民族乡, 苏木 too), 镇 or 街道; a county-level
# division is 县 (自治县, 旗, 特区, 林区 too), 区 or 市 (a county-level city); a prefecture is 市 (州, 盟, 地区).
TOWNSHIP_LEVELS = ("街道", "镇", "乡")
COUNTY_LEVELS = ("县", "区", "市")


# Development zones and other administrative areas listed beside counties and townships.
_ZONE = re.compile(r"开发区|高新|工业园|产业园|示范区|试验区|管理区|经济|农场|林场|园区")
# Entries that are only a unit word (a 街道 named 街道 in the data): never a name in a text.
_UNIT_WORDS = frozenset({"街道", "乡", "镇", "社区"})


class GazetteerError(RuntimeError):
    """The division data cannot be found or read."""


@dataclass(frozen=True)
class Division:
    name: str  # full official name: 罗子山瑶族乡, 鹤龙街道, 陕州区
    level: str  # 乡 / 镇 / 街道 / 县 / 区 / 市 / 省
    rank: int  # 0 province, 1 prefecture, 2 county, 3 township
    county: str  # the county-level division it is in (itself for a county), "" above
    city: str  # the prefecture it is in (itself for a prefecture)
    province: str

    @property
    def parent(self) -> str:
        """The division it belongs to: a township's county, a county's prefecture, a prefecture's province."""
        if self.rank == 3:
            return self.county
        if self.rank == 2:
            # a municipality's district (上海市/上海市/嘉定区): the municipality
            return self.city
        return self.province if self.rank == 1 and self.city != self.province else ""


def level_of(name: str, rank: int) -> str:
    """The level a division name stands at (民族乡 is a 乡, 街 a 街道, 旗 a 县); "" for administrative
    zones that hold townships but are no place a report speaks for (唐山高新技术产业开发区, 林场)."""
    if _ZONE.search(name):
        return ""
    if rank == 3:
        if name.endswith(("街道", "办事处", "街")):
            return "街道"
        if name.endswith("镇"):
            return "镇"
        if name.endswith(("乡", "苏木")):
            return "乡"
        return ""  # 农场, 林场, 开发区 …: administered like a township but no level users filter on
    if rank == 2:
        if name.endswith("区"):
            return "区"
        if name.endswith("市"):
            return "市"
        return "县"  # 县, 自治县, 旗, 自治旗, 特区, 林区
    if rank == 1:
        return "市" if name.endswith("市") else name[-1]
    return "省" if name.endswith("省") else name[-1]


class Gazetteer:
    """Name → the divisions bearing it (several counties have a 新店镇)."""

    def __init__(self, divisions: list[Division]):
        self.by_name: dict[str, list[Division]] = {}
        for d in divisions:
            self.by_name.setdefault(d.name, []).append(d)
        self.max_name = max((len(n) for n in self.by_name), default=0)

    def lookup(self, name: str) -> list[Division]:
        return self.by_name.get(name, [])

    def is_division(self, name: str) -> bool:
        return name in self.by_name

    def __len__(self) -> int:
        return sum(len(v) for v in self.by_name.values())


def parse_tree(lines: Iterable[str]) -> list[Division]:
    """Divisions of the tab-indented tree (`name\\tcode\\tshort` above township level, `name` below)."""
    out: list[Division] = []
    path: list[str] = ["", "", ""]
    for line in lines:
        if line.startswith("\t\t\t\t"):
            continue  # villages: 94% of the lines
        depth = len(line) - len(line.lstrip("\t"))
        name = line.strip().split("\t", 1)[0]
        if not name or name in _UNIT_WORDS:
            continue
        if depth < 3:
            path[depth] = name
            del path[depth + 1:]
            path.extend([""] * (3 - len(path)))
        province, city, county = path[0], path[1] if depth >= 1 else "", path[2] if depth >= 2 else ""
        if depth == 1 and name == province:  # a municipality lists itself as its own prefecture
            continue
        out.append(Division(name=name, level=level_of(name, depth), rank=depth,
                            county=county if depth >= 2 else "", city=city if depth >= 1 else "", province=province))
    return out


def data_path() -> Path:
    """The dictionary file inside the installed jionlp package, found without importing it."""
    spec = importlib.util.find_spec(DATA_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise GazetteerError(f"package {DATA_PACKAGE!r} is not installed (pip install 'jionlp>=1.5,<1.6'): "
                             "it carries the administrative divisions used for places")
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*DATA_FILE)
    if not path.is_file():
        raise GazetteerError(f"{path}: division data missing from the {DATA_PACKAGE} package")
    return path


def load(path: Path | None = None) -> Gazetteer:
    path = path or data_path()
    started = time.perf_counter()
    try:
        with zipfile.ZipFile(path) as archive:
            member = next(n for n in archive.namelist() if n.endswith(".txt"))
            with io.TextIOWrapper(archive.open(member), encoding="utf-8") as lines:  # streamed: 12 MB of text
                divisions = parse_tree(lines)
    except (OSError, zipfile.BadZipFile, StopIteration, UnicodeDecodeError) as exc:
        raise GazetteerError(f"{path}: cannot read the division data: {exc}") from exc
    gazetteer = Gazetteer(divisions)
    log.info("gazetteer: %d divisions from %s in %.2f s", len(gazetteer), path.name, time.perf_counter() - started)
    return gazetteer


_lock = threading.Lock()
_shared: Gazetteer | None = None


def get() -> Gazetteer:
    """The process's gazetteer, loaded on first use."""
    global _shared
    with _lock:
        if _shared is None:
            _shared = load()
        return _shared
