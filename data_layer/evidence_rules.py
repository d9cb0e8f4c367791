"""The evidence register's rules: its words (document types, CQC's evidence categories, quality statements), what
a review date means, who may read and change which items, and the checks on what people type. Split out of
``data_layer.evidence``, which re-exports the public names."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select

from . import models as m
from .cqc import QUALITY_STATEMENTS
from .models_evidence import EVIDENCE_CATEGORIES, EVIDENCE_DOCUMENT_TYPES, EvidenceItem
from .scope import AccessDenied, Viewer

DOCUMENT_TYPES = dict(zip(EVIDENCE_DOCUMENT_TYPES, ("Policy", "Risk assessment", "Audit", "Meeting minutes",
                                                    "Certificate", "Report", "Other record")))
CATEGORIES = dict(zip(EVIDENCE_CATEGORIES, ("People's experience", "Feedback from staff and leaders",
                                            "Feedback from partners", "Processes", "Outcomes")))
# The CQC evidence category a document type usually is, when the person adding it does not say.
DEFAULT_CATEGORY = {"policy": "processes", "risk_assessment": "processes", "audit": "processes",
                    "meeting_minutes": "staff_feedback", "certificate": "processes", "report": "outcomes",
                    "other": "processes"}
STATEMENT_KQ = {s: kq for kq, group in QUALITY_STATEMENTS.items() for s in group}
STATEMENT_ORDER = {s: i for i, s in enumerate(STATEMENT_KQ)}
FEDERATION = ""  # practice_code of a federation-wide item
FEDERATION_WORDS = "Federation-wide"
DUE_SOON_DAYS = 30
TITLE_MAX = 200
COLUMNS = ["id", "practice_code", "where", "key_question", "quality_statement", "document_type", "type_label",
           "evidence_category", "category_label", "title", "description", "owner_email", "dated", "review_due",
           "review_status", "overdue", "due_soon", "held_as", "file_name", "file_type", "file_size", "link",
           "withdrawn", "updated_by", "updated_at"]
FIELD_LABELS = {"title": "title", "owner_email": "owner", "dated": "date", "review_due": "review due",
                "quality_statement": "quality statement", "key_question": "key question",
                "document_type": "type", "evidence_category": "evidence category", "description": "description",
                "file_sha256": "file", "file_name": "file name", "link": "link", "withdrawn": "withdrawn"}
_UNSET = object()


class EvidenceError(ValueError):
    """Bad input for the register; the message says what to fix, in plain words."""


class EvidenceRefused(EvidenceError, AccessDenied):
    """The person's role does not let them do this."""


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _clean(text) -> str | None:
    text = (text or "").strip() if isinstance(text, str) or text is None else str(text).strip()
    return text or None


def _key(text: str) -> str:
    return "".join(ch for ch in (text or "").lower() if ch.isalnum())


# --------------------------------------------------------------------------------------------------------------------
# Words people type -> what is stored
# --------------------------------------------------------------------------------------------------------------------
def parse_document_type(text: str) -> str:
    """'policy', 'Risk assessment', 'risk-assessment', 'minutes' -> the stored document type."""
    k = _key(text)
    for code, label in DOCUMENT_TYPES.items():
        if k in (_key(code), _key(label)):
            return code
    if k in ("minutes", "meeting"):
        return "meeting_minutes"
    raise EvidenceError(f"unknown type {text!r}: use one of " + ", ".join(v.lower() for v in DOCUMENT_TYPES.values()))


def parse_category(text: str) -> str:
    """A CQC evidence category, by its name or a short form ('people', 'staff', 'partners')."""
    k = _key(text)
    short = {"people": "peoples_experience", "patients": "peoples_experience", "staff": "staff_feedback",
             "leaders": "staff_feedback", "partners": "partner_feedback"}
    for code, label in CATEGORIES.items():
        if k in (_key(code), _key(label)):
            return code
    if k in short:
        return short[k]
    raise EvidenceError(f"unknown evidence category {text!r}: use one of CQC's: "
                        + "; ".join(CATEGORIES.values()))


def parse_statement(text: str) -> tuple[str, str]:
    """A CQC quality statement (any case) -> (key question, statement)."""
    k = _key(text)
    match = next((s for s in STATEMENT_KQ if _key(s) == k), None)
    if match is None:
        raise EvidenceError(f"unknown quality statement {text!r}: use one of CQC's quality statements, e.g. "
                            "'Safe environments' or 'Governance, management and sustainability'")
    return STATEMENT_KQ[match], match


def review_status(review_due: date | None, withdrawn: bool, today: date, soon_days: int = DUE_SOON_DAYS) -> str:
    if withdrawn:
        return "Withdrawn"
    if review_due is None:
        return "No review date"
    if review_due < today:
        return "Review overdue"
    if review_due <= today + timedelta(days=soon_days):
        return "Review due soon"
    return "In date"


