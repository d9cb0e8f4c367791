"""Quality indicators: pick a measure; its control chart (is it changing?), its funnel plot (which practices differ
from the federation by more than chance?), the practices' table with intervals, and how the number is calculated."""
import pandas as pd
import streamlit as st

from data_layer.analytics import RAG_SYMBOLS, RAG_WORDS
from data_layer.governance import notes as chart_notes
from data_layer.measures import benchmarks as benchmark_words
from data_layer.policy import words
from data_layer.views import COMPARISON_SYMBOLS, COMPARISON_WORDS, special_cause_runs
from ui import charts, data, mdc_icons, state, views
from ui.actions import actions_panel, raise_action_link
from ui.format import metric_delta  # a change that shows as 0.0 has no arrow
from ui.guard import page_context
from ui.text import plain
from ui.format import (day_time_label, describe_filters, format_value, interval_label, month_label,
                       period_label)

viewer, filters = page_context(__file__)
cfg = state.config()
practices = state.practice_list(viewer)
where = views.overall_label(filters)

st.title("Quality indicators")
st.caption(plain(describe_filters(filters, practices)))

# --- Which measure ------------------------------------------------------------------------------------------------
KEY_ORDER = {"Safe": 0, "Effective": 1, "Caring": 2, "Responsive": 3, "Well-led": 4}
catalogue = sorted(cfg.indicators, key=lambda i: (KEY_ORDER[i.key_question], i.name))
codes = [i.code for i in catalogue]
by_code = {i.code: i for i in catalogue}
wanted = st.query_params.get("indicator")
if wanted in by_code and st.session_state.get("_quality_from_url") != wanted:
    st.session_state["quality_indicator"] = wanted
    st.session_state["_quality_from_url"] = wanted
if st.session_state.get("quality_indicator") not in by_code:
    st.session_state["quality_indicator"] = codes[0]
code = st.selectbox("Measure", codes, key="quality_indicator",
                    format_func=lambda c: f"{by_code[c].key_question} · {by_code[c].name}")
if st.query_params.get("indicator") != code:
    st.query_params["indicator"] = code
    st.session_state["_quality_from_url"] = code
ind = by_code[code]
res = views.indicator_results(viewer, filters, (code,))[code]
# one practice chosen: its own series, with its own notes besides those on every practice
single = filters.practice_codes[0] if len(filters.practice_codes) == 1 else None
flash = st.session_state.pop("quality_note_flash", None)
if flash:
    st.success(flash, icon=":material/check_circle:")
unit = ind.unit
st.markdown(views.md(ind.description))

if res.latest_value is None and not res.suppressed:
    reason = ("no practices match the chosen filters" if (filters.practice_codes or filters.pcn) and
              res.series.empty else "there is no data for this measure in the chosen period")
    st.info(f"Nothing to chart: {reason}. Widen the period or clear the practice filter.", icon=":material/info:")
    st.stop()

# --- Where it stands ----------------------------------------------------------------------------------------------
s = res.spc
m1, m2, m3, m4 = st.columns([1, 1, 1.3, 1.6])
m1.metric(f"Latest ({period_label(res.latest_period, res.period_months)})",
          "Not shown" if res.suppressed else format_value(res.latest_value, unit),
          **metric_delta(res.change, unit, ind.direction),
          help=res.judgement_text if res.suppressed else f"{plain(where)}: Σ numerator / Σ denominator.")
m2.metric("Target", format_value(res.target, unit) if res.target is not None else "None set",
          help={"higher": "Higher is better.", "lower": "Lower is better."}.get(ind.direction, "No preferred direction."))
m3.metric("Status", f"{RAG_SYMBOLS[res.rag]} {RAG_WORDS[res.rag]}")
with m4:  # the Making Data Count icons with their words (a metric cannot hold a picture)
    st.markdown('<p class="mdc-label">Variation and assurance</p>', unsafe_allow_html=True)  # as the metrics' labels
    mdc_icons.show(res)
if res.suppressed:
    st.warning(f"The latest month's figure is not shown: {res.judgement_text.removeprefix('Not shown: ')}.",
               icon=":material/visibility_off:")

# --- Beside England and the local areas (stored comparisons with published benchmarks) ----------------------------
bench, bench_fed = views.benchmarks(viewer, filters, (code,))
if not bench.empty:
    beside = benchmark_words.table(bench, cfg, where, federation=bench_fed)
    st.markdown("**Beside England and the local areas**")
    st.dataframe(beside.drop(columns="Measure"), hide_index=True, width="stretch")
    st.caption(f"{plain(where)} for the latest period with a published benchmark (95% intervals): better, similar "
               "or worse than England when the whole interval is above or below England's value (Fingertips' method).")

# --- Control chart ------------------------------------------------------------------------------------------------
st.subheader("Is it changing? Statistical process control")
st.caption(f"{plain(where)}, {'month by month' if res.period_months == 1 else f'{res.period_months} months at a time (few cases a month)'} (Σ numerator / Σ denominator). The dashed lines are the process limits: "
           "the range the figure moves in by chance. Coloured points are special causes — something changed: blue "
           "circles improvement, orange diamonds concern, purple squares unusual where no direction is preferred.")
