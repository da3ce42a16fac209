"""Is the text a reader produced text at all? The test every format's output passes: binary junk under a
document's name (random bytes named .html, a .doc LibreOffice "converted" anyway, a .txt that is an image)
decodes to control characters and symbols, not to letters, digits and punctuation."""
from __future__ import annotations

import unicodedata

SAMPLE_CHARS = 64 * 1024  # judged on the start of the text: junk is junk from its first bytes
MIN_PLAUSIBLE = 0.95  # share of ordinary characters in correctly decoded text
MAX_CONTROL = 0.01


def junk_reason(text: str) -> str | None:
    """Why extracted text is no text at all, or None (also None for blank text: the caller reports a file
    without text)."""
    if not text.strip():
        return None
    if too_many_controls(text):
        return "binary data, not text (control characters)"
    if not plausible(text):
        sample = text[:SAMPLE_CHARS]
        odd = 1 - sum(1 for ch in sample if ordinary(ch)) / len(sample)
        return f"binary data, not text ({odd:.0%} of its characters are not ordinary text)"
    return None


def too_many_controls(text: str) -> bool:
    sample = text[:SAMPLE_CHARS]
    return bool(sample) and sum(1 for ch in sample if is_control(ch)) / len(sample) > MAX_CONTROL


def is_control(ch: str) -> bool:
    return unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f\v\x85"


def plausible(text: str) -> bool:
    """Whether decoded text reads like text: letters, digits, CJK, punctuation and spaces."""
    sample = text[:SAMPLE_CHARS]
    if not sample:
        return True
    share = sum(1 for ch in sample if ordinary(ch)) / len(sample)
    return any(ch.isalnum() for ch in sample) and share >= MIN_PLAUSIBLE


def ordinary(ch: str) -> bool:
    if ch.isascii():
        return ch.isprintable() or ch in "\t\n\r\f\v"
    category = unicodedata.category(ch)
    # Letters (CJK ideographs are Lo), digits, punctuation, spaces; not private use, unassigned or symbols
    # beyond the few that reports use (℃, ×, ①, ■ …).
    return category[0] in "LNPZ" or ch in "\ufeff℃×÷±■□●○◆◇★☆→√※§°" or ch == "\x85"
