"""The flat tables of a pack (every measure, control chart data, funnel positions), the CQC ratings, what CQC asks
for before a visit, and the appendices (sources, methods), with the pack's summary and cover. The SPC table lists
the pack's months only; the control limits and the judgement of each point are the store's window's."""
from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import Engine, select

from ... import models as m
from ... import views
from ...config import FederationConfig
from ...measures import registry
from ...policy import status
from ..pack_model import CQC_COLUMNS, FUNNEL_SHORT, InspectionPack, Table, assurance_of, variation_of

# What CQC asks a practice for before a visit (two weeks' notice; information within five working days), what this
# pack brings and what the practice still has to add.
CHECKLIST = (
    ("Complaints received in the last 12 months",
     "Number received, by category and outcome; times to acknowledge and to resolve against the {standards} "
     "standards; each complaint with its summary (identifiers removed).",
     "Responsive – Listening to and involving people",
     "Response letters, evidence of learning shared with the team, and any trends discussed at practice meetings.",
     "Covered"),
    ("Significant events and learning",
     "Significant events in the last 12 months by category, how many have their learning recorded, and the "
     "learning for each (identifiers removed).",
     "Safe – Learning culture",
     "Full significant event analyses, minutes of the meetings where they were discussed, and actions followed up.",
     "Covered"),
    ("Patient survey results and action plan",
     "Friends and Family Test each month with 95% intervals, patient survey measures (listened to, involved, phone "
     "access), and a sample of patients' comments, positive and negative.",
     "Caring – Kindness, compassion and dignity; Responsive – Equity in access",
     "The action plan agreed with the patient participation group and what has changed as a result.",
     "Partly covered"),
    ("Staff training records",
     "Compliance with the practice's required training by course and by role, safeguarding training by level and "
     "hours over the rolling window.",
     "Safe – Safe and effective staffing; Safe – Safeguarding",
     "Named training records or certificates for individual staff (on the Staff training page, not in this pack, "
     "which leaves the building).",
     "Partly covered"),
    ("Recruitment records",
     "Not in this pack.",
     "–",
     "DBS checks, references, professional registration, indemnity and immunisation status for each member of staff.",
     "Practice to add"),
    ("Staff numbers by role",
     "Staff in post on the training date, by role.",
     "Safe – Safe and effective staffing (training by role)",
     "Vacancies, sessions worked, locum use and skill mix.",
     "Partly covered"),
    ("Clinical audits",
     "Clinical outcome and prescribing measures with control charts (diabetes, hypertension, atrial fibrillation, "
     "high-risk drug monitoring, medication reviews, antibiotics).",
     "Safe – Medicines optimisation; Effective – Monitoring and improving outcomes",
     "Two-cycle clinical audit reports showing the change made and the re-audit.",
     "Partly covered"),
)


def indicator_table(pack: InspectionPack) -> Table:
    rows = []
    for kq in pack.key_questions:
        for s in kq.statements:
            for ev in s.indicators:
                res, ind = ev.result, ev.indicator
                _, _, v_text = variation_of(res)
                _, _, a_text = assurance_of(res)
                row = {
                    "Key question": kq.name, "Quality statements": "; ".join(ind.quality_statements),
                    "Code": ind.code, "Measure": ind.name,
                    "Month": pd.Timestamp(res.latest_period) if res.latest_period else pd.NaT,
                    "Months judged together": res.period_months,
                    "Numerator": np.nan if ev.numerator is None else ev.numerator,
                    "Denominator": np.nan if ev.denominator is None else ev.denominator,
                    "Value": np.nan if res.latest_value is None else res.latest_value, "Unit": ind.unit,
                    "Lower 95%": np.nan if ev.lower_ci is None else ev.lower_ci,
                    "Upper 95%": np.nan if ev.upper_ci is None else ev.upper_ci,
                    "Target": np.nan if res.target is None else res.target, "Direction": ind.direction,
                    "Status": ev.status, "Variation": v_text, "Assurance": a_text,
                    "Special-cause points": int(spc_rows(pack, ev)["special_cause"].sum()),
                    "Funnel position": FUNNEL_SHORT.get(ev.funnel_position, ev.funnel_position),
                    "Funnel": ev.funnel_text,
                }
                if pack.practice_code:
                    row["Federation"] = np.nan if ev.federation_value is None else ev.federation_value
                    row["Compared with federation"] = ev.comparison
                rows.append(row)
    frame = pd.DataFrame(rows)
    frame["Month"] = pd.to_datetime(frame["Month"])
    return Table("indicators", "Every measure: latest period, interval, target and what the charts say", frame,
                 kinds={"Value": "unit", "Lower 95%": "unit", "Upper 95%": "unit", "Target": "unit",
                        "Federation": "unit", "Numerator": "int", "Denominator": "int", "Month": "month",
                        "Months judged together": "int"},
                 note="Month: the last month of the latest period (rarely counted measures are judged over several "
                      "months together). Special-cause points: in the pack's months.")


