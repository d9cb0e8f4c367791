"""Patient feedback in a pack (Caring: kindness, compassion and dignity): the Friends and Family Test by month and by
practice as the feedback module gives it (hidden months stay hidden), and a redacted sample of comments."""
from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine

from ... import engine as calc
from ... import feedback as fb
from ...config import FederationConfig
from ...scope import Viewer
from ..pack_model import COMMENTS_PER_KIND, PACK_MONTHS, InspectionPack, Statement, Table
from ..redact import Redactor

COUNT_COLUMNS = ("Responses", "Very good", "Good", "Neither good nor poor", "Poor", "Very poor", "Don't know")


def patient_feedback(engine: Engine, config: FederationConfig, viewer: Viewer, pack: InspectionPack,
                     filters: calc.Filters, clean: Redactor, latest: calc.KPIResult | None) -> Statement:
    st = Statement("Kindness, compassion and dignity")
    min_n = config.thresholds.suppression_min
    counts = fb.fft_counts(engine, config, viewer, filters)  # read once, summarised three ways
    monthly = fb.fft_by_month(engine, config, viewer, filters, "current", counts=counts)
    if monthly.empty:
        st.paragraphs.append("No Friends and Family Test responses on the current question in this period.")
        return st
    pack.fft_monthly = monthly.copy()
    responses = int(pd.to_numeric(monthly["total"], errors="coerce").sum())  # months shown only
    shown = monthly[~monthly["suppressed"].astype(bool)]
    words = [f"{responses:,} Friends and Family Test responses on the current question “Overall, how was your "
             f"experience of our service?” in the {PACK_MONTHS} months."]
    if not shown.empty:
        words.append(f"In the months shown, {int(shown['positive'].sum()):,} of {int(shown['total'].sum()):,} "
                     f"answered Very good or Good.")
    if latest is not None and latest.latest_value is not None:
        words.append(f"Latest month, {latest.latest_period:%B %Y}: "
                     f"{calc.format_value(latest.latest_value, latest.indicator.unit)} positive.")
    hidden = int(monthly["suppressed"].astype(bool).sum())
    if hidden:
        words.append(f"{hidden} month{'s' if hidden != 1 else ''} with fewer than {min_n} responses "
                     f"{'are' if hidden != 1 else 'is'} not shown.")
    legacy = fb.legacy_use(engine, config, viewer, filters, counts=counts)
    if not legacy.empty:
        words.append(f"{int(legacy['responses'].sum()):,} responses on the old “how likely are you to recommend” "
                     "question are a separate series and not included in these percentages.")
    st.paragraphs.append(" ".join(words))
    table = pd.DataFrame({
        "Month": pd.to_datetime(monthly["month"]),
        "Responses": monthly["total"],  # hidden in a month with too few
        "Very good": monthly["very_good"], "Good": monthly["good"], "Neither good nor poor": monthly["neither"],
        "Poor": monthly["poor"], "Very poor": monthly["very_poor"], "Don't know": monthly["dont_know"],
        "Positive (%)": monthly["pct_positive"].astype(float),
        "Positive lower 95% (%)": monthly["positive_lower"].astype(float),
        "Positive upper 95% (%)": monthly["positive_upper"].astype(float),
        "Negative (%)": monthly["pct_negative"].astype(float),
        "Negative lower 95% (%)": monthly["negative_lower"].astype(float),
        "Negative upper 95% (%)": monthly["negative_upper"].astype(float),
        "Note": monthly["note"].astype(str),
    })
    for c in COUNT_COLUMNS:
        table[c] = pd.to_numeric(table[c], errors="coerce").astype(float)
    st.charts.append(("fft", "Friends and Family Test: % positive each month, with the 95% interval (shaded) and the "
                             f"federation's target; months with fewer than {min_n} responses are not shown."))
    st.tables.append(Table(
        "fft_monthly", "Friends and Family Test by month", table,
        kinds={c: "int" for c in COUNT_COLUMNS} | {"Month": "month"},
        note="Positive = Very good + Good; negative = Poor + Very poor; both of all responses (Neither and Don't know "
             "stay in the total). Intervals: Wilson score 95%.",
        pdf_columns=("Month", "Responses", "Positive (%)", "Positive lower 95% (%)", "Positive upper 95% (%)",
                     "Negative (%)", "Note"),
        pdf_widths=(22, 22, 22, 24, 24, 22, 44)))
    if pack.is_federation:
        per, pooled = fb.fft_by_practice(engine, config, viewer, filters, months=PACK_MONTHS, counts=counts)
        if not per.empty:
            st.tables.append(Table(
                "fft_by_practice", f"Friends and Family Test by practice over the {PACK_MONTHS} months",
                pd.DataFrame({
                    "Practice": per["practice_name"].astype(str), "Code": per["practice_code"].astype(str),
                    "Responses": pd.to_numeric(per["total"], errors="coerce").astype(float),
                    "Positive (%)": per["pct_positive"].astype(float),
                    "Lower 95% (%)": per["positive_lower"].astype(float),
                    "Upper 95% (%)": per["positive_upper"].astype(float),
                    "Compared with the federation": per["compared"].astype(str),
                    "Funnel (99.8%)": per["funnel"].astype(str), "Note": per["note"].astype(str),
                }), kinds={"Responses": "int"},
                note=f"Federation: {calc.format_value(pooled, '%')} positive. Compared: the practice's 95% interval "
                     "wholly above or below the federation's figure.",
                pdf_widths=(42, 16, 18, 16, 16, 16, 22, 18, 16)))
    if pack.detail:  # a preview leaves the comments (read and redacted for a file) out
        st.tables.append(comment_sample(engine, config, viewer, pack, filters, responses, clean))
    return st


