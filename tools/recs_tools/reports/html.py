"""The reports' HTML: one self-contained page (inline CSS, charts as data URIs), escaped text."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1a202c;margin:0;
background:#f7fafc}
main{max-width:1080px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #e2e8f0}
.sub{color:#4a5568;margin:0 0 16px} .note{color:#4a5568;font-size:13px}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:12px 0}
.card{background:#fff;border:1px solid #e2e8f0;border-radius:6px;padding:10px 14px;min-width:150px}
.card b{display:block;font-size:20px} .card span{color:#4a5568;font-size:12px}
table{border-collapse:collapse;background:#fff;margin:8px 0;font-variant-numeric:tabular-nums}
th,td{border:1px solid #e2e8f0;padding:4px 10px;text-align:right} th{background:#edf2f7}
td:first-child,th:first-child{text-align:left}
.good{color:#276749} .bad{color:#c53030} .grid{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
img{background:#fff;border:1px solid #e2e8f0;border-radius:6px;max-width:100%}
a{color:#2b6cb0}
"""


def page(title: str, subtitle: str, body: str) -> str:
    return (
        "<!doctype html>\n<html lang=en><head><meta charset=utf-8>"
        f"<meta name=viewport content='width=device-width,initial-scale=1'><title>{escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body><main><h1>{escape(title)}</h1>"
        f"<p class=sub>{escape(subtitle)}</p>{body}</main></body></html>\n"
    )


def heading(text: str) -> str:
    return f"<h2>{escape(text)}</h2>"


def paragraph(text: str, css: str = "note") -> str:
    return f"<p class={css}>{escape(text)}</p>"


def cards(items: Sequence[tuple[str, str]]) -> str:
    inner = "".join(f"<div class=card><b>{escape(v)}</b><span>{escape(k)}</span></div>" for k, v in items)
    return f"<div class=cards>{inner}</div>"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Cells are escaped, except those already marked up by `signed` (they start with '<span')."""

    def cell(text: str) -> str:
        return text if text.startswith("<span class=") else escape(text)

    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{cell(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def chart(uri: str, alt: str) -> str:
    return f"<img src='{uri}' alt='{escape(alt)}'>"


def link(href: str, text: str) -> str:
    return f"<a href='{escape(href)}'>{escape(text)}</a>"


def number(value: float | None, digits: int = 4) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def percent(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value * 100:.{digits}f}%"


def signed(value: float | None, *, good_when_positive: bool = True) -> str:
    """A relative change such as +12.3%, coloured by whether it is an improvement."""
    if value is None:
        return "n/a"
    css = "good" if (value > 0) == good_when_positive and value != 0 else "bad" if value != 0 else "note"
    return f"<span class={css}>{value * 100:+.1f}%</span>"
