"""Invoice copies: "Could you send me a copy of my last invoice?" — numbered invoices, newest
first, with a hosted page and a PDF the sandbox serves."""

from __future__ import annotations

import re

import stripe

from tests.http import async_client

from .conftest import Sandbox

ANNA = "cus_DemoHealthy"


async def test_anna_has_numbered_paid_invoices_newest_first(client: stripe.StripeClient) -> None:
    page = await client.v1.invoices.list_async({"customer": ANNA, "status": "paid", "limit": 3})
    invoices = page.data
    assert len(invoices) == 3 and page.has_more
    created = [i.created for i in invoices]
    assert created == sorted(created, reverse=True)
    numbers = [i.number or "" for i in invoices]
    assert all(re.fullmatch(r"ANNABECK-\d{4}", n) for n in numbers)
    assert numbers == sorted(numbers, reverse=True)
    assert all(i.hosted_invoice_url and i.invoice_pdf for i in invoices)
    open_ones = await client.v1.invoices.list_async({"customer": ANNA, "status": "open"})
    assert open_ones.data == []


async def test_the_hosted_page_and_the_pdf_show_the_number_and_total(
    client: stripe.StripeClient,
) -> None:
    [last] = (await client.v1.invoices.list_async({"customer": ANNA, "limit": 1})).data
    assert last.number and last.hosted_invoice_url and last.invoice_pdf
    async with async_client() as h:
        html = await h.get(last.hosted_invoice_url)
        pdf = await h.get(last.invoice_pdf)
    assert html.status_code == 200 and last.number in html.text and "€79.00" in html.text
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    body = pdf.content
    assert body.startswith(b"%PDF-1.") and body.rstrip().endswith(b"%%EOF")
    xref_at = int(body.rsplit(b"startxref", 1)[1].split()[0])
    assert body[xref_at:].startswith(b"xref")
    assert last.number.encode() in body and "€79.00".encode("cp1252") in body


async def test_a_discounted_invoice_pdf_shows_the_discount(client: stripe.StripeClient) -> None:
    # The add-on of the multi-subscription customer, discounted on an immediate re-anchor.
    sub = await client.v1.subscriptions.update_async(
        "sub_DemoMultiAddon",
        {"discounts": [{"coupon": "RETENTION20"}], "billing_cycle_anchor": {"type": "now"}},
    )
    inv = await client.v1.invoices.retrieve_async(str(sub.latest_invoice))
    assert inv.total_discount_amounts is not None
    assert [d.amount for d in inv.total_discount_amounts] == [300]  # 20 % of 15.00 €
    assert inv.invoice_pdf is not None
    async with async_client() as h:
        pdf = (await h.get(inv.invoice_pdf)).content
    assert b"Discount: 20 % off for 3 months" in pdf and "-€3.00".encode("cp1252") in pdf


async def test_a_missing_invoice_has_no_page(sandbox: Sandbox) -> None:
    async with async_client(base_url=sandbox.base_url) as h:
        assert (await h.get("/invoices/in_missing")).status_code == 404
        assert (await h.get("/invoices/in_missing/pdf")).status_code == 404