SPC_COLUMNS = ["value", "mean", "lower_limit", "upper_limit", "special_cause", "point_type", "rules"]


def spc_rows(pack: InspectionPack, ev) -> pd.DataFrame:
    """The control chart's points inside the pack's months (the limits are the store's window's)."""
    s = ev.result.spc
    if s is None or s.points.empty:
        return pd.DataFrame(columns=SPC_COLUMNS).astype({"special_cause": bool})
    p = s.points
    when = pd.to_datetime(p.index)
    keep = (when >= pd.Timestamp(pack.period_start)) & (when <= pd.Timestamp(pack.period_end))
    return p[np.asarray(keep)]


def spc_table(pack: InspectionPack) -> Table:
    frames = []
    for ev in pack.evidence():
        p = spc_rows(pack, ev)
        if p.empty:
            continue
        frames.append(pd.DataFrame({
            "Code": ev.code, "Measure": ev.indicator.name, "Month": pd.to_datetime(p.index),
            "Value": p["value"].astype(float).to_numpy(), "Unit": ev.indicator.unit,
            "Mean": p["mean"].astype(float).to_numpy(),
            "Lower process limit": p["lower_limit"].astype(float).to_numpy(),
            "Upper process limit": p["upper_limit"].astype(float).to_numpy(),
            "Target": np.nan if ev.result.target is None else float(ev.result.target),
            "Special cause": np.where(p["special_cause"], p["point_type"].astype(str), "no (common cause)"),
            "Rule": p["rules"].astype(str).to_numpy(),
        }))
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["Code", "Measure", "Month", "Value", "Unit", "Mean", "Lower process limit", "Upper process limit",
                 "Target", "Special cause", "Rule"])
    return Table("spc_data", "Control chart data: every month of every measure in the pack's period", frame,
                 kinds={"Month": "month", "Value": "dec2", "Mean": "dec2", "Lower process limit": "dec2",
                        "Upper process limit": "dec2", "Target": "dec2"},
                 note="Making Data Count XmR charts: mean ± 2.66 × mean moving range, over each measure's window as "
                      "the federation's settings give it (the same as on the screens); the pack lists its own months.")


def funnel_table(pack: InspectionPack) -> Table:
    frames = []
    for ev in pack.evidence():
        f = ev.funnel
        if f.empty:
            continue
        if pack.practice_code:  # a practice's pack names only that practice
            f = f[f["practice_code"] == pack.practice_code]
        frames.append(pd.DataFrame({
            "Code": ev.code, "Measure": ev.indicator.name,
            "Month": pd.Timestamp(ev.funnel_month) if ev.funnel_month else pd.NaT,
            "Practice": f["label"].astype(str).to_numpy(), "Numerator": f["numerator"].astype(float).to_numpy(),
            "Denominator": f["denominator"].astype(float).to_numpy(), "Value": f["value"].astype(float).to_numpy(),
            "Unit": ev.indicator.unit, "Federation": np.nan if ev.pooled is None else float(ev.pooled),
            "Position (99.8%)": [FUNNEL_SHORT.get(str(x), str(x)) for x in f["position"]],
            "Position (95%)": [FUNNEL_SHORT.get(str(x), str(x)) for x in f["position_95"]],
            "Note": f["note"].astype(str).to_numpy(),
        }))
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["Code", "Measure", "Month", "Practice", "Numerator", "Denominator", "Value", "Unit", "Federation",
                 "Position (99.8%)", "Position (95%)", "Note"])
    frame["Month"] = pd.to_datetime(frame["Month"])
    return Table("funnels", "Funnel plot positions (latest period of each measure)", frame,
                 kinds={"Month": "month", "Numerator": "int", "Denominator": "int", "Value": "unit",
                        "Federation": "unit"},
                 note="Limits around the federation's pooled value (Σ numerators ÷ Σ denominators) at 95% and "
                      "99.8%.")


def ratings_table(plist: pd.DataFrame, practice_code: str | None) -> Table:
    df = plist if practice_code is None else plist[plist["code"] == practice_code]
    frame = pd.DataFrame({"Practice": df["name"].astype(str), "Code": df["code"].astype(str)})
    for label, col in CQC_COLUMNS.items():
        frame[label] = df[col].fillna("Not rated").astype(str).to_numpy()
    frame["Published"] = pd.to_datetime(df["cqc_rating_date"]).to_numpy()
    frame["CQC location"] = df["cqc_location_id"].fillna("").astype(str).to_numpy()
    return Table("cqc_ratings", "CQC ratings held", frame.reset_index(drop=True), kinds={"Published": "date"},
                 pdf_columns=("Practice", "Overall", "Safe", "Effective", "Caring", "Responsive", "Well-led",
                              "Published"),
                 pdf_widths=(40, 20, 20, 20, 20, 20, 20, 20))


