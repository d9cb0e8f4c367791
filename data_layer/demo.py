"""A deterministic, realistic, fictional demo federation.

Invented practice names and codes (``Z9…``: no real ODS GP code starts with Z), invented staff and comments. The same
seed gives the same data on SQLite and PostgreSQL. Stories a board would spot are built in:

* **Harbour View Surgery**'s FFT falls after its phone system changed (month -18) and recovers five months later;
* **Millstream Surgery**'s training compliance slides over the last year as renewals are missed;
* diabetes HbA1c control improves across the federation from month -16 (a sustained shift, after a federation-wide
  diabetes recall project), and domestic abuse referrals rise four-fold from month -18 as the domestic abuse
  awareness training (rolled out in the first half-year) takes effect, as in the seed partnership's story.

The generator scales: ``generate(n_practices=200, months=60)`` fills an ICB-sized database for benchmarks.

The generators live in ``demo_data`` (issue 10: no file over ~500 lines); this module writes them to the database,
says whether a database is the demo, and re-exports every generator name (``demo.generate`` etc.).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Callable

import pandas as pd
from sqlalchemy import Connection, Engine, delete, insert, select

from . import models as m
from . import models_records as rec
from .bulk import insert_frame, record_batch
from .config import FederationConfig

# The generators and their data (re-exported: ``demo.<name>`` still works).
from .demo_data import (
    COMPLAINT_CATEGORIES,
    COMPLAINT_OUTCOMES,
    default_end_month,
    DOCTOR_SURNAMES,
    FIRST_NAMES,
    generate,
    HARBOUR_VIEW,
    LAST_NAMES,
    MILLSTREAM,
    MODE_P,
    MODES,
    NAME_PARTS_A,
    NAME_PARTS_B,
    NEGATIVE_COMMENTS,
    NEUTRAL_COMMENTS,
    ORCHARD,
    PCN_NAMES,
    POSITIVE_COMMENTS,
    PRACTICE_NAMES,
    PUBLISHED_DEMO,
    RAW_PROPORTIONS,
    ROLE_RATIOS,
    SEA_CATEGORIES,
    SEA_LEARNING,
)

DEMO_FLAG = "demo_federation"
# The practice records (data_layer/demo_records.py) by the key the generator returns them under.
RECORD_TABLES = {"workforce": rec.WorkforceMonth, "staff_survey": rec.StaffSurveyResult,
                 "ppg_meetings": rec.PPGMeeting, "premises_checks": rec.PremisesCheck,
                 "abuse_incidents": rec.AbuseIncident}


@dataclass
class DemoSummary:
    practices: int
    staff: int
    training_completions: int
    fft_responses: int
    indicator_values: int
    complaints: int
    significant_events: int
    seconds: dict[str, float] = field(default_factory=dict)


def build(engine: Engine, config: FederationConfig, n_practices: int = 11, months: int = 36, seed: int = 42,
          end_month: date | None = None, progress: Callable[[str], None] | None = None) -> DemoSummary:
    """Replace the database's contents with the demo federation (one transaction), then compute derived indicators."""
    import time

    from .measures.refresh import refresh

    say = progress or (lambda _msg: None)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    say("Generating the demo federation…")
    data = generate(config, n_practices, months, seed, end_month)
    from .demo_records import generate_records

    records = generate_records(config, data["practices"], data["staff"], months, end_month or default_end_month(),
                               seed)
    if len(records["dementia"]):
        data["indicators"] = pd.concat([data["indicators"], records.pop("dementia")], ignore_index=True)
    records.pop("dementia", None)
    timings["generate"] = time.perf_counter() - t0

    t1 = time.perf_counter()
    say("Writing it to the database…")
    with engine.begin() as conn:
        for table in (m.IndicatorValue, m.TrainingCompletion, m.FFTResponse, m.FFTMonthlyCount, m.Complaint,
                      m.SignificantEvent, *RECORD_TABLES.values(), m.Staff, m.Practice, m.ImportBatch):
            conn.execute(delete(table))
        conn.execute(delete(m.AppMeta).where(m.AppMeta.key == DEMO_FLAG))
        batch = record_batch(conn, "demo", f"demo federation (seed {seed}, {n_practices} practices, {months} months)",
                             "-", "demo builder")
        practices = data["practices"].assign(batch_id=batch)
        insert_frame(conn, m.Practice.__table__, practices)
        ids = dict(conn.execute(select(m.Practice.code, m.Practice.id)).all())

        staff = data["staff"].assign(practice_id=data["staff"]["practice_code"].map(ids), batch_id=batch)
        insert_frame(conn, m.Staff.__table__, staff)
        staff_ids = dict(conn.execute(select(m.Staff.staff_code, m.Staff.id)).all())

        training = data["training"].assign(staff_id=data["training"]["staff_code"].map(staff_ids), batch_id=batch)
        insert_frame(conn, m.TrainingCompletion.__table__, training)

        for key, table in (("fft", m.FFTResponse), ("indicators", m.IndicatorValue), ("complaints", m.Complaint),
                           ("significant_events", m.SignificantEvent), *RECORD_TABLES.items()):
            frame = records[key] if key in RECORD_TABLES else data[key]
            frame = frame.assign(practice_id=frame["practice_code"].map(ids), batch_id=batch)
            insert_frame(conn, table.__table__, frame)
        total = sum(len(v) for v in data.values()) + sum(len(v) for v in records.values())
        conn.execute(m.ImportBatch.__table__.update().where(m.ImportBatch.id == batch).values(rows_new=total))
        conn.execute(insert(m.AppMeta).values(key=DEMO_FLAG, value=datetime.now(timezone.utc).isoformat()))
    timings["write"] = time.perf_counter() - t1

    from .audit import record
    from .users import add_demo_users

    add_demo_users(engine)
    from .evidence_demo import build_evidence

    build_evidence(engine, seed)  # the evidence register: policies, risk assessments, audits (some overdue)
    record(engine, "demo builder", "demo_built", None, f"seed {seed}, {n_practices} practices, {months} months")

    t2 = time.perf_counter()
    say("Working out every figure (derived indicators, every practice, PCN and the federation)…")
    derived_rows = refresh(engine, config, reason=f"demo built (seed {seed})", progress=say).derived_values
    timings["derive"] = time.perf_counter() - t2
    return DemoSummary(
        practices=len(data["practices"]),
        staff=len(data["staff"]),
        training_completions=len(data["training"]),
        fft_responses=len(data["fft"]),
        indicator_values=len(data["indicators"]) + derived_rows,
        complaints=len(data["complaints"]),
        significant_events=len(data["significant_events"]),
        seconds=timings,
    )


