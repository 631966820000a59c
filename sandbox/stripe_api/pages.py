"""Shared bits of the sandbox's hosted pages: the page frame, the test-card form, form posts."""

from __future__ import annotations

import time
from html import escape
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import HTMLResponse

from .errors import ApiError
from .payment_methods import TEST_CARDS

_STYLE = """
body{font-family:system-ui,-apple-system,sans-serif;background:#f6f9fc;color:#1a1f36;margin:0}
main{max-width:440px;margin:48px auto;background:#fff;border-radius:8px;padding:32px;
box-shadow:0 2px 8px rgba(0,0,0,.08)}h1{font-size:20px;margin-top:0}label{display:block;
margin:14px 0 4px;font-size:14px}select,input{width:100%;padding:8px;font-size:15px;
box-sizing:border-box}button{margin-top:20px;width:100%;padding:10px;background:#635bff;
color:#fff;border:0;border-radius:6px;font-size:16px;cursor:pointer}.muted{color:#697386;
font-size:13px}.row{display:flex;gap:8px}.badge{display:inline-block;padding:2px 8px;
border-radius:10px;background:#eef;font-size:12px}table{width:100%;border-collapse:collapse}
td{padding:6px 0;border-bottom:1px solid #eee}.err{color:#c0123c}
"""


def page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}<p class='muted'>Sandbox Stripe: test mode, no real money.</p>"
        f"</main></body></html>"
    )
    return HTMLResponse(html, status_code=status)


def card_form(action: str, button: str, error: str | None = None) -> str:
    year = time.gmtime().tm_year + 3
    opts = "".join(
        f"<option value='{n}'>{escape(label)}</option>" for n, (_, _, label) in TEST_CARDS.items()
    )
    err = f"<p class='err' role='alert'>{escape(error)}</p>" if error else ""
    return (
        f"{err}<form method='post' action='{escape(action)}'>"
        f"<label for='card'>Test card</label><select id='card' name='card'>{opts}</select>"
        f"<div class='row'><div><label for='exp_month'>Expiry month</label>"
        f"<input id='exp_month' name='exp_month' value='12' inputmode='numeric'></div>"
        f"<div><label for='exp_year'>Expiry year</label>"
        f"<input id='exp_year' name='exp_year' value='{year}' inputmode='numeric'></div></div>"
        f"<button type='submit'>{escape(button)}</button></form>"
    )


async def read_form(request: Request) -> dict[str, str]:
    return dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))


def card_args(form: dict[str, str]) -> tuple[str, int, int]:
    try:
        return (
            form.get("card", ""),
            int(form.get("exp_month", "12")),
            int(form.get("exp_year", "2030")),
        )
    except ValueError:
        raise ApiError(400, "Your card's expiration date is invalid.") from None


def pm_label(pm: dict[str, Any]) -> str:
    if pm["type"] == "card":
        c = pm["card"]
        return f"{c['brand'].title()} •••• {c['last4']} (exp {c['exp_month']:02d}/{c['exp_year']})"
    return f"SEPA Direct Debit •••• {pm['sepa_debit']['last4']}"