def checklist_table(config: FederationConfig) -> Table:
    ack = next((i.days for i in config.indicators if i.derived == "complaints_acknowledged_in_time"), None)
    res = next((i.days for i in config.indicators if i.derived == "complaints_resolved_in_time"), None)
    standards = f"{ack} and {res} working-day" if ack is not None and res is not None else "federation's"
    rows = [tuple(cell.format(standards=standards) for cell in row) for row in CHECKLIST]
    frame = pd.DataFrame(rows, columns=["What CQC asks for", "What this pack gives", "Where in the pack",
                                             "What the practice must add", "Status"])
    return Table("before_the_visit", "What CQC asks for before a visit", frame,
                 note="CQC gives two weeks' notice of an inspection and asks for information within five working "
                      "days.",
                 pdf_columns=("What CQC asks for", "Status", "What this pack gives", "What the practice must add"),
                 pdf_widths=(34, 22, 62, 62))


def sources_table(engine: Engine, pack: InspectionPack) -> Table:
    """Every import batch that supplied a row in the pack: file, when imported, by whom and how many rows."""
    codes, start, end = pack.practice_codes, pack.period_start, pack.period_last_day
    datasets = (
        ("Indicator values", m.IndicatorValue, m.IndicatorValue.practice_id, m.IndicatorValue.period_start),
        ("FFT responses", m.FFTResponse, m.FFTResponse.practice_id, m.FFTResponse.response_date),
        ("FFT monthly counts", m.FFTMonthlyCount, m.FFTMonthlyCount.practice_id, m.FFTMonthlyCount.month),
        ("Complaints", m.Complaint, m.Complaint.practice_id, m.Complaint.received_on),
        ("Significant events", m.SignificantEvent, m.SignificantEvent.practice_id, m.SignificantEvent.event_date),
        ("Staff", m.Staff, m.Staff.practice_id, None),
        ("Practices", m.Practice, m.Practice.id, None),
    )
    used: dict[int, list[str]] = {}
    with engine.connect() as conn:
        pids = select(m.Practice.id).where(m.Practice.code.in_(codes))
        for label, model, pid_col, date_col in datasets:
            stmt = select(model.batch_id).distinct().where(pid_col.in_(pids), model.batch_id.is_not(None))
            if date_col is not None:
                stmt = stmt.where(date_col >= start, date_col <= end)
            for b in conn.execute(stmt).scalars():
                used.setdefault(int(b), []).append(label)
        staff_ids = select(m.Staff.id).where(m.Staff.practice_id.in_(pids))
        for b in conn.execute(select(m.TrainingCompletion.batch_id).distinct().where(
                m.TrainingCompletion.staff_id.in_(staff_ids), m.TrainingCompletion.batch_id.is_not(None))).scalars():
            used.setdefault(int(b), []).append("Training records")
        rows = conn.execute(select(m.ImportBatch.id, m.ImportBatch.kind, m.ImportBatch.file_name,
                                   m.ImportBatch.imported_at, m.ImportBatch.imported_by, m.ImportBatch.rows_new,
                                   m.ImportBatch.rows_updated, m.ImportBatch.rows_unchanged)
                            .where(m.ImportBatch.id.in_(list(used))).order_by(m.ImportBatch.imported_at)).all()
    frame = pd.DataFrame(rows, columns=["Batch", "Kind", "File", "Imported", "Imported by", "New rows",
                                        "Updated rows", "Unchanged rows"])
    for c in ("New rows", "Updated rows", "Unchanged rows"):
        frame[c] = pd.to_numeric(frame[c]).fillna(0).astype(int)
    frame.insert(5, "Rows", frame["New rows"] + frame["Updated rows"] + frame["Unchanged rows"])
    frame["Imported"] = pd.to_datetime(frame["Imported"])
    frame["Used for"] = ["; ".join(used.get(int(b), [])) for b in frame["Batch"]]
    return Table("sources", "Sources: the import batches behind this pack", frame,
                 kinds={"Imported": "datetime", "Batch": "int"},
                 note="Every file whose rows appear in this pack (for this practice and period). Rows: rows the "
                      "import read (new, updated and unchanged).",
                 pdf_columns=("Batch", "Kind", "File", "Imported", "Rows", "Used for"),
                 pdf_widths=(14, 20, 52, 30, 18, 46))


MULTIPLIER_WORDS = {"%": "× 100", "per 1,000": "× 1,000", "per 10,000": "× 10,000"}


