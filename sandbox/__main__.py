"""`python -m sandbox demo | bench | initialize <customer>`: the demo, the benchmark, and a
signed initialize request from the terminal."""

from __future__ import annotations

import argparse
import json
import sys

import httpx


def initialize(key: str, view: str) -> int:
    from sandbox.canvas_requests import demo_contact, inbox_initialize, inbox_submit, signed
    from sandbox.demo import DemoConfig

    config = DemoConfig.load()
    payload = inbox_initialize(demo_contact(key), f"conv_{key}")
    body, headers = signed(payload, config.intercom_client_secret)
    print(
        f"$ curl -X POST {config.app_url}/canvas/inbox/initialize \\\n"
        f"    -H 'Content-Type: application/json' -H 'X-Body-Signature: {headers['X-Body-Signature']}' \\\n"
        f"    --data-binary @- <<< '<{len(body)} bytes: an Intercom inbox initialize for contact_{key}>'\n",
        file=sys.stderr,
    )
    response = httpx.post(
        f"{config.app_url}/canvas/inbox/initialize", content=body, headers=headers, timeout=15
    )
    if view == "details" and response.status_code == 200:
        payload = inbox_submit(
            demo_contact(key), f"conv_{key}", "details", response.json()["canvas"]
        )
        body, headers = signed(payload, config.intercom_client_secret)
        response = httpx.post(
            f"{config.app_url}/canvas/inbox/submit", content=body, headers=headers, timeout=15
        )
    print(f"HTTP {response.status_code}", file=sys.stderr)
    try:
        data = response.json()
    except ValueError:
        print(response.text)
        return 1
    print(render_text(data))
    print("\n" + json.dumps(data, indent=2, ensure_ascii=False), file=sys.stderr)
    return 0 if response.status_code == 200 else 1


def render_text(data: dict) -> str:
    """A canvas as plain text, roughly as the sidebar shows it."""
    lines = []
    for c in data.get("canvas", {}).get("content", {}).get("components", []):
        kind = c["type"]
        if kind == "text":
            lines.append(c["text"])
        elif kind == "data-table":
            width = max(len(i["field"]) for i in c["items"])
            lines += [f"  {i['field']:<{width}}  {i['value']}" for i in c["items"]]
        elif kind == "button":
            lines.append(f"  [ {c['label']} ]")
        elif kind == "list":
            lines += [f"  • {i['title']} — {i.get('subtitle', '')}" for i in c["items"]]
        elif kind == "divider":
            lines.append("  " + "─" * 30)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="run the sandboxes, the app and the simulator")
    bench = sub.add_parser("bench", help="measure the app against the sandbox Stripe")
    bench.add_argument("--latency-ms", type=float, default=100)
    bench.add_argument("--requests", type=int, default=64)
    init = sub.add_parser("initialize", help="send a signed inbox initialize to the running demo")
    init.add_argument(
        "customer", help="healthy, sepa, trial, vip, usage, shared_a, shared_b, nobody"
    )
    init.add_argument("--view", choices=["summary", "details"], default="summary")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from sandbox.demo import run_demo

        run_demo()
        return 0
    if args.command == "bench":
        from sandbox.bench import run_bench

        return run_bench(latency_ms=args.latency_ms, requests=args.requests)
    return initialize(args.customer, args.view)


if __name__ == "__main__":
    raise SystemExit(main())
