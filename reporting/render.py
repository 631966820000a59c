"""The report as text: an aligned table (terminal), JSON, or CSV (one measure a row)."""

from __future__ import annotations

import csv
import io
import json

from reporting.report import CHANNELS, RECOVERED_CHANNELS, Report, Tally
from reporting.words import channel_label, hours, labels, money, percent, reason_label


def as_json(report: Report) -> str:
    return json.dumps(report.as_dict(), indent=2, ensure_ascii=False)


def as_csv(report: Report) -> str:
    """Columns: section, key, measure, currency, value — easy to pivot in a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "key", "measure", "currency", "value"])

    def tally(section: str, key: str, name: str, t: Tally) -> None:
        writer.writerow([section, key, f"{name}_count", "", t.count])
        for currency, amount in sorted(t.amounts.items()):
            writer.writerow([section, key, f"{name}_amount", currency, amount])

    tally("total", "all", "failed", report.failed)
    tally("total", "all", "recovered", report.recovered)
    writer.writerow(["total", "all", "recovery_rate", "", _num(report.recovery_rate)])
    writer.writerow(
        ["total", "all", "median_hours_to_recover", "", _num(report.median_hours_to_recover)]
    )
    for month in report.months:
        for name in ("failed", "recovered", "lost", "open"):
            tally("month", month.month, name, getattr(month, name))
        writer.writerow(["month", month.month, "recovery_rate", "", _num(month.recovery_rate)])
    for reason in report.reasons:
        tally("reason", reason.key, "failed", reason.tally)
        writer.writerow(["reason", reason.key, "recovered_count", "", reason.recovered])
    for channel in CHANNELS:
        tally("channel", channel, "invoices", report.channels[channel])
        if channel in RECOVERED_CHANNELS:
            median = report.median_hours_by_channel[channel]
            writer.writerow(["channel", channel, "median_hours_to_recover", "", _num(median)])
    for actor in report.refunds:
        tally("refunds", actor.actor, "refunded", actor.refunded)
        writer.writerow(["refunds", actor.actor, "refused_count", "", actor.refused])
        writer.writerow(["refunds", actor.actor, "failed_count", "", actor.failed])
        for code, count in sorted(actor.refused_by_code.items()):
            writer.writerow(["refunds_refused", f"{actor.actor}:{code}", "count", "", count])
        for stated, t in sorted(actor.by_reason.items()):
            tally("refunds_reason", f"{actor.actor}:{stated}", "refunded", t)
    c = report.cancellations
    writer.writerow(["cancellations", "all", "available", "", str(c.available).lower()])
    if c.available:
        writer.writerow(["cancellations", "all", "requests", "", c.requests])
        writer.writerow(["cancellations", "all", "cancelled", "", c.cancelled])
        writer.writerow(["cancellations", "all", "saved", "", c.saved])
        for offer, count in sorted(c.saved_by_offer.items()):
            writer.writerow(["cancellations", offer, "saved", "", count])
    return out.getvalue()


def as_table(report: Report, locale: str = "en") -> str:
    w = labels(locale)
    lines: list[str] = [w["title"], _period(report, locale), ""]

    lines += _section(
        w["summary"],
        [w["count"], w["amount"]],
        [
            [w["failed_payments"], str(report.failed.count), money(report.failed.amounts, locale)],
            [w["recovered"], str(report.recovered.count), money(report.recovered.amounts, locale)],
            [w["recovery_rate"], percent(report.recovery_rate, locale), ""],
            [w["median_time"], hours(report.median_hours_to_recover, locale), ""],
        ],
    )
    lines += _section(
        w["by_month"],
        [w["failed"], w["recovered"], w["lost"], w["open"], w["rate"]],
        [
            [
                m.month,
                _cell(m.failed, locale),
                _cell(m.recovered, locale),
                _cell(m.lost, locale),
                _cell(m.open, locale),
                percent(m.recovery_rate, locale),
            ]
            for m in report.months
        ],
    )
    lines += _section(
        w["by_reason"],
        [w["count"], w["amount"], w["recovered"]],
        [
            [
                reason_label(r.key, r.method, r.code, locale),
                str(r.tally.count),
                money(r.tally.amounts, locale),
                str(r.recovered),
            ]
            for r in report.reasons
        ]
        or [[w["no_failures"], "", "", ""]],
    )
    lines += _section(
        w["by_channel"],
        [w["count"], w["amount"], w["median"]],
        [
            [
                channel_label(channel, locale, report.open_days),
                str(report.channels[channel].count),
                money(report.channels[channel].amounts, locale),
                hours(report.median_hours_by_channel[channel], locale)
                if channel in RECOVERED_CHANNELS
                else "",
            ]
            for channel in CHANNELS
        ],
    )
    refund_rows = []
    for actor in report.refunds:
        refused = ", ".join(f"{code} {n}" for code, n in sorted(actor.refused_by_code.items()))
        refund_rows.append(
            [
                w.get(actor.actor, actor.actor),
                str(actor.refunded.count),
                money(actor.refunded.amounts, locale),
                str(actor.refused) + (f" ({refused})" if refused else ""),
                str(actor.failed),
            ]
        )
    lines += _section(
        w["refunds"], [w["refunded"], w["amount"], w["refused"], w["refund_failed"]], refund_rows
    )
    reasons = [
        [
            f"{w.get(a.actor, a.actor)}: {reason}",
            str(t.count),
            money(t.amounts, locale),
        ]
        for a in report.refunds
        for reason, t in sorted(a.by_reason.items())
    ]
    if reasons:
        lines += _section(w["refund_reasons"], [w["count"], w["amount"]], reasons)
    c = report.cancellations
    lines.append(w["cancellations"])
    if not c.available:
        lines += ["  " + w["not_available"], ""]
    else:
        lines += _section(
            "",
            [w["count"]],
            [
                [w["cancel_requests"], str(c.requests)],
                [w["cancelled"], str(c.cancelled)],
                [w["saved"], str(c.saved)],
            ]
            + [[f"  {offer}", str(n)] for offer, n in sorted(c.saved_by_offer.items())],
        )[1:]
    return "\n".join(lines).rstrip() + "\n"


def _period(report: Report, locale: str) -> str:
    w = labels(locale)
    period = (
        w["period_since"] % {"date": report.since.strftime("%Y-%m-%d")}
        if report.since
        else w["period_all"]
    )
    return f"{period} · {w['generated'] % {'time': report.generated_at.strftime('%Y-%m-%d %H:%M')}}"


def _cell(t: Tally, locale: str) -> str:
    return f"{t.count} / {money(t.amounts, locale)}" if t.count else "0"


def _section(title: str, headers: list[str], rows: list[list[str]]) -> list[str]:
    table = [["", *headers], *rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    out = [title]
    for n, row in enumerate(table):
        cells = [row[0].ljust(widths[0])] + [
            cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)
        ]
        out.append("  " + "  ".join(cells).rstrip())
        if n == 0:
            out.append("  " + "  ".join("-" * width for width in widths))
    return [*out, ""]


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.4g}"