months = [d.date() for d in res.series.dropna(subset=["value"])["period_start"]]
series_notes = charts.chart_notes(code, single)
chart = res
st.plotly_chart(charts.spc_figure(res, height=400, notes=series_notes), width="stretch", key="spc")
st.markdown(views.md(charts.spc_caption(chart)))
restarts = sorted(set(series_notes.loc[series_notes["rebase"], "month"]))
if restarts:
    st.caption(f"Limits recalculated from {restarts[-1]:%B %Y} (rebase note): every view, download and pack judges "
               "this series from the same stored limits.")
if not series_notes.empty:
    st.markdown("**Notes on this chart**")
    st.dataframe(charts.notes_table(series_notes), hide_index=True, width="stretch")
runs = special_cause_runs(chart)
if not runs.empty:
    st.markdown("**Special causes explained**")
    for words in runs["words"]:
        st.markdown(f"- {views.md(words)}")
elif s is not None:
    st.caption("No special causes: every month is within the usual range (common cause variation).")
views.data_behind(charts.spc_table(chart, series_notes), f"{code.lower()}_spc.csv", "spc")

if chart_notes.may_note(viewer, single) and months:
    with st.expander("Add a note to this chart", icon=":material/edit_note:"):
        with st.form("quality_note", clear_on_submit=True):
            where_words = f"{plain(single)} only" if single else "every practice's chart of this measure"
            st.caption(f"The note shows on {where_words}, on screen and in the packs. Mark it as a change in the "
                       "process (a new system, a project) to recalculate the limits from its month for every view "
                       "and pack.")
            note_month = st.selectbox("Month", months[::-1], format_func=lambda d: f"{d:%B %Y}", key="note_month")
            note_text = st.text_input("Note", max_chars=chart_notes.TEXT_MAX, key="note_text",
                                      placeholder="e.g. New phone system")
            note_rebase = st.checkbox("The process changed here: recalculate the limits from this month",
                                      key="note_rebase")
            if st.form_submit_button("Add the note", icon=":material/add_comment:"):
                try:
                    if note_rebase:
                        with st.spinner("Saving the note and recalculating every figure from the new limits…"):
                            chart_notes.add_note(state.database(), viewer, cfg, indicator_code=code, month=note_month,
                                                 text=note_text, practice_code=single, rebase=True)
                    else:
                        chart_notes.add_note(state.database(), viewer, cfg, indicator_code=code, month=note_month,
                                             text=note_text, practice_code=single)
                except chart_notes.NoteError as exc:
                    st.error(f"The note was not added: {plain(str(exc))}.", icon=":material/error:")
                else:
                    charts.chart_notes.clear()
                    views.spc_chart.clear()  # the aims page's charts draw the note too
                    if note_rebase:
                        st.cache_data.clear()  # the store's judgements of this measure changed
                        views.matrix_chart.clear()
                    st.session_state["quality_note_flash"] = (
                        f"Note added at {note_month:%B %Y}."
                        + (f" The limits of {ind.name} now restart from {note_month:%B %Y}: the measure store was "
                           "recalculated, so every view and pack uses the new limits." if note_rebase else ""))
                    st.rerun()

# --- Actions on this measure ------------------------------------------------------------------------------------
st.subheader("Actions on this measure")
actions_panel(viewer, filters, indicator=code, practice=single)
raise_action_link(indicator=code, practice=single, title=ind.name)

# --- Funnel -------------------------------------------------------------------------------------------------------
st.subheader("Which practices differ? Funnel plot")
# A month of one or two complaints compares nothing: for sparse measures start with a year's figures.
latest_month, _, _ = views.funnel(viewer, filters, code)
in_scope = len(practices) if not filters.pcn else int((practices["pcn"] == filters.pcn).sum())
sparse = latest_month.empty or len(latest_month) < in_scope or latest_month["denominator"].median() < 20
SPANS = {1: "The latest month", 12: "The last 12 months (Σ numerators ÷ Σ denominators)"}
span = st.radio("Compare practices over", list(SPANS), format_func=SPANS.get, horizontal=True,
                index=1 if sparse else 0, key=f"funnel_span_{code}")
points, pooled, month = views.funnel(viewer, filters, code, span)
scope = filters.pcn or "the federation"
period_words = month_label(month) if span == 1 or month is None else \
    f"12 months to {month_label(month)}"
if points.empty or pooled is None:
    st.info(f"No practice figures for {month_label(month) if month else 'this period'}: nothing to compare.",
            icon=":material/info:")