def comment_sample(engine: Engine, config: FederationConfig, viewer: Viewer, pack: InspectionPack,
                   filters: calc.Filters, responses: int, clean: Redactor) -> Table:
    """Verbatim comments, positive and negative, spread over the months (the newest distinct comment of each month,
    newest months first), always redacted: the pack leaves the building."""
    cols = ["Date", "Practice", "Answer", "Comment"]
    title = "What patients said: a sample of comments"
    readable, why = fb.readable_practices(engine, config, viewer, filters)
    min_n = config.thresholds.suppression_min
    if responses < min_n:
        return Table("fft_comments", title, pd.DataFrame(columns=cols),
                     note=f"Fewer than {min_n} responses in the period: comments are not shown.")
    if not readable:
        return Table("fft_comments", title, pd.DataFrame(columns=cols), note=why)
    picked = []
    for label, ratings in (("Positive", (1, 2)), ("Negative", (4, 5))):
        got = fb.comments(engine, config, viewer, filters, ratings=ratings, limit=2000)
        df = got.rows.copy()
        if df.empty:
            continue
        df["text"] = [clean(" ".join(t.strip() for t in (a, b) if isinstance(t, str) and t.strip()))
                      for a, b in zip(df["comment"], df["follow_up"])]
        df = df[df["text"].str.strip() != ""].drop_duplicates("text")
        df["month"] = pd.to_datetime(df["date"]).dt.to_period("M")
        rank = df.groupby("month", sort=False).cumcount()
        df = df.assign(_rank=rank).sort_values(["_rank", "month", "date"], ascending=[True, False, False],
                                               kind="mergesort").head(COMMENTS_PER_KIND)
        df = df.sort_values("date", ascending=False, kind="mergesort")
        picked.append(pd.DataFrame({"Kind": label, "Date": pd.to_datetime(df["date"]),
                                    "Practice": df["practice_name"].astype(str), "Answer": df["answer"].astype(str),
                                    "Comment": df["text"].astype(str)}))
    frame = pd.concat(picked, ignore_index=True) if picked else pd.DataFrame(columns=["Kind", *cols])
    widths = (18, 20, 34, 22, 86) if pack.is_federation else (18, 22, 0, 26, 114)
    pdf_cols = ("Kind", "Date", "Practice", "Answer", "Comment") if pack.is_federation else (
        "Kind", "Date", "Answer", "Comment")
    return Table(
        "fft_comments", title, frame, kinds={"Date": "date"},
        note=f"Up to {COMMENTS_PER_KIND} comments from patients who answered Very good or Good and up to "
             f"{COMMENTS_PER_KIND} from those who answered Poor or Very poor: the newest distinct comment of each "
             "month, newest months first. Names, phone numbers, email addresses, NHS numbers and postcodes are "
             "removed.",
        pdf_columns=pdf_cols, pdf_widths=tuple(w for w in widths if w))
