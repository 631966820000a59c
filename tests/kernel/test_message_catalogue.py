"""The gettext catalogue (kernel/locales): every message in formal German, the informal German
catalogue only ever saying "du", the compiled .mo files matching their .po files, and the
catalogue matching the code (`make messages` on a clean tree changes nothing)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from kernel.i18n import LOCALES_DIR, pick_locale, t, translations

ROOT = Path(__file__).resolve().parents[2]
FORMAL, INFORMAL = "de", "de@informal"
PLACEHOLDER = re.compile(r"%\(\w+\)\d*[sd]|%%")
# "Sie" and its forms as address are capitalised mid-sentence; "du" forms in either case.
FORMAL_ADDRESS = re.compile(r"\b(Sie|Ihr|Ihre|Ihren|Ihrem|Ihrer|Ihres|Ihnen)\b")
# A msgid or msgstr as Babel gives it: one string, or one per plural form.
Text = str | tuple[str, ...] | list[str] | None
INFORMAL_ADDRESS = re.compile(r"\b([Dd]u|[Dd]ich|[Dd]ir|[Dd]ein|[Dd]eine[nmrs]?)\b")


def catalogue(name: str) -> Catalog:
    with (LOCALES_DIR / name / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=name)


def template() -> Catalog:
    with (LOCALES_DIR / "messages.pot").open("rb") as pot:
        return read_po(pot)


def forms(value: Text) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def translated(message: Message) -> bool:
    return all(forms(message.string)) and bool(forms(message.string))


def key(msgid: Text) -> str | tuple[str, ...]:
    return msgid if isinstance(msgid, str) else tuple(msgid or ())


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def msgids() -> list[str | tuple[str, ...]]:
    return [key(m.id) for m in template() if m.id]


@pytest.mark.parametrize("name", [FORMAL, INFORMAL])
def test_the_catalogue_has_every_message_of_the_template(name: str) -> None:
    ids = {key(m.id) for m in catalogue(name) if m.id}
    assert [i for i in msgids() if i not in ids] == []


def test_every_message_has_a_formal_german_translation_with_the_same_placeholders() -> None:
    formal = catalogue(FORMAL)
    problems: list[tuple[object, ...]] = []
    for message in formal:
        if not message.id:
            continue
        if message.fuzzy or not translated(message):
            problems.append(("untranslated or fuzzy", message.id))
            continue
        for source, text in zip(forms(message.id) * 2, forms(message.string), strict=False):
            if placeholders(source) != placeholders(text):
                problems.append(("placeholders", source, text))
    assert problems == []


def test_informal_translations_keep_the_placeholders_and_plurals_are_complete() -> None:
    # Babel compiles an untranslated plural as the English msgids, which would hide the formal
    # fallback: a plural is translated in the informal catalogue too (copy it if it says no "Sie").
    problems: list[tuple[object, ...]] = []
    for message in catalogue(INFORMAL):
        if not message.id:
            continue
        if message.fuzzy:
            problems.append(("fuzzy", message.id))
        if isinstance(message.id, tuple) and not translated(message):
            problems.append(("untranslated plural", message.id))
        for source, text in zip(forms(message.id) * 2, forms(message.string), strict=False):
            if text and placeholders(source) != placeholders(text):
                problems.append(("placeholders", source, text))
    assert problems == []


def test_the_informal_catalogue_never_says_sie_to_the_reader() -> None:
    # What a "du" customer reads: the informal form, or else the formal one it falls back to.
    informal = {key(m.id): m for m in catalogue(INFORMAL) if m.id}
    formal_words = []
    for message in catalogue(FORMAL):
        if not message.id:
            continue
        own = informal.get(key(message.id))
        read = forms(own.string) if own is not None and translated(own) else forms(message.string)
        formal_words += [text for text in read if FORMAL_ADDRESS.search(text)]
    assert formal_words == []


def test_the_formal_catalogue_never_says_du() -> None:
    informal_words = [
        text
        for message in catalogue(FORMAL)
        if message.id
        for text in forms(message.string)
        if INFORMAL_ADDRESS.search(text)
    ]
    assert informal_words == []


def test_every_german_sentence_that_addresses_the_reader_has_an_informal_form() -> None:
    informal = {key(m.id): m for m in catalogue(INFORMAL) if m.id}
    missing = [
        key(message.id)
        for message in catalogue(FORMAL)
        if message.id
        and any(FORMAL_ADDRESS.search(text) for text in forms(message.string))
        and not (key(message.id) in informal and translated(informal[key(message.id)]))
    ]
    assert missing == []


@pytest.mark.parametrize("name", [FORMAL, INFORMAL])
def test_the_compiled_catalogue_is_current(name: str) -> None:
    po = {
        key(m.id): forms(m.string)
        for m in catalogue(name)
        if m.id and translated(m) and not m.fuzzy
    }
    with (LOCALES_DIR / name / "LC_MESSAGES" / "messages.mo").open("rb") as mo:
        compiled = {key(m.id): forms(m.string) for m in read_mo(mo) if m.id}
    assert compiled == po, "run `make catalogues`"


@pytest.mark.slow
def test_make_messages_on_a_clean_tree_changes_nothing(tmp_path: Path) -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    copy = tmp_path / "locales"
    shutil.copytree(LOCALES_DIR, copy, ignore=shutil.ignore_patterns("*.mo"))
    subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-o",
            ".venv/.installed",
            "messages",
            f"LOCALES_DIR={copy}",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    changed = [
        str(path.relative_to(copy))
        for path in sorted(copy.rglob("*.po*"))
        if path.read_bytes() != (LOCALES_DIR / path.relative_to(copy)).read_bytes()
    ]
    assert changed == [], "the catalogue is behind the code: run `make messages` and translate"


def test_german_address_picks_the_catalogue_and_english_needs_none() -> None:
    assert pick_locale("de-DE", "en", german_address="sie") == "de"
    assert pick_locale("de-DE", "en", german_address="du") == "de@informal"
    assert pick_locale("en-GB", "de", german_address="du") == "en"
    assert pick_locale("fr, de;q=0.8", "en", german_address="sie") == "de"
    assert t("**Your billing**", "de") == "**Ihre Abrechnung**"
    assert t("**Your billing**", "de@informal") == "**Deine Abrechnung**"
    # Messages that say the same to everyone come from the formal catalogue.
    assert t("Refresh", "de@informal") == t("Refresh", "de") == "Aktualisieren"
    assert translations("en").gettext("**Your billing**") == "**Your billing**"
