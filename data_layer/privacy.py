"""Privacy of free text: one redaction of likely identifiers, used by screens, page downloads and packs alike.

Patients and staff write NHS numbers, phone numbers, email addresses, postcodes and people's names into comments,
complaint summaries and significant-event learning. ``redact`` replaces them with labels:

* **NHS numbers**: ten digits that pass the modulus 11 check, written in any grouping (``943 476 5919``,
  ``9434 765 919``, ``9434765919``) with spaces, hyphens, dots or slashes between the groups. Groups are of three or
  more digits (or every digit on its own), so dates and times (``12.03.2024 10``) are never taken for one.
* **UK phone numbers**: national (``07700 900123``, ``(01632) 960 001``, ``020 7946 0000``, ``0800 123 456``) and
  international (``+44 7700 900123``, ``0044 7700 900123``, ``+44 (0) 20 7946 0000``), with spaces, hyphens, dots or
  brackets between groups of at least three digits (after +44 the first group may be shorter).
* **Email addresses**.
* **Postcodes** in any case, with one space, two spaces, a hyphen or nothing between the two halves.
* **Names after a title**: ``Dr Patel``, ``DR SMITH``, ``Mrs Jane Smith``, ``dr patel``, ``Nurse A. Jones``. The title
  stays (a reader still knows a doctor was meant); one or two name words after it are removed. The title may be in
  any case. The name must start with a capital letter, except after the abbreviated titles (Dr, Mr, Mrs, Ms, Mx,
  Prof), which are never ordinary words: "the nurse was kind", "my sister came", "I miss the old building" keep
  their words, and so does "nurse jones" (a lower-case word after Nurse, Sister, Doctor or Miss is read as an
  ordinary word). Common English words are never taken for a name ("DR WAS LATE", "Mr and Mrs Smith").
* In packs, also the full name of anyone on the practices' staff lists (``people_pattern``).

Who sees what (``redact_for``): an administrator sees the original text on screen and in page downloads (they may
need to act on it, e.g. ring a patient back); everyone else sees it redacted, names after titles included, exactly as
in packs. Inspection packs leave the building and are redacted for everyone, administrators included
(``data_layer.exports.inspection.Redactor``, which calls ``redact`` with the staff names).
"""
from __future__ import annotations

import re

import pandas as pd

REDACTED = {
    "nhs": "[NHS number removed]",
    "phone": "[phone number removed]",
    "email": "[email removed]",
    "postcode": "[postcode removed]",
    "name": "[name removed]",
}
NAME_REMOVED = REDACTED["name"]

_DIGIT = re.compile(r"\d")
_EMAIL = re.compile(r"(?<![\w.%+'-])[\w.%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")

# --- NHS numbers: a run of ten digits with at most three separator characters between any two of them. ------------
_SEP = r"[ \t.\-/–]"
_NHS_CANDIDATE = re.compile(rf"(?<!\d)(?<!\d{_SEP})(?<!\d{_SEP}{{2}})(?<!\d{_SEP}{{3}})"
                            rf"\d(?:{_SEP}{{0,3}}\d){{9}}(?!{_SEP}{{0,3}}\d)")

# --- UK phone numbers: +44 / 0044 / 0, then groups of digits separated by spaces, hyphens, dots or brackets. -------
_PHONE_CANDIDATE = re.compile(
    r"(?<![\w+])(?P<prefix>(?:\+|(?<!\d)00)[ .\-]?44[ .\-]?(?:\(0\)[ .\-]?)?|\(0(?=\d)|0(?=[\d ]))"
    r"(?P<body>\d+(?:(?:\)[ .\-]?|[ .\-]{1,3})\d+){0,5})")
_UK_FIRST_DIGITS = "1235789"  # the first digit of a UK national significant number (no 0, 4 or 6 numbers)

# --- Postcodes: outward code, up to two spaces or a hyphen, inward code; any case. --------------------------------
_POSTCODE = re.compile(r"\b(?:GIR(?: {0,2}|-)0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?(?: {0,2}|-)\d[ABD-HJLNP-UW-Z]{2})\b",
                       re.IGNORECASE)

# --- Names after a title. -----------------------------------------------------------------------------------------
_ABBREVIATED_TITLES = {"dr", "mr", "mrs", "ms", "mx", "prof"}  # never ordinary words: a lower-case name may follow
_TITLES = _ABBREVIATED_TITLES | {"doctor", "nurse", "sister", "miss", "professor", "matron", "sir", "dame"}
_WORD = r"[^\W\d_](?:[^\W\d_]|['’\-](?=[^\W\d_]))*\.?"  # a word of letters (O'Neill, Smith-Jones, A.)
_TITLED = re.compile(r"\b(?P<title>(?i:" + "|".join(sorted(_TITLES, key=len, reverse=True)) + r"))\b"
                     rf"(?P<gap>\.?[ \t]*|[ \t]+)(?P<initials>(?:[A-Z](?:\.[ \t]*|[ \t]+))*)(?P<first>{_WORD})(?:(?P<gap2>[ \t]+)(?P<second>{_WORD}))?")
