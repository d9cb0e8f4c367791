"""The evidence register: the policies, risk assessments, audits, meeting minutes, certificates and other records a
practice (or the federation) holds as evidence for CQC's quality statements, each with an owner, a date, a review date
and either a stored file or a link.

Who may do what (``data_layer.scope``):
* administrators and board members read and open every item, and add and change items on every practice and on the
  federation as a whole;
* a practice lead reads and opens their own practice's items and the federation-wide ones (a federation policy is
  evidence for their practice too), and adds and changes their own practice's items only;
* a viewer sees counts only (held, overdue, by key question and statement: ``summary``), never titles or files -
  the register's documents are a practice's records, like its complaints, and a viewer sees aggregates only.
What decides is the scope (role and practices), never the person, so UI caches keyed by scope stay correct.

Overdue is derived, never stored: a review due before today on an item not withdrawn. Every change is in the audit
log, and so is every opening of a file. Files are checked and kept by ``data_layer.evidence_files``; this module is
the only way to them (``open_file`` checks the scope first).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from . import audit
from . import evidence_files as files
from . import models as m
from .cqc import KEY_QUESTIONS
from .evidence_rules import (CATEGORIES, COLUMNS, DEFAULT_CATEGORY, DOCUMENT_TYPES, DUE_SOON_DAYS, FEDERATION,
                             FEDERATION_WORDS, FIELD_LABELS, STATEMENT_KQ, STATEMENT_ORDER, TITLE_MAX, EvidenceError,
                             EvidenceRefused, _UNSET, _check_dates, _check_link, _check_owner, _check_practice,
                             _check_title, _clean, _now, _readable, _refuse_edit, editable_practices, may_edit,
                             may_read, may_read_items, parse_category, parse_document_type, parse_statement,
                             review_status)
from .models_evidence import EvidenceItem
from .scope import Viewer


@dataclass(frozen=True)
class EvidenceFile:
    data: bytes
    file_name: str  # the name to download it as
    mime: str
    title: str


def _file_values(engine: Engine, data: bytes | None, file_name: str | None, link, store_dir: Path | None) -> dict:
    """The columns for a stored file or a link (exactly one), storing the file."""
    if data is not None and _clean(link):
        raise EvidenceError("give a file or a link, not both")
    if data is None:
        if not _clean(link):
            raise EvidenceError("evidence needs a file (--file PATH) or a link (--link URL)")
        return {"file_sha256": None, "file_name": None, "file_type": None, "file_size": None,
                "link": _check_link(link)}
    try:
        kind = files.check_file(data, file_name or "")
    except files.FileRefused as exc:
        raise EvidenceError(f"{file_name or 'the file'} was not stored: {exc}") from None
    sha = files.store(store_dir or files.evidence_dir(engine), data)
    return {"file_sha256": sha, "file_name": files.download_name(file_name, kind.extension), "file_type": kind.mime,
            "file_size": len(data), "link": None}


def _words(v) -> str:
    return v.isoformat() if isinstance(v, date) else str(v)


# --------------------------------------------------------------------------------------------------------------------
# Changes
# --------------------------------------------------------------------------------------------------------------------
def add_evidence(engine: Engine, viewer: Viewer, *, title: str, quality_statement: str, document_type: str,
                 owner_email: str, dated: date, review_due: date | None = None, practice_code: str | None = None,
                 evidence_category: str | None = None, description: str | None = None, file_bytes: bytes | None = None,
                 file_name: str | None = None, link: str | None = None, store_dir: Path | None = None,
                 today: date | None = None) -> int:
    """Add an item; returns its id. Refused (EvidenceError) with a plain message for bad input, a file that may not
    be kept, or a role that may not add it. The audit log records it in the same transaction."""
    today = today or date.today()
    title = _check_title(title)
    kq, statement = parse_statement(quality_statement)
    dtype = parse_document_type(document_type)
    category = parse_category(evidence_category) if _clean(evidence_category) else DEFAULT_CATEGORY[dtype]
    dated, review_due = _check_dates(dated, review_due, today)
    with engine.begin() as conn:
        code = _check_practice(conn, practice_code)
        _refuse_edit(viewer, code)
        owner = _check_owner(conn, owner_email, code)
        held = conn.execute(select(EvidenceItem.id).where(
            EvidenceItem.practice_code == code, EvidenceItem.quality_statement == statement,
            EvidenceItem.title == title, EvidenceItem.dated == dated)).scalar()
        if held is not None:
            raise EvidenceError(f"{title!r} dated {dated.isoformat()} is already held for {statement} (item {held}); "
                                "change that item instead, or give the new version its own date")
        fv = _file_values(engine, file_bytes, file_name, link, store_dir)
        now = _now()
        values = {"practice_code": code, "key_question": kq, "quality_statement": statement, "document_type": dtype,
                  "evidence_category": category, "title": title, "description": _clean(description),
                  "owner_email": owner, "dated": dated, "review_due": review_due, **fv, "withdrawn": False,
                  "created_by": viewer.email, "created_at": now, "updated_by": viewer.email, "updated_at": now}
        try:
            item_id = conn.execute(insert(EvidenceItem).values(**values)).inserted_primary_key[0]
        except IntegrityError:  # another session added the same item a moment ago
            raise EvidenceError(f"{title!r} dated {dated.isoformat()} is already held for {statement}") from None
        held_as = (f"file {fv['file_name']} ({fv['file_size']:,} bytes, sha256 {fv['file_sha256'][:12]})"
                   if fv["file_sha256"] else f"link {fv['link']}")
        audit.record(conn, viewer.email, "evidence_added", code or None,
                     f"evidence {item_id} {title!r}: {statement} ({kq}), {DOCUMENT_TYPES[dtype].lower()}, "
                     f"{CATEGORIES[category].lower()}, owner {owner}, dated {dated.isoformat()}, review due "
                     f"{review_due.isoformat() if review_due else 'none'}, {held_as}")
    return int(item_id)


def update_evidence(engine: Engine, viewer: Viewer, item_id: int, *, title=None, quality_statement=None,
                    document_type=None, evidence_category=None, owner_email=None, dated=None, review_due=_UNSET,
                    description=None, file_bytes: bytes | None = None, file_name: str | None = None, link=None,
                    withdrawn: bool | None = None, store_dir: Path | None = None, today: date | None = None) -> dict:
    """Change an item (a new review date after a review, a new version of the file, a new owner, withdrawn);
    returns what changed ({field: [old, new]}). ``review_due=None`` clears the review date."""
    today = today or date.today()
    with engine.begin() as conn:
        row = conn.execute(select(EvidenceItem).where(EvidenceItem.id == item_id)).mappings().one_or_none()
        if row is None or not may_read(viewer, row["practice_code"]):
            raise EvidenceError(f"there is no evidence item {item_id}" + (
                "" if row is None else " that you may see"))
        cur = dict(row)
        _refuse_edit(viewer, cur["practice_code"])
        new: dict = {}
        if title is not None:
            new["title"] = _check_title(title)
        if quality_statement is not None:
            new["key_question"], new["quality_statement"] = parse_statement(quality_statement)
        if document_type is not None:
            new["document_type"] = parse_document_type(document_type)
        if evidence_category is not None:
            new["evidence_category"] = parse_category(evidence_category)
        if owner_email is not None:
            new["owner_email"] = _check_owner(conn, owner_email, cur["practice_code"])
        if description is not None:
            new["description"] = _clean(description)
        if withdrawn is not None:
            new["withdrawn"] = bool(withdrawn)
        if dated is not None or review_due is not _UNSET:
            new["dated"], new["review_due"] = _check_dates(
                dated if dated is not None else cur["dated"],
                cur["review_due"] if review_due is _UNSET else review_due, today)
        if file_bytes is not None or _clean(link):
            new.update(_file_values(engine, file_bytes, file_name, link, store_dir))
        changes = {k: [_jsonable(cur[k]), _jsonable(v)] for k, v in new.items()
                   if cur[k] != v and k not in ("file_type", "file_size")}
        if not changes:
            raise EvidenceError(f"nothing to change on evidence item {item_id}")
        try:
            conn.execute(update(EvidenceItem).where(EvidenceItem.id == item_id).values(
                **{k: v for k, v in new.items() if cur[k] != v}, updated_by=viewer.email, updated_at=_now()))
        except IntegrityError:
            raise EvidenceError("another item already has that title, statement and date") from None
        audit.record(conn, viewer.email, "evidence_updated", cur["practice_code"] or None,
                     f"evidence {item_id} {cur['title']!r}: " + describe_changes(changes))
    return changes


def _jsonable(v):
    return v.isoformat() if isinstance(v, date) else v


def describe_changes(changes: dict) -> str:
    bits = []
    for k, (old, new) in changes.items():
        if k == "file_sha256":
            bits.append("new file" if new else "file replaced by a link")
            continue
        bits.append(f"{FIELD_LABELS.get(k, k)} {old if old is not None else '(none)'} → "
                    f"{new if new is not None else '(none)'}")
    return "; ".join(bits)


# --------------------------------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------------------------------
def _practice_names(conn) -> dict[str, str]:
    return dict(conn.execute(select(m.Practice.code, m.Practice.name)).all())


def list_evidence(engine: Engine, viewer: Viewer, *, practice_codes=None, key_question: str | None = None,
                  quality_statement: str | None = None, overdue: bool | None = None, include_withdrawn: bool = False,
                  today: date | None = None, soon_days: int = DUE_SOON_DAYS) -> pd.DataFrame:
    """Items this viewer may read, in CQC's order of quality statements, overdue first within each.

    ``practice_codes``: items of these practices and the federation-wide ones (a sidebar filter or a pack's scope).
    Viewers are refused (EvidenceRefused): they read ``summary``."""
    today = today or date.today()
    stmt = select(*[getattr(EvidenceItem, c) for c in COLUMNS if hasattr(EvidenceItem, c)], EvidenceItem.file_sha256)
    where = _readable(viewer)
    if where is not None:
        stmt = stmt.where(where)
    if practice_codes:
        stmt = stmt.where(EvidenceItem.practice_code.in_((FEDERATION, *practice_codes)))
    if key_question:
        stmt = stmt.where(EvidenceItem.key_question == key_question)
    if quality_statement:
        stmt = stmt.where(EvidenceItem.quality_statement == parse_statement(quality_statement)[1])
    if not include_withdrawn:
        stmt = stmt.where(EvidenceItem.withdrawn.is_(False))
    if overdue is True:
        stmt = stmt.where(and_(EvidenceItem.review_due < today, EvidenceItem.withdrawn.is_(False)))
    elif overdue is False:
        stmt = stmt.where(or_(EvidenceItem.review_due.is_(None), EvidenceItem.review_due >= today))
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(stmt).mappings()]
        names = _practice_names(conn)
    for d in rows:
        d["where"] = names.get(d["practice_code"], d["practice_code"]) if d["practice_code"] else FEDERATION_WORDS
        d["type_label"] = DOCUMENT_TYPES[d["document_type"]]
        d["category_label"] = CATEGORIES[d["evidence_category"]]
        d["review_status"] = review_status(d["review_due"], d["withdrawn"], today, soon_days)
        d["overdue"] = d["review_status"] == "Review overdue"
        d["due_soon"] = d["review_status"] == "Review due soon"
        d["held_as"] = "file" if d.pop("file_sha256") else "link"
    df = pd.DataFrame(rows, columns=COLUMNS)
    df["overdue"] = df["overdue"].astype(bool)
    df["due_soon"] = df["due_soon"].astype(bool)
    if df.empty:
        return df
    df["_o"] = df["quality_statement"].map(STATEMENT_ORDER)
    return df.sort_values(["_o", "overdue", "review_due", "title"], ascending=[True, False, True, True],
                          na_position="last").drop(columns="_o").reset_index(drop=True)


def get_evidence(engine: Engine, viewer: Viewer, item_id: int, today: date | None = None) -> dict | None:
    """One item as a dict, or None when it does not exist or this viewer may not read it."""
    df = list_evidence(engine, viewer, include_withdrawn=True, today=today)
    hit = df[df["id"] == int(item_id)]
    return None if hit.empty else hit.iloc[0].to_dict()


def summary(engine: Engine, viewer: Viewer, practice_codes=None, today: date | None = None) -> pd.DataFrame:
    """Counts by key question and quality statement (every statement, CQC's order): held, overdue, due soon. Counts
    only, so every role may read them (a viewer's view of the register)."""
    today = today or date.today()
    stmt = select(EvidenceItem.quality_statement, EvidenceItem.review_due).where(EvidenceItem.withdrawn.is_(False))
    if practice_codes:
        stmt = stmt.where(EvidenceItem.practice_code.in_((FEDERATION, *practice_codes)))
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    counts = {s: [0, 0, 0] for s in STATEMENT_KQ}
    for statement, due in rows:
        c = counts[statement]
        c[0] += 1
        status = review_status(due, False, today)
        c[1] += status == "Review overdue"
        c[2] += status == "Review due soon"
    return pd.DataFrame([(STATEMENT_KQ[s], s, *c) for s, c in counts.items()],
                        columns=["key_question", "quality_statement", "held", "overdue", "due_soon"])


def overdue_total(engine: Engine, practice_codes=None, today: date | None = None) -> int:
    """How many reviews are overdue (a count: for the attention list of people who may not read the items)."""
    return int(summary(engine, Viewer("system", "viewer"), practice_codes, today)["overdue"].sum())


OVERDUE_COLUMNS = ["practice_code", "where", "count", "oldest_due", "titles"]


def overdue_by_practice(engine: Engine, viewer: Viewer, practice_codes=None, today: date | None = None
                        ) -> pd.DataFrame:
    """Overdue reviews per practice (and one row for the federation-wide items), most overdue first: the "what needs
    attention" input. A viewer gets one row of counts for all of them together, with no titles."""
    today = today or date.today()
    if not may_read_items(viewer):
        n = overdue_total(engine, practice_codes, today)
        rows = [("", "All practices", n, None, "")] if n else []
        return pd.DataFrame(rows, columns=OVERDUE_COLUMNS)
    items = list_evidence(engine, viewer, practice_codes=practice_codes, overdue=True, today=today)
    rows = []
    for (code, where), g in items.groupby(["practice_code", "where"], sort=False):
        g = g.sort_values("review_due")
        rows.append((code, where, len(g), g["review_due"].iloc[0],
                     "; ".join(f"{t} (due {d.day} {d:%B %Y})" for t, d in zip(g["title"], g["review_due"]))))
    df = pd.DataFrame(rows, columns=OVERDUE_COLUMNS)
    return df.sort_values(["oldest_due", "where"]).reset_index(drop=True) if len(df) else df


def open_file(engine: Engine, viewer: Viewer, item_id: int, store_dir: Path | None = None) -> EvidenceFile:
    """The stored file of an item, for someone who may read that practice's records (EvidenceRefused otherwise;
    EvidenceError for an item held as a link or a file missing from the store). Every opening is audited."""
    with engine.connect() as conn:
        row = conn.execute(select(EvidenceItem.practice_code, EvidenceItem.title, EvidenceItem.file_sha256,
                                  EvidenceItem.file_name, EvidenceItem.file_type)
                           .where(EvidenceItem.id == int(item_id))).one_or_none()
    if row is None:
        raise EvidenceError(f"there is no evidence item {item_id}")
    if not may_read(viewer, row.practice_code):
        who = ("a viewer sees counts only" if viewer.role == "viewer" else
               f"a practice lead opens only their own practice's ({', '.join(viewer.practice_codes) or 'none'}) and "
               "the federation-wide evidence")
        raise EvidenceRefused(f"{viewer.email} may not open evidence item {item_id} of practice {row.practice_code}: "
                              f"{who}")
    if not row.file_sha256:
        raise EvidenceError(f"evidence item {item_id} is held as a link, not a file")
    try:
        data = files.read(store_dir or files.evidence_dir(engine), row.file_sha256)
    except files.FileMissing as exc:
        raise EvidenceError(f"the file of evidence item {item_id} cannot be opened: {exc}") from None
    audit.record(engine, viewer.email, "evidence_opened", row.practice_code or None,
                 f"evidence {item_id} {row.title!r}: file {row.file_name}")
    return EvidenceFile(data=data, file_name=row.file_name or "evidence", mime=row.file_type or
                        "application/octet-stream", title=row.title)


__all__ = ["CATEGORIES", "DOCUMENT_TYPES", "EvidenceError", "EvidenceFile", "EvidenceRefused", "KEY_QUESTIONS",
           "add_evidence", "editable_practices", "get_evidence", "list_evidence", "may_edit", "may_read",
           "open_file", "overdue_by_practice", "overdue_total", "summary", "update_evidence"]