# --------------------------------------------------------------------------------------------------------------------
# Who may do what
# --------------------------------------------------------------------------------------------------------------------
def may_read_items(viewer: Viewer) -> bool:
    """Titles, owners and files (not only counts): everyone but viewers."""
    return viewer.role != "viewer"


def may_read(viewer: Viewer, practice_code: str | None) -> bool:
    """May this person read and open the items of ``practice_code`` ('' or None: the federation-wide ones)?"""
    if not may_read_items(viewer):
        return False
    if not practice_code:
        return True
    return viewer.scope.may_see_people(practice_code)


def may_edit(viewer: Viewer, practice_code: str | None) -> bool:
    """May this person add or change items on ``practice_code`` ('' or None: federation-wide)?"""
    if viewer.role in ("admin", "board"):
        return True
    return viewer.role == "practice_lead" and bool(practice_code) and practice_code in viewer.practice_codes


def editable_practices(viewer: Viewer, all_codes) -> tuple[str, ...]:
    """Practice codes this person may add evidence for ('' first when they may add federation-wide items)."""
    codes = tuple(c for c in all_codes if may_edit(viewer, c))
    return ((FEDERATION,) if may_edit(viewer, FEDERATION) else ()) + codes


def _readable(viewer: Viewer):
    if not may_read_items(viewer):
        raise EvidenceRefused(f"{viewer.email} is a viewer and sees how much evidence is held and overdue, not the "
                              "documents themselves")
    if viewer.role in ("admin", "board"):
        return None
    return EvidenceItem.practice_code.in_((FEDERATION, *viewer.practice_codes))


def _refuse_edit(viewer: Viewer, practice_code: str) -> None:
    if may_edit(viewer, practice_code):
        return
    if viewer.role == "practice_lead":
        where = f"practice {practice_code}" if practice_code else "the whole federation"
        raise EvidenceRefused(f"{viewer.email} is a practice lead and may add or change evidence only for their own "
                              f"practice ({', '.join(viewer.practice_codes) or 'none'}), not for {where}")
    raise EvidenceRefused(f"{viewer.email} is a {viewer.label.lower()} and may not add or change evidence")


# --------------------------------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------------------------------
def _check_practice(conn, code: str | None) -> str:
    code = (code or "").strip().upper()
    if code and conn.execute(select(m.Practice.id).where(m.Practice.code == code)).first() is None:
        raise EvidenceError(f"unknown practice {code}: it is not one of the federation's practices")
    return code


def _check_owner(conn, email: str | None, practice_code: str) -> str:
    email = (email or "").strip().lower()
    if not email:
        raise EvidenceError("evidence needs an owner: give the email of a user (--owner EMAIL)")
    user = conn.execute(select(m.User.id, m.User.role, m.User.active).where(m.User.email == email)).one_or_none()
    if user is None or not user.active:
        raise EvidenceError(f"unknown owner {email}: the owner must be a user who can sign in (add them with: "
                            "python -m data_layer users add EMAIL --role ROLE)")
    if user.role == "viewer":
        raise EvidenceError(f"{email} is a viewer and could not open the document; choose an owner who is a board "
                            "member, administrator or practice lead")
    if user.role == "practice_lead" and practice_code:
        own = set(conn.execute(select(m.UserPractice.practice_code).where(m.UserPractice.user_id == user.id))
                  .scalars())
        if practice_code not in own:
            raise EvidenceError(f"{email} is a practice lead for {', '.join(sorted(own)) or 'no practice'} and could "
                                f"not open {practice_code}'s evidence; choose an owner at that practice or on the "
                                "board")
    return email


def _check_title(title) -> str:
    title = _clean(title)
    if not title:
        raise EvidenceError("evidence needs a title (--title TEXT), e.g. 'Fire risk assessment 2026'")
    if len(title) > TITLE_MAX:
        raise EvidenceError(f"the title is {len(title)} characters long; keep it to {TITLE_MAX}")
    return title


def _check_dates(dated, review_due, today: date) -> tuple[date, date | None]:
    if isinstance(dated, datetime):
        dated = dated.date()
    if not isinstance(dated, date):
        raise EvidenceError("evidence needs the date of the document (YYYY-MM-DD): when it was approved, carried "
                            "out or held")
    if dated > today:
        raise EvidenceError(f"the date {dated.isoformat()} is in the future; give the date the document was "
                            "approved, carried out or held")
    if isinstance(review_due, datetime):
        review_due = review_due.date()
    if review_due is not None and review_due < dated:
        raise EvidenceError(f"the review date {review_due.isoformat()} is before the document's date "
                            f"{dated.isoformat()}")
    return dated, review_due


def _check_link(link) -> str:
    link = _clean(link)
    if not link or not link.lower().startswith(("https://", "http://")) or any(c.isspace() for c in link):
        raise EvidenceError(f"the link {link!r} is not a web address: give one starting https:// (e.g. the "
                            "document's place on the practice's SharePoint)")
    if len(link) > 1000:
        raise EvidenceError("the link is longer than 1,000 characters")
    return link
