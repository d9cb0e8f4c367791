"""The demo federation's evidence register: a handful of policies, risk assessments, audits, certificates and
minutes per practice and a few federation-wide ones, with tiny generated PDF and text files (each says it is
fictional). Stories a board would spot:

* **Millstream Surgery** (whose training also slides) is behind on its premises checks: its fire and legionella risk
  assessments are overdue for review;
* **Kingfisher Medical Centre** (the demo practice lead's) has one review overdue, its infection control audit;
* the federation's dementia drop-in partnership with the Alzheimer's Society is evidenced by a link to its review.

Dates are counted back from today, so the same items are overdue whenever the demo is built. Rows go straight in
(one audit row, ``demo_built``, covers the whole build); the files go to the evidence store like uploads.
"""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import Engine, delete, insert, select

from . import evidence_files as files
from . import models as m
from .evidence_rules import DEFAULT_CATEGORY, STATEMENT_KQ
from .models_evidence import EvidenceItem

BUILDER = "demo builder"
# (statement, document type, CQC evidence category or None for the type's usual one, title, review every N months
#  (None: nothing to review), held as "pdf" / "text" / "link")
PRACTICE_ITEMS = (
    ("Safe environments", "risk_assessment", None, "Fire risk assessment", 12, "pdf"),
    ("Safe environments", "risk_assessment", None, "Legionella risk assessment", 24, "pdf"),
    ("Safe environments", "certificate", None, "Gas safety certificate", 12, "pdf"),
    ("Infection prevention and control", "audit", None, "Infection prevention and control audit", 12, "pdf"),
    ("Safeguarding", "policy", None, "Safeguarding children and adults policy", 12, "pdf"),
    ("Medicines optimisation", "audit", "outcomes", "Controlled drugs audit", 12, "pdf"),
    ("Listening to and involving people", "meeting_minutes", "peoples_experience",
     "Patient Participation Group minutes", None, "text"),
    ("Freedom to speak up", "policy", None, "Freedom to speak up policy", 24, "link"),
    ("Workforce wellbeing and enablement", "report", "staff_feedback", "Staff survey results and actions", 12,
     "text"),
)
FEDERATION_ITEMS = (
    ("Governance, management and sustainability", "policy", "processes", "Federation governance framework", 12, "pdf"),
    ("Learning culture", "policy", "processes", "Significant event analysis policy", 24, "pdf"),
    ("Partnerships and communities", "meeting_minutes", "partner_feedback",
     "Dementia drop-in clinics with the Alzheimer's Society: partnership review", None, "link"),
    ("Shared direction and culture", "report", "staff_feedback", "Federation staff pulse survey summary", 12, "text"),
)
MILLSTREAM_OVERDUE = ("Fire risk assessment", "Legionella risk assessment")
KINGFISHER_OVERDUE = ("Infection prevention and control audit",)
FILES_FOR_FIRST = 20  # practices whose documents are generated files (the rest: links)


def _months_back(today: date, months: int) -> date:
    y, mo = divmod(today.month - 1 - months, 12)
    return date(today.year + y, mo + 1, min(today.day, 28))


def _pdf(title: str, where: str, dated: date) -> bytes:
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    pdf = FPDF()
    pdf.set_compression(True)
    pdf.set_creation_date(datetime(dated.year, dated.month, dated.day, tzinfo=timezone.utc))  # same bytes each build
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.multi_cell(0, 9, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", "", 11)
    pdf.multi_cell(0, 7, f"{where}\nDated {dated:%d %B %Y}\n\nFICTIONAL DEMO DOCUMENT: this file was generated for "
                         "the demo federation and describes no real practice.")
    return bytes(pdf.output())


def _text(title: str, where: str, dated: date) -> bytes:
    return (f"{title}\n{where}\nDated {dated:%d %B %Y}\n\nFictional demo document: generated for the demo "
            "federation; it describes no real practice.\n").encode("utf-8")


def _row(spec, practice_code: str, where: str, owner: str, dated: date, today: date, data_dir) -> dict:
    statement, dtype, category, title, review_months, held_as = spec
    review = None
    if review_months:
        y, mo = divmod(dated.month - 1 + review_months, 12)
        review = date(dated.year + y, mo + 1, min(dated.day, 28))
    values = {"file_sha256": None, "file_name": None, "file_type": None, "file_size": None, "link": None}
    if held_as == "link":
        values["link"] = f"https://sharepoint.demo.invalid/evidence/{practice_code or 'federation'}/" + \
            "-".join(title.lower().replace(":", "").replace("'", "").split())
    else:
        data = _pdf(title, where, dated) if held_as == "pdf" else _text(title, where, dated)
        kind = files.check_file(data, "x.txt")
        values.update(file_sha256=files.store(data_dir, data), file_name=files.download_name(title, kind.extension),
                      file_type=kind.mime, file_size=len(data))
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    return {"practice_code": practice_code, "key_question": STATEMENT_KQ[statement], "quality_statement": statement,
            "document_type": dtype, "evidence_category": category or DEFAULT_CATEGORY[dtype], "title": title,
            "description": None, "owner_email": owner, "dated": dated, "review_due": review, **values,
            "withdrawn": False, "created_by": BUILDER, "created_at": now, "updated_by": BUILDER, "updated_at": now}


def build_evidence(engine: Engine, seed: int = 42, today: date | None = None) -> int:
    """Replace the register with the demo's items; returns how many."""
    today = today or date.today()
    rng = random.Random(seed)
    data_dir = files.evidence_dir(engine)
    with engine.connect() as conn:
        practices = conn.execute(select(m.Practice.code, m.Practice.name).order_by(m.Practice.code)).all()
        leads = dict(conn.execute(select(m.UserPractice.practice_code, m.User.email).join(
            m.User, m.User.id == m.UserPractice.user_id).where(m.User.role == "practice_lead")).all())
        users = set(conn.execute(select(m.User.email)).scalars())
    board = "board@demo.invalid" if "board@demo.invalid" in users else next(iter(sorted(users)), BUILDER)
    admin = "admin@demo.invalid" if "admin@demo.invalid" in users else board
    rows = []
    for i, (code, name) in enumerate(practices):
        owner = leads.get(code, board)
        must = MILLSTREAM_OVERDUE if "Millstream" in name else KINGFISHER_OVERDUE if "Kingfisher" in name else ()
        chosen = [s for s in PRACTICE_ITEMS if s[3] in must or rng.random() < 0.6][:7]
        for spec in chosen:
            review_months = spec[4]
            if spec[3] in must:  # overdue by one to five months
                dated = _months_back(today, review_months + 1 + rng.randrange(5))
            elif review_months and rng.random() < 0.12 and i % 3 == 1:  # the odd one elsewhere
                dated = _months_back(today, review_months + 1)
            else:
                dated = _months_back(today, rng.randrange(1, (review_months or 6)))
            if i >= FILES_FOR_FIRST:  # an ICB-sized demo links to its documents instead of generating them
                spec = (*spec[:5], "link")
            rows.append(_row(spec, code, name, owner, dated, today, data_dir))
    for j, spec in enumerate(FEDERATION_ITEMS):
        dated = _months_back(today, 2 + 3 * j)
        rows.append(_row(spec, "", "The federation", admin, dated, today, data_dir))
    with engine.begin() as conn:
        conn.execute(delete(EvidenceItem))
        if rows:
            conn.execute(insert(EvidenceItem), rows)
    return len(rows)
