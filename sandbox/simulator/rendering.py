"""Canvas Kit content → HTML, the way Intercom draws it closely enough to judge a layout.

Rendered on the server with Jinja2 (autoescaped); text supports exactly Intercom's Markdown subset,
**bold** and [links](url), and everything else a card says is escaped, never interpreted.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

TEMPLATES = Path(__file__).parent / "templates"
SURFACES = ("inbox", "messenger", "configure")
SPACER_PX = {"xs": 4, "s": 8, "m": 16, "l": 24, "xl": 32}
SAFE_SCHEMES = ("http://", "https://", "mailto:")

_MARKDOWN = re.compile(
    r"\\(?P<escaped>[!-/:-@\[-`{-~])"
    r"|\[(?P<label>[^\]]+)\]\((?P<url>[^)\s]+)\)|\*\*(?P<bold>.+?)\*\*"
)


def markdown(text: Any) -> Markup:
    """Intercom's text Markdown: **bold** and [label](url), and CommonMark's backslash escapes
    (`\\[` is a literal `[`); the rest is shown literally."""
    source = "" if text is None else str(text)
    out: list[str] = []
    position = 0
    for match in _MARKDOWN.finditer(source):
        out.append(str(escape(source[position : match.start()])))
        if match.group("escaped") is not None:
            out.append(str(escape(match.group("escaped"))))
        elif match.group("bold") is not None:
            out.append(f"<strong>{markdown(match.group('bold'))}</strong>")
        else:
            url = match.group("url")
            label = markdown(match.group("label"))
            if url.lower().startswith(SAFE_SCHEMES):
                out.append(
                    f'<a href="{escape(url)}" target="_blank" rel="noopener noreferrer">{label}</a>'
                )
            else:
                # A link Intercom would not open (javascript:, relative): show its label only.
                out.append(str(label))
        position = match.end()
    out.append(str(escape(source[position:])))
    return Markup("".join(out))


def safe_url(url: Any) -> str:
    """An http(s) URL for src/href attributes; anything else becomes empty."""
    return url if isinstance(url, str) and url.lower().startswith(("http://", "https://")) else ""


def components_of(content: Any) -> list[Any]:
    """The component list of a content object, tolerating a malformed response."""
    if isinstance(content, dict) and isinstance(content.get("components"), list):
        return content["components"]
    return []


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        # A field a card left out (None) shows as nothing, never as "None".
        finalize=lambda value: "" if value is None else value,
    )
    env.filters["ck_markdown"] = markdown
    env.filters["safe_url"] = safe_url
    env.globals["SPACER_PX"] = SPACER_PX
    env.globals["components_of"] = components_of
    return env


ENVIRONMENT = _environment()


def render_content(content: Any, *, surface: str) -> str:
    """The HTML of a content object (`{"components": [...]}`) for `surface`."""
    if surface not in SURFACES:
        raise ValueError(f"unknown surface {surface!r}")
    return ENVIRONMENT.get_template("canvas.html").render(content=content, surface=surface)


def render_template(name: str, **values: Any) -> str:
    return ENVIRONMENT.get_template(name).render(**values)
