"""Privacy of free text: redaction of likely identifiers and plain-text rendering.

Patients write phone numbers, email addresses, NHS numbers and postcodes into comments. Everyone but an admin sees
them redacted, on screen and in every export.
"""
from __future__ import annotations

import re

import pandas as pd

REDACTED = {
    "nhs": "[NHS number removed]",
    "phone": "[phone number removed]",
    "email": "[email removed]",
    "postcode": "[postcode removed]",
}

_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# Ten digits, optionally grouped 3-3-4 with spaces or hyphens (as NHS numbers are usually written).
_NHS_CANDIDATE = re.compile(r"(?<!\d)(\d{3})[ -]?(\d{3})[ -]?(\d{4})(?!\d)")
# UK phone numbers: +44 or 0 followed by 9-10 more digits, allowing spaces, hyphens and brackets.
_PHONE = re.compile(r"(?<![\w+])(?:\+44\s?\(?0?\)?|\(?0)(?:[\s\-()]*\d){9,10}(?!\d)")
# UK postcodes (outward + inward code), case-insensitive.
_POSTCODE = re.compile(r"\b(?:GIR ?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2})\b", re.IGNORECASE)


def is_valid_nhs_number(digits: str) -> bool:
    """Modulus 11 check: weights 10..2 on the first nine digits; check digit = 11 - (sum mod 11), 11 -> 0, 10 invalid."""
    digits = re.sub(r"\D", "", digits)
    if len(digits) != 10:
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1)))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def redact(text: str | None) -> str | None:
    """Replace likely identifiers with labels. NHS numbers first (a valid NHS number is not a phone number)."""
    if text is None or text is pd.NA or (isinstance(text, float) and text != text):
        return None  # a missing value (NULL, NaN, NA) stays missing, never the text "nan"
    text = str(text)
    text = _EMAIL.sub(REDACTED["email"], text)
    text = _NHS_CANDIDATE.sub(lambda mt: REDACTED["nhs"] if is_valid_nhs_number(mt.group(0)) else mt.group(0), text)
    text = _PHONE.sub(REDACTED["phone"], text)
    text = _POSTCODE.sub(REDACTED["postcode"], text)
    return text


def redact_for(viewer, text: str | None) -> str | None:
    """Admins keep the original; everyone else sees it redacted."""
    if viewer.role == "admin":
        return None if (isinstance(text, float) and text != text) else text
    return redact(text)


_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def inert_for_spreadsheet(value):
    """Text that a spreadsheet would run as a formula gets a leading apostrophe-free guard: a single quote character
    is shown by some programs, so we prefix a zero-width-safe apostrophe as OWASP recommends."""
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        return "'" + value
    return value
