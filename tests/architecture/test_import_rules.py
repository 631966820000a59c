"""The house rules, checked on every import of every product module (docs/architecture.md):
data flows one way, edge → domain → gateways, and no edge reaches into another."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EDGES = {"inbox", "messenger", "actions", "automations", "reporting"}
WEB = {"starlette", "uvicorn", "jinja2", "canvas_kit"}
# What each product package may import of the others. `canvas_app` (the app factory and the CLI)
# is the one place that imports every edge.
ALLOWED: dict[str, set[str]] = {
    "gateways": set(),
    "storage": set(),
    "billing": {"gateways", "storage"},
    "kernel": {"billing", "gateways", "storage"},
    "canvas_kit": {"kernel", "billing", "gateways"},
    **{edge: {"kernel", "canvas_kit", "billing", "gateways", "storage"} for edge in EDGES},
    "canvas_app": {"kernel", "canvas_kit", "billing", "gateways", "storage", *EDGES},
}
# Packages that must not import a web framework (or Canvas Kit): the domain and what it stands on.
NO_WEB = {"billing", "gateways", "storage"}
# All SQL lives under storage/: nothing else talks to a database driver.
DATABASE = {"sqlalchemy", "asyncpg", "aiosqlite"}
# Words people read are German only in the catalogues (kernel/locales). What a customer may *type*
# to Fin ("jährlich") is input, not copy: it is parsed in actions/schemas.py.
GERMAN = re.compile(r"[äöüÄÖÜß]|\b(?:Sie|Ihre?[mnrs]?|Deine?[mnrs]?|Rechnung|Zahlung|Abonnement)\b")
GERMAN_INPUT_ALLOWED = {"actions/schemas.py"}
MAX_LINES = 400


# The SDKs at the boundary: only the gateways talk to Stripe and Intercom.
SDKS = {"stripe", "intercom"}
# Beside the product: the sandboxes, the tests and the scripts may import the product, never
# the other way round.
NOT_PRODUCT = {"sandbox", "tests", "scripts"}


def _modules(root: Path = ROOT) -> list[Path]:
    return sorted(
        p
        for package in ALLOWED
        if (root / package).is_dir()
        for p in (root / package).rglob("*.py")
    )


def _imports(path: Path, root: Path = ROOT) -> set[str]:
    """Top-level names of every module `path` imports, wherever the import statement is (inside
    functions and `TYPE_CHECKING` blocks count too: they are dependencies all the same).
    Relative imports are resolved against the module's own package."""
    names: set[str] = set()
    package = path.relative_to(root).parts[:-1]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
            target = [*base, *(node.module.split(".") if node.module else [])]
            if target:
                names.add(target[0])
            else:  # `from .. import x` at the top: x is a package of its own
                names.update(alias.name for alias in node.names)
    return names


def _breaches(root: Path, forbidden: Callable[[str, str], bool]) -> list[str]:
    """`module imports name` for every import of a product module that `forbidden(package,
    name)` refuses."""
    return [
        f"{path.relative_to(root)} imports {name}"
        for path in _modules(root)
        for name in sorted(_imports(path, root))
        if forbidden(path.relative_to(root).parts[0], name)
    ]


# Each rule: (package, imported top-level name) → refused?
RULES: dict[str, Callable[[str, str], bool]] = {
    "layering": lambda package, name: (
        name in ALLOWED and name != package and name not in ALLOWED[package]
    ),
    "edges apart": lambda package, name: package in EDGES and name in EDGES - {package},
    "no web in the domain": lambda package, name: package in NO_WEB and name in WEB,
    "sql in storage": lambda package, name: package != "storage" and name in DATABASE,
    "sdks in gateways": lambda package, name: package != "gateways" and name in SDKS,
    "no sandbox or tests": lambda package, name: name in NOT_PRODUCT,
}


def test_every_product_package_imports_only_what_the_layering_allows() -> None:
    assert _breaches(ROOT, RULES["layering"]) == []


