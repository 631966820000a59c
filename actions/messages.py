"""The sentences Fin says, from Jinja2 templates in `actions/templates/<locale>/`.

Plain text (no autoescaping) with strict undefined variables, so a template that names a value
the code does not pass fails loudly in the tests instead of saying "None" to a customer. Values
arrive pre-formatted (money and dates in the reader's locale); whitespace is collapsed, so the
templates may be laid out for people to read.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from jinja2 import Environment, PackageLoader, StrictUndefined, TemplateNotFound

Locale = Literal["en", "de"]
LOCALES: tuple[Locale, ...] = ("en", "de")
_WHITESPACE = re.compile(r"[ \t\r\n]+")

_env = Environment(
    loader=PackageLoader("actions", "templates"),
    autoescape=False,
    undefined=StrictUndefined,
    # Newlines after tags are kept on purpose: they separate sentences, and `say` collapses
    # every run of whitespace into one space.
    trim_blocks=False,
)


def pick_locale(requested: str | None, default: str) -> Locale:
    """`de`, `de-DE`, `de_AT` → "de"; anything we have no copy for → `default`."""
    if requested:
        language = requested.replace("_", "-").split("-")[0].strip().lower()
        for known in LOCALES:
            if language == known:
                return known
    return next((known for known in LOCALES if known == default), "en")


def say(name: str, locale: str, **values: Any) -> str:
    """The message `name` (`templates/<locale>/<name>.txt.j2`) rendered with `values`."""
    text = _env.get_template(f"{locale}/{name}.txt.j2").render(**values)
    # Not str.split(): that would also break the no-break spaces Babel puts in "79,00 €".
    return _WHITESPACE.sub(" ", text).strip()


def has_message(name: str, locale: str) -> bool:
    try:
        _env.get_template(f"{locale}/{name}.txt.j2")
    except TemplateNotFound:
        return False
    return True
