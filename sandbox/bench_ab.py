"""A/B of the app's CPU per cold sidebar render: two app processes side by side (each from its
own checkout, with its own uvicorn arguments) against one sandbox Stripe without latency, renders
alternating between them in rounds, each process's CPU read from procfs. On a noisy machine the
absolute figure moves by ±15 % from run to run; both sides of an A/B move together.

    git worktree add /tmp/before <commit>
    .venv/bin/python -m sandbox.bench_ab --a-dir /tmp/before --a-args "--loop asyncio --http h11"

The checkouts share this virtualenv; uvicorn imports the app from its working directory.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shlex
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

from sandbox.bench import STRIPE_KEY, app_env, cpu_seconds, measure, process
from sandbox.serving import free_port

ROUNDS = 10
ROOT = Path(__file__).resolve().parents[1]


def _app(
    directory: Path, extra: str, stripe_url: str, db: Path, stack: ExitStack
) -> tuple[str, int]:
    port = free_port()
    args = [sys.executable, "-m", "uvicorn", "canvas_app.app:app", "--host", "127.0.0.1"]
    args += ["--port", str(port), "--log-level", "warning", "--no-access-log", *shlex.split(extra)]
    env = {**os.environ, **app_env(stripe_url, 0, "ab"), "DATABASE_URL": f"sqlite:///{db}"}
    proc = subprocess.Popen(
        args, cwd=directory, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    stack.callback(proc.wait, 10)
    stack.callback(proc.terminate)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return url, proc.pid
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the app in {directory} did not start")
        time.sleep(0.1)


def run_ab(a_dir: Path, a_args: str, b_dir: Path, b_args: str, renders: int) -> tuple[float, float]:
    """CPU ms per cold render of A and of B."""
    stripe_port = free_port()
    stripe_url = f"http://127.0.0.1:{stripe_port}"
    stripe = [sys.executable, "-m", "sandbox.stripe_api", "--port", str(stripe_port)]
    stripe += ["--api-key", STRIPE_KEY, "--latency-ms", "0"]
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        stack.enter_context(process(stripe, {}, f"{stripe_url}/_sandbox/clock"))
        sides = [
            _app(a_dir, a_args, stripe_url, Path(tmp) / "a.sqlite3", stack),
            _app(b_dir, b_args, stripe_url, Path(tmp) / "b.sqlite3", stack),
        ]
        for url, _pid in sides:  # first renders: products and lifetime values cached
            asyncio.run(measure(url, concurrency=1, requests=50))
        cpu = [0.0, 0.0]
        for round_ in range(ROUNDS):
            for side in (0, 1) if round_ % 2 == 0 else (1, 0):
                url, pid = sides[side]
                before = cpu_seconds(pid)
                asyncio.run(measure(url, concurrency=1, requests=renders // ROUNDS))
                cpu[side] += cpu_seconds(pid) - before
    return cpu[0] * 1000 / renders, cpu[1] * 1000 / renders


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--a-dir", type=Path, required=True, help="checkout of A")
    parser.add_argument("--a-args", default="", help="uvicorn arguments of A")
    parser.add_argument("--b-dir", type=Path, default=ROOT, help="checkout of B (this one)")
    parser.add_argument("--b-args", default="", help="uvicorn arguments of B")
    parser.add_argument("--renders", type=int, default=3000, help="cold renders per side")
    args = parser.parse_args(argv)
    a, b = run_ab(args.a_dir, args.a_args, args.b_dir, args.b_args, args.renders)
    print(f"app CPU per cold render: A {a:.2f} ms, B {b:.2f} ms, B/A {b / a:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