# Words that follow a title in ordinary sentences and are never taken for a name.
_NOT_NAMES = frozenset("""
a about above after again against all also always am an and answered any are as asked at away back be because been before
booked cancelled changed checked diagnosed dismissed examined forgot helps ignored laughed missed refused rushed sent
shouted smiled spoke treated wrote
being below but by called came can cannot come could did didn't do does doesn't doing done don't down during each
either else even ever every explained few for from gave get gets getting give given go going gone good got great had
has hasn't have haven't having he helped her here hers him his how i if in into is isn't it its just kind last let
listened lovely made make many may me met might more most much must my never no nor not now of off on once one only
or other our out over phoned please practitioner prescribed put rang really referred rude said saw say says see seen
she should since so some still such surgery than thank thanks that the their them then there these they this those
though through to today told too took under until up us very was wasn't wasn't we well went were weren't what when
where which while who whom why will with without would yes yesterday yet you your
""".split())


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


def _nhs(match: re.Match) -> str:
    text = match.group(0)
    groups = [len(g) for g in re.findall(r"\d+", text)]
    grouped = all(n >= 3 for n in groups) or all(n == 1 for n in groups)
    return REDACTED["nhs"] if grouped and is_valid_nhs_number(text) else text


def _phone(match: re.Match) -> str:
    """The longest run of the body's digit groups that makes a UK number; the rest of the match is kept."""
    prefix, body = match.group("prefix"), match.group("body")
    international = "44" in prefix
    spans = [mt.span() for mt in re.finditer(r"\d+", body)]
    for n in range(len(spans), 0, -1):
        lengths = [b - a for a, b in spans[:n]]
        digits = re.sub(r"\D", "", body[:spans[n - 1][1]])
        if international:
            ok = all(k >= 3 for k in lengths[1:]) and 9 <= len(digits) <= 10 and digits[0] in _UK_FIRST_DIGITS
        else:  # the leading 0 is in the prefix but belongs to the first group
            ok = lengths[0] + 1 >= 3 and all(k >= 3 for k in lengths[1:]) and 9 <= len(digits) <= 10 \
                and digits[0] in _UK_FIRST_DIGITS
        if ok:
            return REDACTED["phone"] + body[spans[n - 1][1]:]
    return match.group(0)


def _is_name(word: str, lower_ok: bool) -> bool:
    bare = word.rstrip(".")
    if not bare or bare.lower() in _NOT_NAMES or bare.lower() in _TITLES:
        return False
    return bare[0].isupper() or lower_ok


def _redact_titled(text: str) -> str:
    """Each title followed by a name: the title kept, the name removed. A word after a title that is not a name is
    looked at again (it may be a title itself: "Mr and Mrs Smith", "Professor Sir John Smith")."""
    out, pos = [], 0
    while (match := _TITLED.search(text, pos)) is not None:
        title, gap, initials, first, second = match.group("title", "gap", "initials", "first", "second")
        lower_ok = title.lower() in _ABBREVIATED_TITLES and not initials  # initials come before a capitalised name
        if not _is_name(first, lower_ok):  # "the nurse was kind", "DR WAS LATE"
            out.append(text[pos:match.start("initials")])
            pos = match.start("initials")
            continue
        # A second name word: capitalised after a capitalised first ("Mrs Jane Smith", not "Dr Patel prescribed"),
        # or any word after a lower-case first ("mrs jane smith").
        both = second is not None and _is_name(second, first[0].islower())
        out.append(text[pos:match.start()] + f"{title}{gap}{NAME_REMOVED}")
        pos = match.end() if both else match.end("first")
    out.append(text[pos:])
    return "".join(out)


def people_pattern(names) -> re.Pattern | None:
    """A pattern for the full names (two words or more) of particular people, any case; None when there are none."""
    names = sorted({n.strip() for n in names if isinstance(n, str) and len(n.strip().split()) >= 2}, key=len,
                   reverse=True)
    if not names:
        return None
    return re.compile(r"\b(?:" + "|".join(r"\s+".join(re.escape(w) for w in n.split()) for n in names) + r")\b",
                      re.IGNORECASE)


def redact(text: str | None, people: re.Pattern | None = None) -> str | None:
    """Replace likely identifiers with labels (see the module's docstring for what counts). ``people``: also remove
    these people's full names (``people_pattern``). NHS numbers before phone numbers: a valid NHS number is not a
    phone number."""
    if text is None or text is pd.NA or (isinstance(text, float) and text != text):
        return None  # a missing value (NULL, NaN, NA) stays missing, never the text "nan"
    text = str(text)
    if "@" in text:
        text = _EMAIL.sub(REDACTED["email"], text)
    if len(_DIGIT.findall(text)) >= 9:  # an NHS or phone number has at least nine digits
        text = _NHS_CANDIDATE.sub(_nhs, text)
        text = _PHONE_CANDIDATE.sub(_phone, text)
    text = _POSTCODE.sub(REDACTED["postcode"], text)
    if people is not None:
        text = people.sub(NAME_REMOVED, text)
    return _redact_titled(text)


def redact_for(viewer, text: str | None) -> str | None:
    """What ``viewer`` sees on screen and in page downloads: admins the original, everyone else ``redact(text)``."""
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
