"""What the database holds: counts per dataset, periods covered, last import per kind."""
from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine, func, select

from . import models as m
from . import models_records as rec

DATASETS = {
    "practices": (m.Practice, None),
    "staff": (m.Staff, m.Staff.start_date),
    "training_completions": (m.TrainingCompletion, m.TrainingCompletion.completed_on),
    "fft_responses": (m.FFTResponse, m.FFTResponse.response_date),
    "fft_monthly_counts": (m.FFTMonthlyCount, m.FFTMonthlyCount.month),
    "indicator_values": (m.IndicatorValue, m.IndicatorValue.period_start),
    "complaints": (m.Complaint, m.Complaint.received_on),
    "significant_events": (m.SignificantEvent, m.SignificantEvent.event_date),
    "staff_survey_results": (rec.StaffSurveyResult, rec.StaffSurveyResult.period_start),
    "ppg_meetings": (rec.PPGMeeting, rec.PPGMeeting.meeting_date),
    "premises_checks": (rec.PremisesCheck, rec.PremisesCheck.done_on),
    "workforce_months": (rec.WorkforceMonth, rec.WorkforceMonth.month),
    "abuse_incidents": (rec.AbuseIncident, rec.AbuseIncident.incident_date),
    "users": (m.User, None),
    "audit_log": (m.AuditEvent, m.AuditEvent.at),
}


def _iso(v):
    if v is None:
        return None
    return pd.Timestamp(v).date().isoformat()


def database_status(engine: Engine) -> dict:
    out: dict = {"backend": engine.dialect.name, "datasets": {}, "last_import": {}}
    with engine.connect() as conn:
        for name, (model, date_col) in DATASETS.items():
            count = conn.execute(select(func.count()).select_from(model)).scalar_one()
            entry = {"rows": int(count)}
            if date_col is not None and count:
                lo, hi = conn.execute(select(func.min(date_col), func.max(date_col))).one()
                entry["from"], entry["to"] = _iso(lo), _iso(hi)
            out["datasets"][name] = entry
        codes = conn.execute(select(func.count(func.distinct(m.IndicatorValue.indicator_code)))).scalar_one()
        out["datasets"]["indicator_values"]["indicators"] = int(codes)
        rows = conn.execute(
            select(m.ImportBatch.kind, m.ImportBatch.file_name, m.ImportBatch.imported_at, m.ImportBatch.imported_by,
                   m.ImportBatch.rows_new, m.ImportBatch.rows_updated, m.ImportBatch.rows_unchanged)
            .order_by(m.ImportBatch.imported_at, m.ImportBatch.id)
        ).all()
        for kind, file_name, at, by, new, upd, same in rows:
            out["last_import"][kind] = {"file": file_name, "at": at.isoformat(timespec="seconds"), "by": by,
                                        "rows_new": new, "rows_updated": upd, "rows_unchanged": same}
    return out
