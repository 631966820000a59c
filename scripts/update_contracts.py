"""Refresh contracts/ from upstream at pinned commits, or check the committed copies offline.

Online (what `make contracts` runs): downloads, at the commits pinned below,

* Intercom-OpenAPI `descriptions/2.14/api.intercom.io.yaml` -> contracts/intercom-api-2.14.yaml
  (verbatim),
* stripe/openapi `openapi/fixtures3.json` -> contracts/stripe-fixtures3.json (verbatim),
* Intercom-OpenAPI `descriptions/2.11/api.intercom.io.yaml`, from which the Canvas Kit schemas are
  extracted -> contracts/intercom-canvas-kit-2.11.json.

The extraction keeps every `components.schemas` entry reachable through `$ref` from the eight
Canvas Kit request/response schemas (CANVAS_KIT_ROOTS), verbatim and sorted by name; a reference
that upstream leaves dangling (only `custom_attributes` is known) is appended as a permissive
object (DANGLING_REPLACEMENTS); any other dangling or non-schema reference is an error.

Offline: `--check` writes nothing. It always re-runs the extraction over the committed Canvas Kit
file (minus the replacements) and requires a byte-identical result; with `--intercom-211 PATH` it
also extracts from that local upstream description and compares, and `--intercom-214 PATH` /
`--stripe-fixtures PATH` compare local upstream files byte for byte. Without `--check`, a local
path given for a file is used instead of downloading it.

    .venv/bin/python scripts/update_contracts.py
    .venv/bin/python scripts/update_contracts.py --check [--intercom-211 PATH] [...]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

# ---- pinned upstream ---------------------------------------------------------------------------
INTERCOM_REPO = "intercom/Intercom-OpenAPI"
INTERCOM_COMMIT = "8889625"
INTERCOM_211_PATH = "descriptions/2.11/api.intercom.io.yaml"
INTERCOM_214_PATH = "descriptions/2.14/api.intercom.io.yaml"
STRIPE_REPO = "stripe/openapi"
STRIPE_COMMIT = "f6c2a48"
STRIPE_FIXTURES_PATH = "openapi/fixtures3.json"
RAW_URL = "https://raw.githubusercontent.com/{repo}/{commit}/{path}"
# Used only to expand an abbreviated commit to its full SHA and date (printed for the README).
COMMIT_API_URL = "https://api.github.com/repos/{repo}/commits/{commit}"

# ---- local copies ------------------------------------------------------------------------------
CONTRACTS_DIR = Path(__file__).resolve().parents[1] / "contracts"
CANVAS_KIT_OUT = CONTRACTS_DIR / "intercom-canvas-kit-2.11.json"
INTERCOM_API_OUT = CONTRACTS_DIR / "intercom-api-2.14.yaml"
STRIPE_FIXTURES_OUT = CONTRACTS_DIR / "stripe-fixtures3.json"

# ---- Canvas Kit extraction ---------------------------------------------------------------------
CANVAS_KIT_ROOTS = (
    "configure_request",
    "configure_response",
    "initialize_request",
    "initialize_response",
    "live_canvas_request",
    "live_canvas_response",
    "submit_request",
    "submit_response",
)
CANVAS_KIT_TITLE = (
    "Intercom Canvas Kit schemas, extracted verbatim from intercom/Intercom-OpenAPI "
    "descriptions/2.11/api.intercom.io.yaml (MIT)"
)
DANGLING_REPLACEMENTS: dict[str, dict[str, Any]] = {
    "custom_attributes": {
        "type": "object",
        "description": "(dangling reference in the upstream 2.11 description; any object accepted)",
    },
}
SCHEMA_REF_PREFIX = "#/components/schemas/"


class ContractError(Exception):
    """Upstream no longer looks the way the extraction expects."""


# YAML -> JSON faithfully: keep unquoted dates/timestamps as the strings they are in the source
# (JSON has no date type); everything else is plain safe loading.


class _JsonFaithfulLoader(yaml.SafeLoader):
    pass


_JsonFaithfulLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(text: str | bytes) -> Any:
    return yaml.load(text, Loader=_JsonFaithfulLoader)


def iter_refs(node: Any) -> Iterator[str]:
    """Every `$ref` string anywhere below `node`."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from iter_refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from iter_refs(item)


