"""Phone numbers as the CRM keys them: one normalized, E.164-like form.

The same customer calls as ``+1 (212) 555-0101``, ``12125550101``, ``2125550101``,
``0012125550101`` or ``sip:+12125550101@trunk.example;user=phone``; the IVR's
``crm.customer_by_ani`` must find them every time, with one index lookup. So numbers are
stored and looked up in one form:

* the user part of a SIP/tel URI is taken; visual separators (space, ``-``, ``.``, ``()``,
  ``/``) are dropped;
* an international ``00`` prefix becomes ``+``;
* a national number of the default country (North America by default: 10 digits, or 11
  starting with the country code) gets ``+`` and the country code;
* anything else that is all digits (internal extensions, short codes) stays as it is, so
  extensions match extensions.

No number-plan database: this is a normalizer, not a validator (libphonenumber's job).
"""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s\-.()/]")


def _user_part(raw: str) -> str:
    text = raw.strip()
    lowered = text.lower()
    for scheme in ("sips:", "sip:", "tel:"):
        if lowered.startswith(scheme):
            text = text[len(scheme):]
            break
    text = text.split("@", 1)[0]
    return text.split(";", 1)[0]


def normalize_phone(raw: str | None, default_country: str = "1",
                    national_length: int = 10) -> str:
    """The key a phone number is stored and looked up under ("" for no usable number)."""
    if not raw:
        return ""
    text = _SEPARATORS.sub("", _user_part(str(raw)))
    if text.startswith("00") and text[2:].isdigit():
        text = "+" + text[2:]
    if text.startswith("+"):
        return text if text[1:].isdigit() and len(text) > 1 else ""
    if not text.isdigit():
        return ""
    if len(text) == national_length:
        return f"+{default_country}{text}"
    if len(text) == national_length + len(default_country) and text.startswith(default_country):
        return "+" + text
    return text
