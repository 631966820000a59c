"""The simulator's Starlette app: the page, and the server-side routes that play Intercom.

The browser never holds the client secret: it asks these routes to run a Canvas Kit flow, and each
route builds the request Intercom would send (`sandbox.canvas_requests`), signs it, posts it to the
app, checks the answer against the contract and returns all of it with the card drawn as HTML.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from sandbox import canvas_requests
from sandbox.serving import tls_context

from .config import SimulatorConfig
from .contract import CanvasContract
from .directory import DemoConversation, Directory, DirectoryError
from .exchange import IntercomPlayer
from .rendering import render_template

STATIC = Path(__file__).parent / "static"
LOCALES = ("en", "de")


class BadRequest(Exception):
    """The page sent something the simulator cannot turn into a Canvas Kit request."""


@dataclass
class Simulator:
    config: SimulatorConfig
    directory: Directory
    player: IntercomPlayer
    http: httpx.AsyncClient


def create_simulator_app(config: SimulatorConfig) -> Starlette:
    contract = CanvasContract(config.contract_path)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with httpx.AsyncClient(verify=tls_context()) as http:
            app.state.simulator = Simulator(
                config=config,
                directory=Directory(config, http),
                player=IntercomPlayer(config, http, contract),
                http=http,
            )
            yield

    routes = [
        Route("/", page, methods=["GET"]),
        Route("/api/conversations", conversations, methods=["GET"]),
        Route("/api/inbox/initialize", _api(inbox_initialize), methods=["POST"]),
        Route("/api/inbox/submit", _api(inbox_submit), methods=["POST"]),
        Route("/api/messenger/configure", _api(messenger_configure), methods=["POST"]),
        Route("/api/messenger/initialize", _api(messenger_initialize), methods=["POST"]),
        Route("/api/messenger/content", _api(messenger_content), methods=["POST"]),
        Route("/api/messenger/submit", _api(messenger_submit), methods=["POST"]),
        Route("/api/contacts/{contact_id}/activity", activity, methods=["GET"]),
        Route("/api/stripe/settle-sepa", settle_sepa, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.contract = contract
    return app


def _simulator(request: Request) -> Simulator:
    return request.app.state.simulator


# ---- the page ---------------------------------------------------------------------------------
async def page(request: Request) -> HTMLResponse:
    sim = _simulator(request)
    problem = None
    try:
        found = await sim.directory.conversations()
    except DirectoryError as exc:
        problem = f"{exc}. Showing the seeded demo contacts instead."
        found = Directory.seeded()
    contract: CanvasContract = request.app.state.contract
    page_config = {
        "conversations": [c.summary() for c in found],
        "activity": sim.directory.live,
        "settle": sim.config.stripe_url is not None,
    }
    html = render_template(
        "page.html",
        conversations=found,
        app_url=sim.config.app_url,
        intercom_live=sim.directory.live,
        stripe_url=sim.config.stripe_url,
        contract_note="" if contract.available else contract.unavailable_reason,
        problem=problem,
        # Inside <script>, "<" could end the element or open a comment: escape it in the JSON.
        page_config=json.dumps(page_config).replace("<", "\\u003c"),
    )
    return HTMLResponse(html)


async def conversations(request: Request) -> JSONResponse:
    try:
        found = await _simulator(request).directory.conversations()
    except DirectoryError as exc:
        return JSONResponse({"error": str(exc)}, status_code=502)
    return JSONResponse({"data": [c.summary() for c in found]})


# ---- Canvas Kit flows -------------------------------------------------------------------------
Flow = Callable[[Simulator, dict[str, Any]], Awaitable[dict[str, Any]]]


def _api(flow: Flow) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            data = json.loads(await request.body() or b"{}")
            if not isinstance(data, dict):
                raise BadRequest("the body must be a JSON object")
            return JSONResponse(await flow(_simulator(request), data))
        except (BadRequest, ValueError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except DirectoryError as exc:
            return JSONResponse({"error": str(exc)}, status_code=502)

    return endpoint


async def inbox_initialize(sim: Simulator, data: dict[str, Any]) -> dict[str, Any]:
    convo = await _conversation(sim, data)
    payload = canvas_requests.inbox_initialize(convo.contact, convo.conversation_id)
    payload["conversation"] = convo.conversation
    exchange = await sim.player.send(
        "inbox initialize",
        sim.player.app_url("/canvas/inbox/initialize"),
        payload,
        schema="initialize_response",
        surface="inbox",
    )
    return exchange.as_json(surface="inbox")


async def inbox_submit(sim: Simulator, data: dict[str, Any]) -> dict[str, Any]:
    convo = await _conversation(sim, data)
    payload = canvas_requests.inbox_submit(
        convo.contact,
        convo.conversation_id,
        _text(data, "component_id"),
        _object(data, "current_canvas"),
        _object(data, "input_values", required=False),
    )
    payload["conversation"] = convo.conversation
    exchange = await sim.player.send(
        "inbox submit",
        sim.player.app_url("/canvas/inbox/submit"),
        payload,
        schema="submit_response",
        surface="inbox",
    )
    return exchange.as_json(surface="inbox")


async def messenger_configure(sim: Simulator, data: dict[str, Any]) -> dict[str, Any]:
    component_id = data.get("component_id")
    if component_id is None:
        payload = canvas_requests.messenger_configure()
    else:
        payload = canvas_requests.messenger_configure(
            _text(data, "component_id"),
            _object(data, "input_values", required=False),
            _object(data, "current_canvas"),
        )
    exchange = await sim.player.send(
        "messenger configure",
        sim.player.app_url("/canvas/messenger/configure"),
        payload,
        schema="configure_response",
        surface="configure",
    )
    return exchange.as_json(surface="configure")


async def messenger_initialize(sim: Simulator, data: dict[str, Any]) -> dict[str, Any]:
    convo = await _conversation(sim, data)
    payload = canvas_requests.messenger_initialize(
        _object(data, "card_creation_options"), _viewer(convo, data), _locale(data)
    )
    exchange = await sim.player.send(
        "messenger initialize",
        sim.player.app_url("/canvas/messenger/initialize"),
        payload,
        schema="initialize_response",
        surface="messenger",
    )
    return exchange.as_json(surface="messenger")


async def messenger_content(sim: Simulator, data: dict[str, Any]) -> dict[str, Any]:
    """The live-canvas request Intercom sends to `content_url` each time the card is viewed."""
    convo = await _conversation(sim, data)
    canvas = _object(data, "canvas")
    url = canvas.get("content_url")
    if not isinstance(url, str) or not url:
        raise BadRequest("the canvas has no content_url")
    payload = canvas_requests.messenger_content(canvas, _viewer(convo, data), _locale(data))
    if not sim.player.on_app_origin(url):
        reason = (
            f"content_url {url} is not on the app's origin ({sim.config.app_url}); the "
            "simulator sends signed requests only to the app. Is PUBLIC_URL the app's URL?"
        )
        return sim.player.refused("messenger live canvas", url, payload, reason).as_json(
            surface="messenger"
        )
    exchange = await sim.player.send(
        "messenger live canvas", url, payload, schema="live_canvas_response", surface="messenger"
    )
    return exchange.as_json(surface="messenger")


async def messenger_submit(sim: Simulator, data: dict[str, Any]) -> dict[str, Any]:
    convo = await _conversation(sim, data)
    payload = canvas_requests.messenger_submit(
        _text(data, "component_id"),
        _object(data, "current_canvas"),
        _viewer(convo, data),
        _object(data, "input_values", required=False),
        _locale(data),
    )
    exchange = await sim.player.send(
        "messenger submit",
        sim.player.app_url("/canvas/messenger/submit"),
        payload,
        schema="submit_response",
        surface="messenger",
    )
    return exchange.as_json(surface="messenger")


# ---- the sandboxes ----------------------------------------------------------------------------
async def activity(request: Request) -> JSONResponse:
    sim = _simulator(request)
    contact_id = request.path_params["contact_id"]
    try:
        found = await sim.directory.activity(contact_id)
    except DirectoryError as exc:
        return JSONResponse({"error": str(exc)}, status_code=502)
    html = render_template("activity.html", activity=found, contact_id=contact_id)
    return JSONResponse({"activity": found, "html": html})


async def settle_sepa(request: Request) -> JSONResponse:
    """Let the sandbox Stripe's clock pass for SEPA: processing debits succeed."""
    sim = _simulator(request)
    if sim.config.stripe_url is None:
        return JSONResponse({"error": "no sandbox Stripe configured"}, status_code=404)
    try:
        response = await sim.http.post(f"{sim.config.stripe_url}/_sandbox/sepa/settle", timeout=10)
    except httpx.HTTPError as exc:
        return JSONResponse({"error": f"sandbox Stripe unreachable: {exc}"}, status_code=502)
    if response.status_code != 200:
        return JSONResponse(
            {"error": f"sandbox Stripe answered {response.status_code}"}, status_code=502
        )
    return JSONResponse(response.json())


# ---- reading the page's requests --------------------------------------------------------------
async def _conversation(sim: Simulator, data: dict[str, Any]) -> DemoConversation:
    return await sim.directory.find(_text(data, "contact_id"))


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise BadRequest(f"{key} must be a non-empty string")
    return value


def _object(data: dict[str, Any], key: str, *, required: bool = True) -> dict[str, Any]:
    value = data.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise BadRequest(f"{key} must be an object")
    return value


def _viewer(convo: DemoConversation, data: dict[str, Any]) -> dict[str, Any]:
    """Who opens the Messenger: the conversation's contact (`user`, the default), an anonymous
    `lead` who typed their email, or a `visitor` who typed nothing."""
    viewer = data.get("viewer")
    if viewer is not None and viewer not in canvas_requests.VIEWERS:
        raise BadRequest(f"viewer must be one of {', '.join(canvas_requests.VIEWERS)}")
    return canvas_requests.as_viewer(convo.contact, viewer)


def _locale(data: dict[str, Any]) -> str:
    locale = data.get("locale", "en")
    if locale not in LOCALES:
        raise BadRequest(f"locale must be one of {', '.join(LOCALES)}")
    return locale
