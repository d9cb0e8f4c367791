"""Redaction of identifiers in free text: one function (``privacy.redact``) for screens, page downloads and packs.

Holds issue 11 finding 10 (NHS numbers, phones and postcodes in other spellings; names after titles on screens) and
issue 13 item 7 (names after titles redacted on screens and downloads as they are in packs, one function for both).
"""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, insert, select

from data_layer import demo, feedback as fb, models as m, views
from data_layer import engine as calc
from data_layer.db import get_engine
from data_layer.measures.refresh import refresh as refresh_measures
from data_layer.exports.inspection import Redactor, build_pack
from data_layer.privacy import is_valid_nhs_number, people_pattern, redact, redact_for
from data_layer.scope import Viewer

NHS, PHONE, EMAIL, POSTCODE, NAME = ("[NHS number removed]", "[phone number removed]", "[email removed]",
                                     "[postcode removed]", "[name removed]")

# (what a patient wrote, what everyone but an admin sees). 943 476 5919, 401 023 2137, 418 034 0631: valid NHS numbers.
FORMS = [
    # NHS numbers, any grouping and punctuation (finding 10: dots and 4-3-3 got through)
    ("NHS no 943 476 5919 thanks", f"NHS no {NHS} thanks"),
    ("943-476-5919", NHS),
    ("943.476.5919", NHS),
    ("9434 765 919", NHS),
    ("9434765919", NHS),
    ("943 - 476 - 5919", NHS),
    ("943/476/5919", NHS),
    ("my number is 401 023 2137.", f"my number is {NHS}."),
    ("(4180340631)", f"({NHS})"),
    ("9 4 3 4 7 6 5 9 1 9", NHS),
    ("943  476  5919", NHS),
    # ... but the modulus 11 check stays: ten digits that fail it are not an NHS number
    ("943 476 5918", "943 476 5918"),
    ("123 456 7890", "123 456 7890"),
    # UK phone numbers (finding 10: 0044 and dots got through)
    ("ring 07700 900123", f"ring {PHONE}"),
    ("07700900123", PHONE),
    ("07700-900-123", PHONE),
    ("07700.900.123", PHONE),
    ("07700 900 123", PHONE),
    ("+44 7700 900123", PHONE),
    ("+447700900123", PHONE),
    ("0044 7700 900123", PHONE),
    ("+44 (0) 7700 900123", PHONE),
    ("+44 (0)20 7946 0000", PHONE),
    ("(01632) 960 001", PHONE),
    ("(01632)960001", PHONE),
    ("01632 960001", PHONE),
    ("020 7946 0000", PHONE),
    ("0161-496-0000", PHONE),
    ("call 0800 123 456 today", f"call {PHONE} today"),
    ("07700 900123 2 times", f"{PHONE} 2 times"),
    ("tel:07700900123", f"tel:{PHONE}"),
    # email addresses
    ("email jo.bloggs@example.com please", f"email {EMAIL} please"),
    ("J.O'Neill+nhs@nhs.net", EMAIL),
    ("MIXED.Case@Example.CO.UK", EMAIL),
    # postcodes: one space, two spaces, none, a hyphen, lower case (finding 10: two spaces and hyphens got through)
    ("lives at ME1 1AA", f"lives at {POSTCODE}"),
    ("ME1  1AA", POSTCODE),
    ("ME11AA", POSTCODE),
    ("ME1-1AA", POSTCODE),
    ("me1 1aa", POSTCODE),
    ("sw1a 1aa", POSTCODE),
    ("EC1A 1BB", POSTCODE),
    ("W1A 0AX", POSTCODE),
    ("B33 8TH.", f"{POSTCODE}."),
    # names after titles, any case of the title (finding 10: "DR SMITH" got through; issue 13 item 7: "Mrs Jane
    # Smith", "Dr Patel" on screens)
    ("Dr Patel was lovely", f"Dr {NAME} was lovely"),
    ("DR SMITH IGNORED ME", f"DR {NAME} IGNORED ME"),
    ("dr patel", f"dr {NAME}"),
    ("Mrs Jane Smith", f"Mrs {NAME}"),
    ("mrs jane smith said", f"mrs {NAME} said"),
    ("Nurse Jones", f"Nurse {NAME}"),
    ("NURSE JONES", f"NURSE {NAME}"),
    ("Dr. A. Patel", f"Dr. {NAME}"),
    ("Mr and Mrs Smith", f"Mr and Mrs {NAME}"),
    ("Professor Sir John Smith", f"Professor Sir {NAME}"),
    ("Dr O'Neill-Brown's advice", f"Dr {NAME} advice"),
    ("saw Dr Müller today", f"saw Dr {NAME} today"),
    ("Dr Patel prescribed it", f"Dr {NAME} prescribed it"),
    # ... and ordinary words after a title are left alone
    ("the nurse was kind", "the nurse was kind"),
    ("nurse jones", "nurse jones"),  # lower case after Nurse/Sister/Doctor/Miss: an ordinary word (documented rule)
    ("my sister came with me", "my sister came with me"),
    ("I miss the old building", "I miss the old building"),
    ("DR WAS LATE", "DR WAS LATE"),
    ("the doctor listened", "the doctor listened"),
    # never redacted: dates, times, money, counts, codes
    ("12/03/2024", "12/03/2024"),
    ("2024-03-12", "2024-03-12"),
    ("12.03.2024 10:30", "12.03.2024 10:30"),
    ("01.01.2024 07:30", "01.01.2024 07:30"),  # its digits pass the modulus 11 check: the grouping says date
    ("2024-03-12 10:30:00", "2024-03-12 10:30:00"),
    ("1 October 2026", "1 October 2026"),
    ("£1,234.56", "£1,234.56"),
    ("£9800 a year", "£9800 a year"),
    ("1,234,567 patients", "1,234,567 patients"),
    ("85.5% positive", "85.5% positive"),
    ("3 of 1,000 responses", "3 of 1,000 responses"),
    ("12345 responses", "12345 responses"),
    ("practice G82002", "practice G82002"),
    ("Z90001 and Y02345", "Z90001 and Y02345"),
    ("U12345 PCN", "U12345 PCN"),
    ("2020 to 2024", "2020 to 2024"),
    ("Room 101, ext 1234", "Room 101, ext 1234"),
    ("reference C-2024-0012", "reference C-2024-0012"),
    ("waited 45 mins at 9am", "waited 45 mins at 9am"),
    ("0.5 mg twice daily", "0.5 mg twice daily"),
    ("version 1.2.3", "version 1.2.3"),
    ("", ""),
]


