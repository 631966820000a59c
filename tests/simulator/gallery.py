"""A small Canvas Kit app for testing the simulator itself: it answers every flow (inbox and
Messenger, configure, live canvas) with canvases that use every component, verifies signatures
like a real app, and keeps what it received so tests can check what the simulator sent.

Our own app draws only some components; this one draws all of them, including a canvas that
breaks the contract on purpose.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

LONG_VALUE = "A value far too long for the sidebar's data table, so the inbox truncates it"
PIXEL_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
INJECTION = "<img src=x onerror=\"document.body.dataset.pwned='yes'\"> and <b>tags</b>"


@dataclass
class Received:
    """Every signed request the gallery accepted, by path."""

    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def last(self, path: str) -> dict[str, Any]:
        for seen, body in reversed(self.requests):
            if seen == path:
                return body
        raise AssertionError(f"the gallery received no request on {path}")

    def paths(self) -> list[str]:
        return [path for path, _ in self.requests]


def button(component_id: str, label: str, action: dict[str, Any] | None = None, **extra: Any):
    return {
        "type": "button",
        "id": component_id,
        "label": label,
        "action": action or {"type": "submit"},
        **extra,
    }


def options(*ids: str) -> list[dict[str, Any]]:
    return [{"type": "option", "id": i, "text": i.replace("_", " ").capitalize()} for i in ids]


def every_component(link_url: str) -> list[dict[str, Any]]:
    image = f"{link_url}/pixel.png"
    submit = {"type": "submit"}
    return [
        {"type": "text", "text": "Gallery header", "style": "header", "id": "header"},
        {
            "type": "text",
            "text": "Plain **bold** and [a link](https://example.com/doc)",
            "id": "md",
        },
        {"type": "text", "text": INJECTION, "id": "injection"},
        {"type": "text", "text": "[bad link](javascript:alert(1))", "id": "js_link"},
        {"type": "text", "text": "Muted", "style": "muted", "align": "center", "id": "muted"},
        {"type": "text", "text": "Error", "style": "error", "align": "right", "id": "error"},
        {
            "type": "data-table",
            "items": [
                {"type": "field-value", "field": "Plan", "value": "Pro"},
                {"type": "field-value", "field": "Long", "value": LONG_VALUE},
            ],
        },
        *({"type": "spacer", "size": s, "id": f"spacer_{s}"} for s in ("xs", "s", "m", "l", "xl")),
        {"type": "divider", "id": "divider"},
        {"type": "image", "id": "image", "url": image, "width": 40, "height": 20, "rounded": True},
        {
            "type": "list",
            "items": [
                {
                    "type": "item",
                    "id": "item_one",
                    "title": "First item",
                    "subtitle": "sub",
                    "tertiary_text": "third",
                    "image": image,
                    "image_width": 32,
                    "image_height": 32,
                    "rounded_image": True,
                    "action": submit,
                },
                {
                    "type": "item",
                    "id": "item_two",
                    "title": "Disabled item",
                    "disabled": True,
                    "action": submit,
                },
            ],
        },
        {"type": "input", "id": "note", "label": "Note", "placeholder": "Type here"},
        {"type": "textarea", "id": "long_note", "label": "Long note", "error": True},
        {
            "type": "dropdown",
            "id": "reason",
            "label": "Reason",
            "options": options("too_expensive", "other"),
        },
        {
            "type": "single-select",
            "id": "interval",
            "label": "Interval",
            "options": options("monthly", "yearly"),
        },
        {
            "type": "checkbox",
            "id": "extras",
            "label": "Extras",
            "option": options("invoice_copy", "receipt"),
        },
        button("save", "Save"),
        button("secondary", "Secondary", style="secondary"),
        button("open_docs", "Open docs", {"type": "url", "url": f"{link_url}/docs"}, style="link"),
        button("disabled", "Disabled", disabled=True),
        button("sheet", "Open sheet", {"type": "sheet", "url": f"{link_url}/sheet"}),
        button("send_card", "Send card", style="secondary"),
        button("broken", "Break the contract", style="secondary"),
    ]


def create_gallery_app(client_secret: str, base_url: str) -> tuple[Starlette, Received]:
    received = Received()

    async def signed_body(request: Request) -> dict[str, Any] | None:
        raw = await request.body()
        expected = hmac.new(client_secret.encode(), raw, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, request.headers.get("X-Body-Signature", "")):
            return None
        body = json.loads(raw)
        received.requests.append((request.url.path, body))
        return body

    def canvas(components: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        return {"canvas": {"content": {"components": components}, **extra}}

    def echo(body: dict[str, Any]) -> list[dict[str, Any]]:
        stored = (body.get("current_canvas") or {}).get("stored_data")
        return [
            {"type": "text", "text": f"Pressed {body.get('component_id')}", "id": "pressed"},
            {
                "type": "text",
                "text": f"Values {json.dumps(body.get('input_values'))}",
                "id": "values",
            },
            {"type": "text", "text": f"Stored {json.dumps(stored)}", "id": "stored"},
            button("save", "Again"),
        ]

    async def inbox_initialize(request: Request) -> JSONResponse:
        if await signed_body(request) is None:
            return JSONResponse({"error": "bad signature"}, status_code=401)
        return JSONResponse(canvas(every_component(base_url), stored_data={"step": 1}))

    async def inbox_submit(request: Request) -> JSONResponse:
        body = await signed_body(request)
        if body is None:
            return JSONResponse({"error": "bad signature"}, status_code=401)
        if body.get("component_id") == "broken":
            nolabel = button("nolabel", "")
            del nolabel["label"]
            return JSONResponse(canvas([nolabel]))
        answer = canvas(echo(body), stored_data={"step": 2})
        if body.get("component_id") == "send_card":
            answer["card_creation_options"] = {"card": "demo", "from": "inbox"}
        return JSONResponse(answer)

    async def configure(request: Request) -> JSONResponse:
        body = await signed_body(request)
        if body is None:
            return JSONResponse({"error": "bad signature"}, status_code=401)
        component = body.get("component_id")
        if component and component.startswith("card:"):
            return JSONResponse({"results": {"card": component.removeprefix("card:")}})
        demo = {
            "type": "item",
            "id": "card:demo",
            "title": "Demo card",
            "action": {"type": "submit"},
        }
        return JSONResponse(
            canvas([{"type": "text", "text": "Which card?"}, {"type": "list", "items": [demo]}])
        )

    async def messenger_initialize(request: Request) -> JSONResponse:
        body = await signed_body(request)
        if body is None:
            return JSONResponse({"error": "bad signature"}, status_code=401)
        options = body.get("card_creation_options") or {}
        return JSONResponse(
            canvas(
                [{"type": "text", "text": "First paint", "id": "first_paint"}],
                content_url=f"{base_url}/canvas/messenger/content",
                stored_data={"card": options.get("card")},
            )
        )

    async def content(request: Request) -> JSONResponse:
        body = await signed_body(request)
        if body is None:
            return JSONResponse({"error": "bad signature"}, status_code=401)
        stored = (body.get("canvas") or {}).get("stored_data") or {}
        contact = body.get("contact") or {}
        locale = (body.get("context") or {}).get("locale")
        live = f"Live {stored.get('card')} for {contact.get('name')}"
        table = [{"type": "field-value", "field": "Long", "value": LONG_VALUE}]
        components = [
            {"type": "text", "text": live, "id": "live", "style": "header"},
            {"type": "text", "text": f"Locale {locale}", "id": "locale"},
            {"type": "data-table", "items": table},
            button("press", "Press"),
        ]
        return JSONResponse({"content": {"components": components}})

    async def messenger_submit(request: Request) -> JSONResponse:
        body = await signed_body(request)
        if body is None:
            return JSONResponse({"error": "bad signature"}, status_code=401)
        return JSONResponse(
            {**canvas(echo(body), stored_data={"card": "demo"}), "event": {"type": "completed"}}
        )

    async def pixel(request: Request) -> Response:
        return Response(PIXEL_PNG, media_type="image/png")

    async def docs(request: Request) -> HTMLResponse:
        return HTMLResponse("<title>Gallery docs</title><p>Docs</p>")

    routes = [
        Route("/pixel.png", pixel, methods=["GET"]),
        Route("/docs", docs, methods=["GET"]),
        Route("/canvas/inbox/initialize", inbox_initialize, methods=["POST"]),
        Route("/canvas/inbox/submit", inbox_submit, methods=["POST"]),
        Route("/canvas/messenger/configure", configure, methods=["POST"]),
        Route("/canvas/messenger/initialize", messenger_initialize, methods=["POST"]),
        Route("/canvas/messenger/content", content, methods=["POST"]),
        Route("/canvas/messenger/submit", messenger_submit, methods=["POST"]),
    ]
    return Starlette(routes=routes), received
