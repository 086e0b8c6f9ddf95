"""Small HTML pieces shared by the report pages: escaping, number formatting, tables,
sections, the page shell (inline CSS only) and an atomic file write."""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from lstmtune import _files
from lstmtune.report._baseline import png_tag

__all__ = ["esc", "fmt", "table", "section", "figure", "page", "write_atomic", "png_tag"]

CSS = """body{font-family:system-ui,sans-serif;max-width:64rem;margin:2rem auto;padding:0 1rem;
color:#222;line-height:1.4}h1{margin-bottom:.2rem}h2{border-bottom:1px solid #ccc;
padding-bottom:.2rem;margin-top:2.2rem}table{border-collapse:collapse;margin:.6rem 0;
font-size:.9rem}td,th{padding:.2rem .6rem;border-bottom:1px solid #ddd;text-align:right;
vertical-align:top}th{background:#f4f4f4}td.l,th.l{text-align:left}img{max-width:100%;
display:block;margin:.6rem 0}figcaption,.note{color:#555;font-size:.9rem}
figure{margin:1rem 0}details summary{cursor:pointer;font-weight:600}
dl.kv{display:grid;grid-template-columns:max-content auto;gap:.15rem 1rem}dl.kv dt{
font-weight:600}dl.kv dd{margin:0}tr.best td{background:#eef6ee}p.verdict{padding:.6rem .8rem;
border-left:4px solid #b58900;background:#fdf6e3}p.verdict.won{border-color:#2e7d32;
background:#eef6ee}"""


def esc(value: Any) -> str:
    """Text for HTML: ``str(value)`` escaped, quotes included."""
    return html.escape(str(value), quote=True)


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return isinstance(value, float | int) and not isinstance(value, bool) \
            and math.isnan(float(value))
    except (TypeError, ValueError):
        return False


def fmt(value: Any, digits: int = 3) -> str:
    """A number for people: ``digits`` decimals (significant digits for very small or large
    magnitudes), integers as they are, NaN/None as an en dash; anything else as text."""
    if _is_missing(value):
        return "–"
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    if value != 0 and (abs(value) < 10 ** -digits or abs(value) >= 1e7):
        return f"{value:.{digits}g}"
    return f"{value:.{digits}f}"


def mean_std(mean: Any, std: Any, digits: int = 3) -> str:
    """``mean ± std`` (the ± part left out when std is missing)."""
    return fmt(mean, digits) if _is_missing(std) else f"{fmt(mean, digits)} ± {fmt(std, digits)}"


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, left: Iterable[int] = (),
          row_class: Sequence[str] | None = None, raw: Iterable[int] = ()) -> str:
    """An HTML table; every cell escaped unless its column is in ``raw`` (already HTML).
    Columns in ``left`` are left-aligned (text); the rest right-aligned (numbers);
    ``row_class`` gives the first rows a CSS class."""
    left, raw = set(left), set(raw)

    def cls(j: int) -> str:
        return ' class="l"' if j in left else ""

    head = "".join(f"<th{cls(j)}>{esc(h)}</th>" for j, h in enumerate(headers))
    body = []
    for i, row in enumerate(rows):
        rc = f' class="{esc(row_class[i])}"' if row_class and i < len(row_class) \
            and row_class[i] else ""
        cells = "".join(f"<td{cls(j)}>{c if j in raw else esc(c)}</td>"
                        for j, c in enumerate(row))
        body.append(f"<tr{rc}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def kv(pairs: Iterable[tuple[str, Any]]) -> str:
    """A definition list of (name, value) pairs, both escaped."""
    items = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in pairs)
    return f'<dl class="kv">{items}</dl>'


def note(text: str) -> str:
    return f'<p class="note">{esc(text)}</p>'


def figure(png: bytes, alt: str, caption: str) -> str:
    """An embedded PNG with its caption (both escaped)."""
    return f"<figure>{png_tag(png, alt)}<figcaption>{esc(caption)}</figcaption></figure>"


def section(sid: str, title: str, body: str) -> str:
    """``<section id=sid>`` with an ``<h2>``; ``body`` is HTML."""
    return f'<section id="{esc(sid)}">\n<h2>{esc(title)}</h2>\n{body}\n</section>\n'


def page(title: str, subtitle: str, sections: Iterable[str]) -> str:
    """A complete, self-contained page: inline CSS, no scripts, no external resources."""
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{esc(title)}</title><style>{CSS}</style></head><body>\n"
            f"<h1>{esc(title)}</h1>\n<p class=\"note\">{esc(subtitle)}</p>\n"
            f"{''.join(sections)}</body></html>\n")


def write_atomic(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same folder and
    ``os.replace``, so readers never see half a file and a failure leaves none behind
    (``lstmtune._files.write_atomic``)."""
    return _files.write_atomic(path, text)