else:
    st.caption(f"{period_words}: each practice's {ind.name.lower()} against its size, with the pooled value of "
               f"{plain(scope)} ({format_value(pooled, unit)}). Inside the dotted lines (95%) or dashed lines (99.8%) a "
               "practice differs from the pooled value by no more than chance would explain. Not a league table."
               + (" Practices chosen in the filter are drawn larger with bold names." if filters.practice_codes else ""))
    st.plotly_chart(charts.funnel_figure(points.assign(position=points["position"]), pooled, unit, height=440,
                                         multiplier=ind.multiplier, x_title=ind.denominator),
                    width="stretch", key="funnel")
    hidden = points[points["suppressed"]]
    if not hidden.empty:
        st.caption(f"Not shown (fewer than {cfg.thresholds.suppression_min} responses): "
                   + plain(", ".join(hidden["label"])) + ".")
    table = pd.DataFrame({
        "Practice": points["label"],
        "Numerator": points["numerator"],
        "Denominator": points["denominator"],
        f"Value ({unit})": points["value"].round(2),
        "95% interval": [interval_label(lo, hi, unit) for lo, hi in zip(points["lower_ci"], points["upper_ci"])],
        f"Compared with {scope}": [f"{COMPARISON_SYMBOLS.get(c, '')} {COMPARISON_WORDS.get(c, c)}".replace(
            "the federation", scope) for c in points["comparison"]],
        "Funnel (99.8%)": [{"within": "Within", "better": "▲ Better than expected", "worse": "▼ Worse than expected",
                            "above": "▲ Higher than expected", "below": "▼ Lower than expected",
                            "not compared": "Not compared"}.get(p, p) for p in points["position"]],
        "Note": points["note"],
    })
    vs_england = views.england_by_practice(viewer, filters, code)
    if not vs_england.empty:
        by_practice = vs_england.set_index("practice_code")
        table.insert(table.columns.get_loc("Funnel (99.8%)"), "Compared with England", [
            benchmark_words.comparison_cell(by_practice.loc[p]) + " (" + words.period(
                by_practice.loc[p, "period_start"], by_practice.loc[p, "period_end"]) + ")"
            if p in by_practice.index else "–" for p in points["practice_code"]])
    st.markdown("**Practices compared** (Wilson 95% intervals; better, similar or worse when the whole interval is "
                f"above or below {plain(scope)}'s value)")
    st.dataframe(table, hide_index=True, width="stretch", height=35 * (len(table) + 1) + 3,
                 column_config={"Numerator": st.column_config.NumberColumn(format="%d"),
                                "Denominator": st.column_config.NumberColumn(format="%d")})
    st.download_button("Download the practice comparison (CSV)", lambda: views.csv_bytes(table),
                       file_name=f"{code.lower()}_practices_{span}m_to_{month:%Y_%m}.csv", mime="text/csv",
                       icon=":material/download:", key="dl_funnel")

# --- How it is calculated -----------------------------------------------------------------------------------------
with st.expander("How is this calculated", icon=":material/calculate:", expanded=False):
    aims = [(a.title, k) for a in cfg.aims for k in a.kpis if k.indicator == code]
    batches = views.last_batches()
    b = batches[batches["indicator_code"] == code]
    facts = {
        "Numerator": ind.numerator,
        "Denominator": ind.denominator,
        "Value": ("numerator ÷ denominator × 100 (%)" if unit == "%" else
                  f"numerator ÷ denominator × {ind.multiplier:,.0f} ({unit})"),
        "Across practices": "Σ numerators ÷ Σ denominators (never an average of practice percentages)",
        "Better when": {"higher": "higher", "lower": "lower"}.get(ind.direction, "no preferred direction"),
        "Source": ind.source + (" (calculated by the dashboard from the raw records)" if ind.derived else ""),
        "Frequency": ind.frequency,
        "CQC key question": ind.key_question,
        "CQC quality statements": "; ".join(ind.quality_statements),
        "Aims and targets": "; ".join(
            f"{t} — target {format_value(k.target, unit) if k.target is not None else 'none'}" for t, k in aims)
            or "Not used by an aim",
        "Control chart rules": f"Making Data Count XmR: limits at mean ± 2.66 × mean moving range; run length "
                               f"{cfg.thresholds.spc_run_length}; trial limits under {cfg.thresholds.trial_limit_points} points",
    }
    if ind.derived in ("fft_positive", "fft_negative"):
        facts["Small numbers"] = f"Fewer than {cfg.thresholds.suppression_min} responses: not shown"
    if not b.empty:
        r = b.iloc[0]
        facts["Last import that fed it"] = (f"{r['file_name']} ({r['kind']}), {day_time_label(r['imported_at'])}"
                                            f" by {r['imported_by']}")
        facts["Months held"] = f"{month_label(r['first_period'])} to {month_label(r['last_period'])} ({int(r['rows']):,} practice-months)"
    facts["Limits recalculated from"] = (f"{restarts[-1]:%B %Y} (rebase note; the latest restart counts)" if restarts
                                         else "Not recalculated: one set of limits over the window")
    facts["Notes on this chart"] = ("; ".join(f"{pd.Timestamp(n.month):%B %Y}: {n.text}"
                                              + (" (limits restart)" if n.rebase else "")
                                              for n in series_notes.itertuples(index=False)) or "None")
    st.dataframe(pd.DataFrame({"": list(facts), "Detail": list(facts.values())}), hide_index=True, width="stretch",
                 column_config={"": st.column_config.TextColumn(width="small")})