def methods_table(engine: Engine, config: FederationConfig, pack: InspectionPack) -> Table:
    last = views.last_batches(engine, list(config.indicator_codes)).set_index("indicator_code")
    rows = []
    for ind in config.indicators:
        if ind.derived:
            how = registry.method_text(ind.derived, config.suppression_min(ind) or config.thresholds.suppression_min,
                                       ind.days)
            if ind.courses:
                how += " Courses counted: " + ", ".join(config.training.course(c).name for c in ind.courses) + "."
        else:
            how = f"Imported from {ind.source}, with the numerator and denominator as published."
        how += f" Value = numerator ÷ denominator {MULTIPLIER_WORDS.get(ind.unit, f'× {ind.multiplier:g}')}."
        if ind.judge_months > 1:
            how += f" Judged over {ind.judge_months} months together, because the monthly counts are small."
        floor = config.min_denominator(ind)
        if floor:
            how += f" Fewer than {floor} cases in a period: too few to judge (no status or icon)."
        b = last.loc[ind.code] if ind.code in last.index else None
        rows.append({
            "Code": ind.code, "Measure": ind.name, "Key question": ind.key_question,
            "Quality statements": "; ".join(ind.quality_statements), "What it measures": ind.description,
            "Numerator": ind.numerator, "Denominator": ind.denominator, "Unit": ind.unit,
            "Better when": {"higher": "Higher", "lower": "Lower", "neutral": "Neither"}[ind.direction],
            "How it is calculated": how, "Source": ind.source, "Frequency": ind.frequency,
            "Control chart window (months)": config.spc_window(ind),
            "Latest import": "" if b is None or pd.isna(b["file_name"]) else str(b["file_name"]),
            "Imported": pd.NaT if b is None else pd.Timestamp(b["imported_at"]),
        })
    frame = pd.DataFrame(rows)
    frame["Imported"] = pd.to_datetime(frame["Imported"])
    return Table("methods", "How each measure is calculated", frame,
                 kinds={"Imported": "datetime", "Control chart window (months)": "int"},
                 pdf_columns=("Measure", "Numerator", "Denominator", "How it is calculated", "Source"),
                 pdf_widths=(32, 30, 30, 62, 26))


def pack_summary(pack: InspectionPack) -> str:
    evs = [e for e in pack.evidence() if e.result.latest_value is not None]
    targeted = [e for e in evs if e.result.target is not None]
    improving = sum(e.result.variation.startswith("improvement") for e in evs)
    concern = sum(e.result.variation.startswith("concern") for e in evs)
    too_few = sum(e.result.judgement == status.TOO_FEW for e in pack.evidence())
    hidden = sum(e.result.judgement == status.SUPPRESSED for e in pack.evidence())
    who = pack.practice.get("name", "") if pack.practice_code else f"the {len(pack.practice_codes)} practices together"
    text = (f"This pack brings together the evidence the federation holds for {who} over {pack.period_words}, "
            f"arranged by CQC's five key questions and the quality statements each measure evidences. "
            f"{len(evs)} measures have figures. " + status.tally([e.result.rag for e in targeted])
            + (f" {too_few} {'has' if too_few == 1 else 'have'} too few cases to judge." if too_few else "")
            + (f" {hidden} {'is' if hidden == 1 else 'are'} not shown (too few responses to show safely)."
               if hidden else "")
            + f" In the latest period {improving} show special-cause improvement and {concern} special-cause "
              f"concern (NHS England's Making Data Count rules).")
    return text


def cover_table(pack: InspectionPack, config: FederationConfig) -> Table:
    p = pack.practice
    rows = [("Evidence pack", "CQC inspection evidence pack"),
            ("For", pack.practice.get("name") if pack.practice_code else config.name)]
    if pack.practice_code:
        rows += [("Practice code", pack.practice_code), ("Primary care network", p.get("pcn") or ""),
                 ("Registered patients", int(p["list_size"]) if pd.notna(p.get("list_size")) else ""),
                 ("CQC location", p.get("cqc_location_id") or ""),
                 ("CQC overall rating", p.get("cqc_overall") or "Not rated")]
    else:
        rows += [("Practices", len(pack.practice_codes))]
    rows += [("Federation", config.name), ("Period from", pack.period_start),
             ("Period to", pack.period_last_day), ("Figures up to", f"{pack.data_up_to:%B %Y}"),
             ("Training records as at", pack.training_as_of or ""),
             ("Generated", pack.generated_at), ("Generated by", pack.generated_by)]
    if pack.demo:
        rows.append(("Data", "Fictional demo federation: not real practices or patients"))
    rows.append(("Handling", "Contains patients' comments and complaint summaries with identifiers removed. "
                             "Share only with CQC and the practice team."))
    frame = pd.DataFrame(rows, columns=["Item", "Value"])
    return Table("cover", "Cover", frame, kinds={"Value": "auto"})