def schema_closure(schemas: dict[str, Any], roots: Iterable[str]) -> tuple[set[str], set[str]]:
    """Names reachable from `roots` via `$ref`: (present in `schemas`, dangling)."""
    found: set[str] = set()
    dangling: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in found or name in dangling:
            continue
        if name not in schemas:
            dangling.add(name)
            continue
        found.add(name)
        for ref in iter_refs(schemas[name]):
            if not ref.startswith(SCHEMA_REF_PREFIX):
                raise ContractError(f"{name}: reference outside components.schemas: {ref}")
            todo.append(ref.removeprefix(SCHEMA_REF_PREFIX))
    return found, dangling


def extract_canvas_kit(description: dict[str, Any]) -> dict[str, Any]:
    """The Canvas Kit document, shaped as contracts/intercom-canvas-kit-2.11.json."""
    schemas: dict[str, Any] = description["components"]["schemas"]
    missing_roots = [root for root in CANVAS_KIT_ROOTS if root not in schemas]
    if missing_roots:
        raise ContractError(f"Canvas Kit schemas missing upstream: {missing_roots}")
    found, dangling = schema_closure(schemas, CANVAS_KIT_ROOTS)
    unexpected = sorted(dangling - DANGLING_REPLACEMENTS.keys())
    if unexpected:
        raise ContractError(f"dangling references with no known replacement: {unexpected}")
    kept: dict[str, Any] = {name: schemas[name] for name in sorted(found)}
    for name in sorted(dangling):
        kept[name] = DANGLING_REPLACEMENTS[name]
    return {
        "openapi": description["openapi"],
        "info": {"title": CANVAS_KIT_TITLE, "version": str(description["info"]["version"])},
        "paths": {},
        "components": {"schemas": kept},
    }


def render_canvas_kit(document: dict[str, Any]) -> bytes:
    # The committed file's exact form: one-space indent, ASCII escapes, no final newline.
    return json.dumps(document, indent=1).encode("ascii")


def canvas_kit_from_211(raw: bytes) -> bytes:
    description = load_yaml(raw)
    version = str(description.get("info", {}).get("version"))
    if version != "2.11":
        raise ContractError(f"expected the 2.11 description, got info.version {version!r}")
    return render_canvas_kit(extract_canvas_kit(description))


def check_intercom_214(raw: bytes) -> None:
    version = str(load_yaml(raw).get("info", {}).get("version"))
    if version != "2.14":
        raise ContractError(f"expected the 2.14 description, got info.version {version!r}")


def check_stripe_fixtures(raw: bytes) -> None:
    if not isinstance(json.loads(raw).get("resources"), dict):
        raise ContractError("fixtures3.json has no `resources` object")


def committed_is_fixed_point() -> bool:
    """Re-extract from the committed schemas (replacements removed): must give the same bytes."""
    committed = CANVAS_KIT_OUT.read_bytes()
    document = json.loads(committed)
    schemas = {
        name: schema
        for name, schema in document["components"]["schemas"].items()
        if not (name in DANGLING_REPLACEMENTS and schema == DANGLING_REPLACEMENTS[name])
    }
    description = {
        "openapi": document["openapi"],
        "info": document["info"],
        "components": {"schemas": schemas},
    }
    return render_canvas_kit(extract_canvas_kit(description)) == committed


# ---- fetching ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Upstream:
    repo: str
    commit: str
    path: str

    def url(self, commit: str) -> str:
        return RAW_URL.format(repo=self.repo, commit=commit, path=self.path)


def resolve_commit(client: httpx.Client, repo: str, commit: str) -> str:
    """Full SHA for a pinned (possibly abbreviated) commit; prints it with its date."""
    if len(commit) == 40:
        return commit
    try:
        response = client.get(COMMIT_API_URL.format(repo=repo, commit=commit))
        response.raise_for_status()
        data = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        print(f"{repo}@{commit}: could not expand the commit ({exc}); using it as given")
        return commit
    sha = str(data["sha"])
    print(f"{repo}@{commit} = {sha} ({data['commit']['committer']['date']})")
    return sha


