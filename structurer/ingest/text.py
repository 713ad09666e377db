"""Decode text dumps. Budget disclosures come as UTF-8, GBK/GB18030 (older Windows
tools) or UTF-16 (Windows "Unicode" exports, sometimes without a BOM)."""
from __future__ import annotations

import re

import charset_normalizer

from .common import IngestError

_BOMS = (  # UTF-32 first: its LE BOM starts with the UTF-16 LE BOM
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
# C0/C1 controls except \t \n \v \f \r, plus U+FFFD from lossy decoding.
_GARBAGE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f\ufffd]")
_MAX_GARBAGE = 0.02  # share of control/replacement chars above which it is not text


def decode_text(data: bytes, name: str) -> tuple[str, str]:
    """Return (text, encoding name). Characters are kept as-is, apart from a BOM."""
    text, encoding = _decode(data, name)
    if _garbage_share(text) > _MAX_GARBAGE:
        raise IngestError(
            f"{name} looks like binary data, not text ({encoding} decoding is full of control characters)"
        )
    return text, encoding


def _decode(data: bytes, name: str) -> tuple[str, str]:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _strict(data[len(bom):], encoding, name), encoding
    utf16 = _utf16_without_bom(data)
    if utf16:
        try:
            return data.decode(utf16), utf16
        except UnicodeDecodeError:
            pass  # NUL pattern was a coincidence: fall through to the binary check
    if b"\x00" in data:
        raise IngestError(f"{name} looks like binary data, not text (contains NUL bytes)")
    # Strict UTF-8 first: valid UTF-8 is almost never accidental, while GB18030 accepts
    # many byte sequences and would turn UTF-8 Chinese into mojibake.
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            pass
    best = charset_normalizer.from_bytes(data).best()
    if best is None or best.encoding is None:
        raise IngestError(f"{name} is not text in any recognised encoding (binary data?)")
    return str(best), best.encoding


def _strict(data: bytes, encoding: str, name: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise IngestError(
            f"{name} has a {encoding} byte-order mark but is not valid {encoding} (byte {exc.start})"
        ) from exc


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text has its NUL bytes mostly on one parity (high bytes of ASCII digits,
    spaces, newlines); binary data has them on both. Not "only": U+xx00 characters such
    as 一 (U+4E00) and 最 (U+6700), common in budgets, put a NUL on the other parity."""
    if len(data) % 2:
        return None
    even = data[0::2].count(0)
    odd = data[1::2].count(0)
    pairs = len(data) // 2
    if odd >= max(2, pairs * 0.01) and even <= odd * 0.25:
        return "utf-16-le"
    if even >= max(2, pairs * 0.01) and odd <= even * 0.25:
        return "utf-16-be"
    return None


def _garbage_share(text: str) -> float:
    return len(_GARBAGE.findall(text)) / len(text) if text else 0.0