def test_the_table_has_enough_forms():
    assert len(FORMS) >= 50
    assert sum(a == b for a, b in FORMS) >= 20  # negative cases too


@pytest.mark.parametrize("written, seen", FORMS, ids=[f"{i:02d}-{a[:24]}" for i, (a, _) in enumerate(FORMS)])
def test_redaction_table(written, seen):
    assert redact(written) == seen


def test_missing_text_stays_missing():
    assert redact(None) is None and redact(float("nan")) is None


def test_nhs_numbers_keep_the_modulus_11_check():
    assert is_valid_nhs_number("943 476 5919") and not is_valid_nhs_number("943 476 5918")
    assert not is_valid_nhs_number("123456789")


ADMIN = Viewer("admin@test.invalid", "admin")
BOARD = Viewer("board@test.invalid", "board")
LEAD = Viewer("lead@test.invalid", "practice_lead", ("Z90001",))


@pytest.mark.parametrize("viewer", [BOARD, LEAD, Viewer("v@test.invalid", "viewer")])
def test_screens_downloads_and_packs_redact_the_same(viewer):
    """One function: what a non-admin sees on screen (and so in the page's CSV) is what a pack says."""
    pack = Redactor([])
    for written, seen in FORMS:
        assert redact_for(viewer, written) == seen
        if written:
            assert pack(written) == seen


def test_admins_keep_the_original_on_screen_but_not_in_packs():
    text = "DR SMITH gave me 943.476.5919, ring 0044 7700 900123 at ME1  1AA"
    assert redact_for(ADMIN, text) == text
    assert Redactor([])(text) == f"DR {NAME} gave me {NHS}, ring {PHONE} at {POSTCODE}"


def test_packs_also_remove_staff_names_in_any_case_and_spacing():
    clean = Redactor(["Zebedee Quarrington", "Cher"])  # single words are not names enough to remove
    assert clean("zebedee  QUARRINGTON was rude to Cher") == f"{NAME} was rude to Cher"
    assert people_pattern([]) is None and people_pattern(["Cher", None]) is None


# --- the screens, the page downloads and the pack on a database ----------------------------------------------------
PLANTED = "Quokkamarker: DR SMITH said ring 07700.900.123 or 0044 7700 900124, NHS 9434 765 919, post to ME1-1AA"


@pytest.fixture
def planted(fresh_databases, backend, config):
    engine = get_engine(fresh_databases.url(backend))
    demo.build(engine, config, n_practices=2, months=13, seed=3)
    with engine.begin() as conn:
        pid = conn.execute(select(m.Practice.id).where(m.Practice.code == "Z90001")).scalar_one()
        last = conn.execute(select(func.max(m.FFTResponse.response_date))).scalar_one()
        conn.execute(insert(m.FFTResponse).values(practice_id=pid, response_key="planted-ids", response_date=last,
                                                  scale="current", rating=5, comment=PLANTED, mode="SMS"))
        conn.execute(insert(m.Complaint).values(practice_id=pid, reference="PLANTED-C", received_on=last,
                                                category="Staff attitude", summary=PLANTED))
        conn.execute(insert(m.SignificantEvent).values(practice_id=pid, reference="PLANTED-S", event_date=last,
                                                       category="Communication", learning=PLANTED))
    refresh_measures(engine, config)
    return engine


def _leaks(text: str) -> list[str]:
    return [s for s in ("SMITH", "07700", "7700 900124", "9434", "ME1") if s in text]


def test_screens_and_packs_redact_the_planted_identifiers(planted, config):
    window = calc.Filters(period_end=calc.latest_period(planted), months=12)
    for viewer in (BOARD, LEAD):
        said = fb.comments(planted, config, viewer, window, search="quokkamarker")
        comment = " ".join(said.rows["comment"].dropna())
        assert said.matching == 1 and not _leaks(comment) and f"DR {NAME}" in comment
        summary = " ".join(views.complaints_list(planted, viewer, window, "Z90001")["Summary"].dropna())
        learning = " ".join(views.significant_events_list(planted, viewer, window, "Z90001")["Learning"].dropna())
        assert "said ring" in summary and not _leaks(summary) and not _leaks(learning)
        assert fb.comments(planted, config, viewer, window, search="smith").matching == 0  # not findable either
    assert PLANTED in " ".join(fb.comments(planted, config, ADMIN, window, search="quokkamarker").rows["comment"])
    pack = build_pack(planted, config, ADMIN, "Z90001")
    texts = "\n".join(t.frame.astype(str).to_csv() for t in pack.tables())
    assert "said ring" in texts and not _leaks(texts)


def test_a_date_in_a_comment_survives_the_round_trip():
    assert redact(f"Seen on {date(2026, 3, 12):%d.%m.%Y} 10:30 by Dr Okafor") == f"Seen on 12.03.2026 10:30 by Dr {NAME}"
