"""What an invoice's ``hosted_invoice_url`` and ``invoice_pdf`` open: an HTML page and a
one-page PDF (``application/pdf``) with the number, lines, discounts and total.

Only finalized invoices have these addresses (a draft has none, as in Stripe).
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .pages import page
from .state import StripeState, money


def _date(ts: int | None) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%d %b %Y") if ts else ""


def invoice_text(state: StripeState, inv: dict[str, Any]) -> list[tuple[str, str]]:
    """The invoice as (label, amount) rows, shared by the page and the PDF."""
    cur = inv["currency"]
    rows = [(li["description"] or "", money(li["amount"], cur)) for li in inv["lines"]["data"]]
    rows.append(("Subtotal", money(inv["subtotal"], cur)))
    for d in inv["total_discount_amounts"]:
        di = state.find(d["discount"], "discount")
        coupon = state.find(di["source"]["coupon"], "coupon") if di else None
        label = (coupon or {}).get("name") or (coupon or {}).get("id") or "Discount"
        rows.append((f"Discount: {label}", money(-d["amount"], cur)))
    rows.append(("Total", money(inv["total"], cur)))
    if inv["starting_balance"]:
        rows.append(("Applied balance", money(inv["starting_balance"], cur)))
    rows.append(("Amount due", money(inv["amount_due"], cur)))
    rows.append(("Amount paid", money(inv["amount_paid"], cur)))
    return rows


def _header(inv: dict[str, Any]) -> list[str]:
    addr = inv["customer_address"] or {}
    lines = [
        f"Invoice {inv['number']}",
        f"Date: {_date(inv['effective_at'] or inv['created'])}   Status: {inv['status']}",
        inv["account_name"] or "",
        "Bill to: " + (inv["customer_name"] or inv["customer_email"] or inv["customer"]),
    ]
    street = ", ".join(
        p
        for p in (
            addr.get("line1"),
            addr.get("line2"),
            " ".join(x for x in (addr.get("postal_code"), addr.get("city")) if x),
            addr.get("country"),
        )
        if p
    )
    if street:
        lines.append(street)
    lines += [
        f"{t['type'].upper().replace('_', ' ')}: {t['value']}" for t in inv["customer_tax_ids"]
    ]
    return lines


def pdf_bytes(state: StripeState, inv: dict[str, Any]) -> bytes:
    """A small valid PDF 1.4 (Helvetica, WinAnsi) with the invoice text."""
    text_lines = _header(inv) + [""] + [f"{a}    {b}" for a, b in invoice_text(state, inv)]
    ops = ["BT", "/F1 11 Tf", "14 TL", "56 790 Td"]
    for line in text_lines:
        ops.append(f"({_pdf_escape(line)}) Tj T*")
    ops.append("ET")
    stream = "\n".join(ops).encode("cp1252", errors="replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def _pdf_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def routes(state: StripeState) -> list[Route]:
    """Invoice page and PDF routes bound to ``state``."""

    def finalized(request: Request) -> dict[str, Any] | None:
        inv = state.find(request.path_params["id"], "invoice")
        return inv if inv is not None and inv["number"] else None

    async def hosted_invoice(request: Request) -> Response:
        inv = finalized(request)
        if inv is None:
            return page("Not found", "<h1>Invoice not found.</h1>", 404)
        head = "".join(f"<p>{escape(line)}</p>" for line in _header(inv)[1:])
        rows = "".join(
            f"<tr><td>{escape(a)}</td><td>{escape(b)}</td></tr>"
            for a, b in invoice_text(state, inv)
        )
        body = (
            f"<h1>Invoice {escape(inv['number'])}</h1>"
            f"<p><span class='badge'>{escape(inv['status'])}</span></p>{head}<table>{rows}</table>"
            f"<p><a href='/invoices/{escape(inv['id'])}/pdf'>Download PDF</a></p>"
        )
        return page("Invoice", body)

    async def invoice_pdf(request: Request) -> Response:
        inv = finalized(request)
        if inv is None:
            return Response("Not Found", status_code=404)
        return Response(
            pdf_bytes(state, inv),
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="Invoice-{inv["number"]}.pdf"'},
        )

    return [
        Route("/invoices/{id}", hosted_invoice, methods=["GET"]),
        Route("/invoices/{id}/pdf", invoice_pdf, methods=["GET"]),
    ]