def test_edges_never_import_each_other() -> None:
    assert _breaches(ROOT, RULES["edges apart"]) == []


def test_the_domain_and_its_gateways_import_no_web_framework() -> None:
    assert _breaches(ROOT, RULES["no web in the domain"]) == []


def test_only_storage_speaks_sql() -> None:
    assert _breaches(ROOT, RULES["sql in storage"]) == []


def test_only_the_gateways_import_the_stripe_and_intercom_sdks() -> None:
    assert _breaches(ROOT, RULES["sdks in gateways"]) == []


def test_the_product_imports_neither_the_sandboxes_nor_the_tests() -> None:
    assert _breaches(ROOT, RULES["no sandbox or tests"]) == []


def test_every_top_level_package_has_a_place_in_the_rules() -> None:
    # A new package must be placed in ALLOWED (product) or NOT_PRODUCT before it is imported.
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")}
    assert packages - set(ALLOWED) - NOT_PRODUCT == set()


def _strings(path: Path) -> list[tuple[int, str]]:
    """The string literals of a module (docstrings and comments aside: they are for us)."""
    found = []
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text()).readline)
    previous = None
    for token in tokens:
        if token.type == tokenize.STRING and previous not in (
            None,
            tokenize.INDENT,
            tokenize.NEWLINE,
        ):
            found.append((token.start[0], token.string))
        if token.type not in (tokenize.NL, tokenize.COMMENT):
            previous = token.type
    return found


def test_no_german_words_in_code() -> None:
    breaches = [
        f"{path.relative_to(ROOT)}:{line}: {text[:60]}"
        for path in _modules()
        if str(path.relative_to(ROOT)) not in GERMAN_INPUT_ALLOWED
        for line, text in _strings(path)
        if GERMAN.search(text)
    ]
    assert breaches == []


def test_no_product_module_is_longer_than_the_house_limit() -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for path in _modules()
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_the_rules_catch_a_breach(tmp_path: Path) -> None:
    # The walker must see imports inside functions and TYPE_CHECKING blocks.
    module = tmp_path / "m.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from messenger.cards import x\n"
        "def f():\n    import inbox.sidebar\n"
    )
    assert {"messenger", "inbox"} <= _imports(module, tmp_path)
    nested = tmp_path / "inbox" / "m.py"
    nested.parent.mkdir()
    nested.write_text("from ..messenger import cards\nfrom . import sidebar\n")
    assert {"messenger", "inbox"} <= _imports(nested, tmp_path)
    assert GERMAN.search('"Ihre Rechnung"') and not GERMAN.search('"Size of your invoice"')


@pytest.mark.parametrize(
    ("rule", "module", "source"),
    [
        ("layering", "billing/m.py", "from inbox import sidebar\n"),
        ("edges apart", "messenger/m.py", "def f():\n    from actions import answers\n"),
        ("no web in the domain", "gateways/m.py", "from starlette.requests import Request\n"),
        ("sql in storage", "inbox/m.py", "import sqlalchemy\n"),
        ("sdks in gateways", "automations/m.py", "if TYPE_CHECKING:\n    import stripe\n"),
        ("sdks in gateways", "kernel/m.py", "from intercom import AsyncIntercom\n"),
        ("no sandbox or tests", "billing/m.py", "from sandbox.stripe_api import seed\n"),
    ],
)
def test_each_rule_refuses_a_planted_breach(
    tmp_path: Path, rule: str, module: str, source: str
) -> None:
    allowed = {  # what the rules allow stays allowed beside the breach
        "gateways/ok.py": "import stripe\nfrom intercom import AsyncIntercom\n",
        "canvas_app/ok.py": "from inbox import sidebar\nfrom messenger import cards\n",
        "storage/ok.py": "import sqlalchemy\n",
    }
    for name, text in {**allowed, module: source}.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text)
    (imported,) = _imports(tmp_path / module, tmp_path) - {"typing"}
    assert _breaches(tmp_path, RULES[rule]) == [f"{module} imports {imported}"]