# ---------------------------------------------------------------------------------------------------------------
# Demo mode: the whole database is the fictional federation, or it is not a demo at all
# ---------------------------------------------------------------------------------------------------------------
DEMO_CODE = re.compile(r"Z9\d{4}")
DEMO_BATCH_KINDS = ("demo", "derived")
# Tables whose rows the demo builder replaces (each row names the import batch it came from).
_REPLACED = (m.Practice, m.Staff, m.TrainingCompletion, m.FFTResponse, m.FFTMonthlyCount, m.IndicatorValue,
             m.Complaint, m.SignificantEvent, *RECORD_TABLES.values())


def is_demo_code(code: str | None) -> bool:
    """True for the demo's invented practice codes (``Z9`` and four digits: no real ODS GP code starts with Z)."""
    return bool(code) and DEMO_CODE.fullmatch(str(code).strip().upper()) is not None


def _non_demo_practices(conn) -> list[str]:
    codes = conn.execute(select(m.Practice.code).where(m.Practice.code.not_like("Z9%")).limit(6)).scalars().all()
    more = conn.execute(select(m.Practice.code).where(m.Practice.code.like("Z9%"))).scalars().all()
    return [*codes, *[c for c in more if not is_demo_code(c)]][:6]


def is_demo(target: Engine | Connection) -> bool:
    """True when the database is the demo federation: marked by the demo builder *and* every practice in it is a
    demo practice. A real practice in the database (however it got there) ends demo mode, so the anonymous demo
    picker is never offered over real data."""
    def check(conn) -> bool:
        if conn.execute(select(m.AppMeta.value).where(m.AppMeta.key == DEMO_FLAG)).first() is None:
            return False
        return not _non_demo_practices(conn)

    if isinstance(target, Connection):
        return check(target)
    with target.connect() as conn:
        return check(conn)


