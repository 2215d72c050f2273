"""Languages of the web UI: Babel catalogues, locale choice, localized formatting.

Every string a person reads goes through the catalogue in ``agent_ui/locale``: the
templates with ``{{ _("...") }}`` and the JavaScript through :mod:`agent_ui.strings`,
whose translations the page carries as a JSON block. The ``.po`` files are the source;
the compiled ``.mo`` files are committed beside them so that installing needs no build
step (``pybabel compile -d agent_ui/locale`` after editing a ``.po``; see docs/ui.md).

Numbers and dates shown by the server are formatted with Babel's CLDR data; the browser
formats live figures with ``Intl`` under the same BCP 47 tag (:func:`bcp47`).
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timezone
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"
DEFAULT = "en"
#: locale id -> the language's own name (shown in the switcher untranslated, as is usual)
LOCALES: dict[str, str] = {"en": "English", "zh_TW": "繁體中文"}


@functools.cache
def translations(locale: str) -> NullTranslations:
    """The compiled catalogue of ``locale`` (English is the source language)."""
    if locale not in LOCALES:
        locale = DEFAULT
    return Translations.load(str(LOCALE_DIR), [locale], DOMAIN)


def normalize(tag: str | None) -> str | None:
    """A locale id we serve for a language tag (``zh-TW``, ``zh_Hant``, ``en-GB``...)."""
    if not tag:
        return None
    t = tag.strip().replace("-", "_").lower()
    if t in ("zh_tw", "zh_hant", "zh_hant_tw", "zh_hk", "zh_hant_hk", "zh_mo"):
        return "zh_TW"
    if t == "en" or t.startswith("en_"):
        return "en"
    return None


def from_accept_language(header: str | None) -> str | None:
    """The first language of an ``Accept-Language`` header we serve, by q order."""
    if not header:
        return None
    ranked = []
    for i, part in enumerate(header.split(",")):
        lang, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        ranked.append((-q, i, lang))
    for _q, _i, lang in sorted(ranked):
        found = normalize(lang)
        if found:
            return found
    return None


def choose(cookie: str | None, accept_language: str | None,
           tenant_language: str | None = None) -> str:
    """The user's own choice (cookie) first, then the tenant's language, then the
    browser's, then English."""
    for candidate in (cookie if cookie in LOCALES else None, normalize(tenant_language),
                      from_accept_language(accept_language)):
        if candidate:
            return candidate
    return DEFAULT


def bcp47(locale: str) -> str:
    return locale.replace("_", "-")


def fmt_date(ts: float, locale: str) -> str:
    """A server-local calendar date, e.g. "Tuesday, 3 June 2025" / "2025年6月3日 星期二"."""
    return format_date(datetime.fromtimestamp(ts).date(), format="full",
                       locale=Locale.parse(locale))


def fmt_datetime(ts: float, locale: str, tz: timezone | None = None) -> str:
    return format_datetime(datetime.fromtimestamp(ts, tz or UTC), format="medium",
                           locale=Locale.parse(locale))


def fmt_number(value: float, locale: str) -> str:
    return format_decimal(value, locale=Locale.parse(locale))