def download(client: httpx.Client, upstream: Upstream, commits: dict[str, str]) -> bytes:
    key = f"{upstream.repo}@{upstream.commit}"
    if key not in commits:
        commits[key] = resolve_commit(client, upstream.repo, upstream.commit)
    response = client.get(upstream.url(commits[key]))
    response.raise_for_status()
    return response.content


def write_if_changed(path: Path, content: bytes) -> None:
    old = path.read_bytes() if path.exists() else None
    digest = hashlib.sha256(content).hexdigest()[:12]
    if old == content:
        print(f"unchanged {path.name} ({len(content)} bytes, sha256 {digest})")
        return
    path.write_bytes(content)
    print(f"wrote     {path.name} ({len(content)} bytes, sha256 {digest})")


# ---- entry point -------------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; verify the committed files (offline) and any local upstream files",
    )
    parser.add_argument("--intercom-211", type=Path, metavar="PATH", help=INTERCOM_211_PATH)
    parser.add_argument("--intercom-214", type=Path, metavar="PATH", help=INTERCOM_214_PATH)
    parser.add_argument("--stripe-fixtures", type=Path, metavar="PATH", help=STRIPE_FIXTURES_PATH)
    return parser.parse_args(argv)


def run_check(args: argparse.Namespace) -> int:
    failures: list[str] = []

    def report(ok: bool, what: str) -> None:
        print(f"{'ok  ' if ok else 'FAIL'} {what}")
        if not ok:
            failures.append(what)

    report(committed_is_fixed_point(), f"{CANVAS_KIT_OUT.name} is a fixed point of the extraction")
    if args.intercom_211:
        extracted = canvas_kit_from_211(args.intercom_211.read_bytes())
        report(extracted == CANVAS_KIT_OUT.read_bytes(), f"{args.intercom_211} extracts to it")
    if args.intercom_214:
        raw = args.intercom_214.read_bytes()
        check_intercom_214(raw)
        report(
            raw == INTERCOM_API_OUT.read_bytes(), f"{args.intercom_214} = {INTERCOM_API_OUT.name}"
        )
    if args.stripe_fixtures:
        raw = args.stripe_fixtures.read_bytes()
        check_stripe_fixtures(raw)
        same = raw == STRIPE_FIXTURES_OUT.read_bytes()
        report(same, f"{args.stripe_fixtures} = {STRIPE_FIXTURES_OUT.name}")
    return 1 if failures else 0


def run_update(args: argparse.Namespace) -> int:
    commits: dict[str, str] = {}
    with httpx.Client(timeout=60, follow_redirects=True) as client:

        def fetch(local: Path | None, upstream: Upstream) -> bytes:
            return local.read_bytes() if local else download(client, upstream, commits)

        raw_211 = fetch(
            args.intercom_211, Upstream(INTERCOM_REPO, INTERCOM_COMMIT, INTERCOM_211_PATH)
        )
        raw_214 = fetch(
            args.intercom_214, Upstream(INTERCOM_REPO, INTERCOM_COMMIT, INTERCOM_214_PATH)
        )
        raw_fixtures = fetch(
            args.stripe_fixtures, Upstream(STRIPE_REPO, STRIPE_COMMIT, STRIPE_FIXTURES_PATH)
        )
    # Validate everything before writing anything.
    canvas_kit = canvas_kit_from_211(raw_211)
    check_intercom_214(raw_214)
    check_stripe_fixtures(raw_fixtures)
    CONTRACTS_DIR.mkdir(exist_ok=True)
    write_if_changed(CANVAS_KIT_OUT, canvas_kit)
    write_if_changed(INTERCOM_API_OUT, raw_214)
    write_if_changed(STRIPE_FIXTURES_OUT, raw_fixtures)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return run_check(args) if args.check else run_update(args)
    except ContractError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