def import_refusal(conn: Connection, practice_codes=()) -> str | None:
    """Why an import may not go into this database, or None. Called by the import pipeline inside its transaction,
    after its writes: on the demo database, an import naming (or adding) any practice that is not a demo practice is
    refused, so real data never sits behind the demo's sign-in-free picker."""
    if conn.execute(select(m.AppMeta.value).where(m.AppMeta.key == DEMO_FLAG)).first() is None:
        return None
    real = sorted({str(c).strip().upper() for c in practice_codes if c and not is_demo_code(c)})
    real += [c for c in _non_demo_practices(conn) if c not in real]
    if not real:
        return None
    shown = ", ".join(real[:5]) + (" …" if len(real) > 5 else "")
    return (f"This is the demo database (fictional practices, shown without sign-in), so real data cannot be "
            f"imported into it: the file names practice {shown}, which is not a demo practice (demo codes are Z9 "
            "and four digits). Start a real database for real data: point DATABASE_URL at a new, empty database, "
            "run `python -m data_layer db upgrade`, turn on sign-in (.streamlit/secrets.toml), add an "
            "administrator with `python -m data_layer users add EMAIL --role admin` and import there.")


def replace_refusal(engine: Engine) -> str | None:
    """Why building the demo here would delete data it did not make, or None (an empty database, or a demo
    nobody added to). Rows count as the demo's own only when they came from a demo build (or were derived)."""
    from sqlalchemy import func, or_

    found: dict[str, int] = {}
    with engine.connect() as conn:
        demo_batches = select(m.ImportBatch.id).where(m.ImportBatch.kind.in_(DEMO_BATCH_KINDS))
        for model in _REPLACED:
            n = conn.execute(select(func.count()).select_from(model).where(or_(
                model.batch_id.is_(None), model.batch_id.not_in(demo_batches)))).scalar_one()
            if n:
                found[model.__tablename__.replace("_", " ")] = n
        real = _non_demo_practices(conn)
    if not found and not real:
        return None
    what = "; ".join(f"{table}: {n:,} rows" for table, n in found.items())
    extra = f"; practices that are not demo practices: {', '.join(real)}" if real else ""
    return f"the database already holds data the demo builder did not make ({what or 'real practices'}{extra})."


__all__ = [
    "DEMO_FLAG", "DemoSummary", "build", "DEMO_CODE", "DEMO_BATCH_KINDS", "is_demo_code", "is_demo", "import_refusal",
    "replace_refusal", "COMPLAINT_CATEGORIES", "COMPLAINT_OUTCOMES", "default_end_month", "DOCTOR_SURNAMES",
    "FIRST_NAMES", "generate", "LAST_NAMES", "MODE_P", "MODES", "NAME_PARTS_A", "NAME_PARTS_B", "NEGATIVE_COMMENTS",
    "NEUTRAL_COMMENTS", "PCN_NAMES", "POSITIVE_COMMENTS", "PRACTICE_NAMES", "PUBLISHED_DEMO", "RAW_PROPORTIONS",
    "ROLE_RATIOS", "SEA_CATEGORIES", "SEA_LEARNING", "HARBOUR_VIEW", "MILLSTREAM", "ORCHARD",
]
