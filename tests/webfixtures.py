"""Shared helpers for the web tests: the real app under waitress, and a Chromium launched by Playwright."""
from __future__ import annotations

import shutil
from contextlib import contextmanager
from typing import Iterator

from search_web import create_app
from search_web.serve import BackgroundServer, start_background

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
XSS_PARAGRAPH = "基层执法培训中发现的问题：<script>alert(1)</script> 需要<b>整改</b>落实。"
SHARED_PARAGRAPH = "坚持和发展新时代枫桥经验，努力实现小事不出村、大事不出乡、矛盾不上交。"
XSS_CORPUS = {
    "xss_report.txt": "\n".join([
        "东城镇2023年法治政府建设工作报告",
        "",
        "一、主要做法",
        "",
        "东城镇坚持依法行政，全面推进法治政府建设，积极开展普法宣传教育，取得了良好成效。",
        "",
        XSS_PARAGRAPH,
        "",
        "二、存在问题",
        "",
        "法治宣传教育的覆盖面仍然不够广，群众参与的积极性有待提高。",
        "",
        SHARED_PARAGRAPH,
    ]),
    # a second report sharing one paragraph word for word, for "N 份报告有相同表述"
    "shared_report.txt": "\n".join([
        "东河乡2023年法治政府建设工作报告",
        "",
        "一、主要做法",
        "",
        "东河乡围绕法治乡村建设，推动矛盾纠纷多元化解，开展法律进村入户活动。",
        "",
        SHARED_PARAGRAPH,
    ]),
}


def chromium_available() -> bool:
    return shutil.which(CHROMIUM) is not None


@contextmanager
def live_server(config, searcher) -> Iterator[BackgroundServer]:
    """The real app under waitress on a free localhost port, for as long as the block runs."""
    server = start_background(create_app(config, searcher))
    try:
        yield server
    finally:
        server.stop()
