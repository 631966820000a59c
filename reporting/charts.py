"""Inline SVG charts for `/admin/report`: drawn on the server, no JavaScript."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from reporting.report import Report

RECOVERED, LOST, OPEN = "#2e7d32", "#c62828", "#9e9e9e"
WIDTH, HEIGHT = 640, 240
PAD_LEFT, PAD_BOTTOM, PAD_TOP = 56, 28, 12


def months_chart(report: Report, words: dict[str, str], fmt: Callable[[int, str], str]) -> str:
    """Stacked bars per month of the first failure: recovered, lost, still open (main currency)."""
    currency = report.main_currency or "eur"
    months = report.months
    values = [
        (
            m.recovered.amounts.get(currency, 0),
            m.lost.amounts.get(currency, 0),
            m.open.amounts.get(currency, 0),
        )
        for m in months
    ]
    top = max((sum(v) for v in values), default=0) or 1
    plot_h = HEIGHT - PAD_BOTTOM - PAD_TOP
    slot = (WIDTH - PAD_LEFT) / max(len(months), 1)
    bar = min(48.0, slot * 0.6)
    title = escape(words["chart_months"] % {"currency": currency.upper()})
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT + 24}" role="img" '
        f'aria-label="{title}" xmlns="http://www.w3.org/2000/svg">',
        f'<line x1="{PAD_LEFT}" y1="{HEIGHT - PAD_BOTTOM}" x2="{WIDTH}" '
        f'y2="{HEIGHT - PAD_BOTTOM}" stroke="#888"/>',
        f'<text x="{PAD_LEFT - 6}" y="{PAD_TOP + 4}" text-anchor="end" font-size="11">'
        f"{escape(fmt(top, currency))}</text>",
    ]
    for i, (month, (recovered, lost, open_)) in enumerate(zip(months, values, strict=True)):
        x = PAD_LEFT + i * slot + (slot - bar) / 2
        y = float(HEIGHT - PAD_BOTTOM)
        for amount, colour, name in (
            (recovered, RECOVERED, "legend_recovered"),
            (lost, LOST, "legend_lost"),
            (open_, OPEN, "legend_open"),
        ):
            if amount <= 0:
                continue
            h = amount / top * plot_h
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{colour}" data-month="{month.month}" data-kind="{name[7:]}" '
                f'data-amount="{amount}"><title>{escape(words[name])} {amount / 100:.2f}'
                f"</title></rect>"
            )
        parts.append(
            f'<text x="{x + bar / 2:.1f}" y="{HEIGHT - PAD_BOTTOM + 16}" text-anchor="middle" '
            f'font-size="11">{month.month}</text>'
        )
    legend_y = HEIGHT + 14
    for n, (colour, name) in enumerate(
        ((RECOVERED, "legend_recovered"), (LOST, "legend_lost"), (OPEN, "legend_open"))
    ):
        x = PAD_LEFT + n * 110
        parts.append(f'<rect x="{x}" y="{legend_y - 9}" width="10" height="10" fill="{colour}"/>')
        parts.append(
            f'<text x="{x + 14}" y="{legend_y}" font-size="11">{escape(words[name])}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def reasons_chart(report: Report, labels: list[str]) -> str:
    """Horizontal bars: failed payments per reason (count)."""
    rows = list(zip(labels, report.reasons, strict=True))
    row_h, label_w, width = 26, 300, WIDTH
    height = max(len(rows), 1) * row_h + 8
    top = max((r.tally.count for r in report.reasons), default=0) or 1
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg">'
    ]
    for i, (label, reason) in enumerate(rows):
        y = i * row_h + 4
        w = reason.tally.count / top * (width - label_w - 40)
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end" font-size="12">'
            f"{escape(label)}</text>"
        )
        parts.append(
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="16" fill="#1565c0" '
            f'data-reason="{escape(reason.key)}" data-count="{reason.tally.count}"/>'
        )
        parts.append(
            f'<text x="{label_w + w + 6:.1f}" y="{y + 15}" font-size="12">{reason.tally.count}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
