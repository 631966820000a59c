"""`GET /admin/report`: the report as a page for operators, server-rendered (Jinja2, inline SVG).

Behind `ADMIN_TOKENS` (bearer, or basic auth with the token as password, so a browser can open
it). `?since=YYYY-MM-DD`, `?open_days=N`; German with `?locale=de` or `Accept-Language: de`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from billing.money import format_money
from kernel.admin import admin_refusal
from kernel.http import ClientError
from kernel.i18n import pick_locale
from reporting import charts
from reporting.report import CHANNELS, RECOVERED_CHANNELS, build_report
from reporting.words import channel_label, hours, labels, money, percent, reason_label

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _locale(request: Request) -> str:
    """`?locale=` first, then the browser's languages; operators read formal German."""
    asked = [request.query_params.get("locale"), request.headers.get("accept-language")]
    return pick_locale(",".join(a for a in asked if a), "en", german_address="sie")


async def report_page(request: Request) -> Response:
    if (refusal := admin_refusal(request)) is not None:
        return refusal
    locale = _locale(request)
    since = _since(request.query_params.get("since"))
    open_days = _open_days(request.query_params.get("open_days"))
    report = await build_report(request.app.state.services.db, since=since, open_days=open_days)
    words = labels(locale)
    reason_names = [reason_label(r.key, r.method, r.code, locale) for r in report.reasons]
    html = _templates.get_template("report.html").render(
        locale=locale,
        w=words,
        report=report,
        since=since.strftime("%Y-%m-%d") if since else "",
        money=lambda amounts: money(amounts, locale),
        percent=lambda rate: percent(rate, locale),
        hours=lambda value: hours(value, locale),
        reason_names=reason_names,
        channels=[
            (
                channel,
                channel_label(channel, locale, report.open_days),
                report.channels[channel],
                report.median_hours_by_channel.get(channel)
                if channel in RECOVERED_CHANNELS
                else None,
            )
            for channel in CHANNELS
        ],
        months_chart=Markup(
            charts.months_chart(report, words, lambda a, c: format_money(a, c, locale))
        ),
        reasons_chart=Markup(charts.reasons_chart(report, reason_names)),
        other_currencies=len(report.failed.amounts) > 1,
    )
    return HTMLResponse(html, headers={"Cache-Control": "no-store", "Content-Language": locale})


def _since(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise ClientError(422, "invalid_since", "since must be a date as YYYY-MM-DD.") from None


def _open_days(value: str | None) -> int:
    if not value:
        return 7
    if not value.isdigit() or int(value) > 3650:
        raise ClientError(422, "invalid_open_days", "open_days must be a number of days.")
    return int(value)


routes = [Route("/admin/report", report_page, methods=["GET"])]
