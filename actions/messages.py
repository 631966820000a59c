"""The sentences Fin says, from Jinja2 templates in `actions/templates/` whose words are
`{% trans %}` blocks of the gettext catalogue (`kernel.i18n`): one template per answer, every
language and German address.

Plain text (no autoescaping) with strict undefined variables, so a template that names a value
the code does not pass fails loudly in the tests instead of saying "None" to a customer. Values
arrive pre-formatted (money and dates in the reader's locale); whitespace is collapsed, so the
templates may be laid out for people to read.
"""

from __future__ import annotations

import re
from typing import Any

from jinja2 import Environment, PackageLoader

from kernel.i18n import template_environment

_WHITESPACE = re.compile(r"[ \t\r\n]+")
_templates = PackageLoader("actions", "templates")


def _environment(locale: str) -> Environment:
    # Newlines after tags are kept on purpose: they separate sentences, and `say` collapses
    # every run of whitespace into one space.
    return template_environment(_templates, locale, autoescape=False, trim_blocks=False)


def say(name: str, locale: str, **values: Any) -> str:
    """The message `name` (`templates/<name>.txt.j2`) in `locale`, rendered with `values`."""
    text = _environment(locale).get_template(f"{name}.txt.j2").render(**values)
    # Not str.split(): that would also break the no-break spaces Babel puts in "79,00 €".
    return _WHITESPACE.sub(" ", text).strip()
