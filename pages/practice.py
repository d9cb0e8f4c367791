"""Practice profile: one practice against its targets and the federation — every measure with its icons, CQC
ratings, training gaps, patient feedback, complaints and significant events. Names and complaint details only for
viewers who may see people at this practice."""
import pandas as pd
import streamlit as st

from data_layer import engine as calc
from data_layer.measures import benchmarks as benchmark_words
from data_layer.policy import status
from data_layer.views import COMPARISON_SYMBOLS, special_cause_runs
from ui import charts, data, mdc_icons, state, views
from ui.actions import actions_panel, raise_action_link
from ui.audit_download import audited_download_button
from ui.evidence import profile_section
from ui.guard import page_context
from ui.page_common import show_table
from ui.text import plain
from ui.format import dates_in_words, day_label, format_value, interval_label, month_label

viewer, filters = page_context(__file__)
cfg = state.config()
practices = state.practice_list(viewer)
names = dict(zip(practices["code"], practices["display_name"]))

title = st.empty()  # filled once the practice is known: the title says whose profile it is, and for whom
if practices.empty:
    title.title("Practice profile")
    st.info("No practices yet: import the practice list first.", icon=":material/info:")
    st.stop()

# --- Which practice: the link's ?profile=, else the viewer's own, else the one chosen in the filters ----------------
choosable = list(practices["code"])
if viewer.role in ("practice_lead", "viewer") and not cfg.thresholds.name_other_practices and viewer.practice_codes:
    choosable = [c for c in choosable if c in viewer.practice_codes]  # anonymised others: no profile by code
wanted = st.query_params.get("profile")
if wanted in choosable and st.session_state.get("_profile_from_url") != wanted:
    st.session_state["profile_practice"] = wanted
    st.session_state["_profile_from_url"] = wanted
if st.session_state.get("profile_practice") not in choosable:
    own = [c for c in viewer.practice_codes if c in choosable]
    chosen_in_filter = [c for c in filters.practice_codes if c in choosable]
    st.session_state["profile_practice"] = (chosen_in_filter or own or choosable)[0]
own_practice = st.session_state["profile_practice"] in viewer.practice_codes  # (the practice is named below)
title.title("Your practice's profile" if own_practice and viewer.role == "practice_lead" else "Practice profile")
code = st.selectbox("Practice", choosable, key="profile_practice", format_func=lambda c: f"{names[c]} ({c})")
if st.query_params.get("profile") != code:
    st.query_params["profile"] = code
    st.session_state["_profile_from_url"] = code
p = practices[practices["code"] == code].iloc[0]
one = calc.Filters(practice_codes=(code,), period_end=filters.period_end, months=filters.months)
everyone = calc.Filters(period_end=filters.period_end, months=filters.months)

facts = [p["pcn"], f"{int(p['list_size']):,} registered patients" if pd.notna(p["list_size"]) else None,
         f"{p['contract_type']} contract" if p["contract_type"] else None,
         f"{filters.months} months to {month_label(filters.period_end)}" if filters.period_end else None]
st.markdown(f"## {views.md(p['display_name'])}")
st.caption(" · ".join(plain(f) for f in facts if f))

# --- CQC ----------------------------------------------------------------------------------------------------------
st.subheader("CQC ratings")
ratings = [("Overall", p["cqc_overall"]), ("Safe", p["cqc_safe"]), ("Effective", p["cqc_effective"]),
           ("Caring", p["cqc_caring"]), ("Responsive", p["cqc_responsive"]), ("Well-led", p["cqc_well_led"])]
if all(pd.isna(r) or not r for _, r in ratings):
    st.caption("No CQC ratings held for this practice: import the CQC ratings file.")
else:
    for col, (label, rating) in zip(st.columns(6), ratings):
        with col, st.container(border=True):
            st.caption(label)
            st.markdown(f"**{views.md(rating) if isinstance(rating, str) and rating else 'Not rated'}**")
    if pd.notna(p["cqc_rating_date"]):
        st.caption(f"Published {day_label(p['cqc_rating_date'])}"
                   + (f" · CQC location {p['cqc_location_id']}" if p["cqc_location_id"] else ""))

# --- Every measure ------------------------------------------------------------------------------------------------
mine = data.kpi_results(viewer, one)
federation = data.kpi_results(viewer, everyone)
rows, _ = views.practice_results(viewer, everyone)
compared = rows[rows["practice_code"] == code].set_index("indicator_code")
tally = status.tally_counts(r.rag for r in mine.values())
concerns = [r for r in mine.values() if r.variation.startswith("concern")]
improving = [r for r in mine.values() if r.variation.startswith("improvement")]

st.subheader("Measures against targets and the federation")
if not any(r.latest_value is not None for r in mine.values()):
    st.info("No figures for this practice in the chosen period.", icon=":material/info:")
else:
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("✔ On target", f"{tally['on']} of {tally['judged']}",
              help="Measures with a target that can be judged this month (too few cases and hidden figures are "
                   "not counted).")
    c2.metric("▲ Near target", tally["near"])
    c3.metric("✖ Off target", tally["off"])
    c4.metric("Special-cause concerns", len(concerns), help="Measures whose latest month is a special-cause concern.")
    summary = []
    if concerns:
        summary.append("Latest month a special-cause concern: " + "; ".join(r.indicator.name for r in concerns) + ".")
    if improving:
        summary.append("Improving (special cause): " + "; ".join(r.indicator.name for r in improving) + ".")
    if summary:
        st.markdown(views.md(" ".join(summary)))

    bench, bench_fed = views.benchmarks(viewer, one)
    england = bench[bench["level"] == "england"].set_index("indicator_code")
    table_rows = []
    for r in cfg.kpi_rows():
        c = r["indicator_code"]
        res, fed = mine[c], federation[c]
        cmp = compared.loc[c] if c in compared.index else None
        table_rows.append({
            "Aim": r["aim_order"],
            "Measure": r["indicator"],
            "Practice": "Not shown" if res.suppressed else format_value(res.latest_value, r["unit"]),
            "Target": format_value(r["target"], r["unit"]),
            "Status": res.status_text,
            "Federation": format_value(fed.latest_value, r["unit"]),
            "Compared with federation": "–" if cmp is None else
            f"{COMPARISON_SYMBOLS.get(cmp['comparison'], '')} {cmp['comparison'].capitalize()}",
            "England": format_value(england.loc[c, "value"], r["unit"]) if c in england.index else "–",
            "Compared with England": benchmark_words.comparison_cell(england.loc[c]) if c in england.index
            else "–",
            "Variation": views.variation_label(res),
            "Month": month_label(res.latest_period),
            "variation_code": res.variation,
        })
    table = pd.DataFrame(table_rows).drop_duplicates("Measure")
    # the Making Data Count icon beside its words on screen; the download has the words alone
    table_csv = table.drop(columns=["variation_code"])
    table.insert(table.columns.get_loc("Variation"), "Icon", table.pop("variation_code").map(
        lambda v: mdc_icons.data_uri("variation", v)))
    st.caption("Compared with federation: ▲ better, ● similar, ▼ worse — when the practice's 95% interval lies wholly "
               "above or below the federation's figure for the same month. Variation: the practice's own control chart "
               "(Making Data Count icons: blue improving, orange concerning, grey common cause; H or L says high "
               "or low). England: the latest period England's figure is published for, compared the same way (its "
               "period and source are under National and local benchmarks).")
    show_table(table, key="practice_measures", readable=True, cards=("Measure",),  # every word in view
               column_config={"Aim": st.column_config.NumberColumn(width="small", format="%d"),
                              "Measure": st.column_config.TextColumn(width="medium"),
                              "Icon": mdc_icons.image_column("Variation", "Making Data Count variation icon of "
                                                             "the practice's latest period")})
    st.download_button("Download this practice's measures (CSV)", lambda: views.csv_bytes(table_csv),
                       file_name=f"{code}_measures.csv", mime="text/csv", icon=":material/download:",
                       key="dl_practice_measures")

    # --- National and local benchmarks
    st.subheader("National and local benchmarks")
    beside = benchmark_words.table(bench, cfg, "Practice", federation=bench_fed)
    if beside.empty:
        st.caption("No published benchmarks held for this practice's measures: import an OHID Fingertips export "
                   "(its England, region, ICB, sub-ICB and PCN rows are kept as benchmarks).")
    else:
        st.caption("The practice beside the federation, England, its NHS region, ICB, sub-ICB location and PCN for "
                   "the same published period (95% intervals). Better, similar or worse than England: Fingertips' "
                   "method, the practice's interval wholly above or below England's value.")
        st.dataframe(beside, hide_index=True, width="stretch", height=35 * (len(beside) + 1) + 3,
                     column_config={"Measure": st.column_config.TextColumn(width="medium")})
        st.download_button("Download the benchmarks (CSV)", lambda: views.csv_bytes(beside),
                           file_name=f"{code}_benchmarks.csv", mime="text/csv", icon=":material/download:",
                           key="dl_practice_benchmarks")

    # --- One measure over time
    order = [r.indicator.code for r in concerns] + [r.indicator.code for r in mine.values() if r.rag == "red"]
    codes = list(dict.fromkeys(order + list(mine)))
    pick = st.selectbox("See a measure over time", codes, key="profile_measure",
                        format_func=lambda c: cfg.indicator(c).name)
    res = mine[pick]
    st.plotly_chart(charts.spc_figure(res, title=f"{cfg.indicator(pick).name}: {p['display_name']}", height=360,
                                      practice=code), width="stretch", key="profile_spc")
    mdc_icons.show(res)
    st.caption(charts.spc_caption(res))
    for words in special_cause_runs(res)["words"]:
        st.markdown(f"- {views.md(words)}")
    views.data_behind(charts.spc_table(res, charts.chart_notes(pick, code)), f"{code}_{pick.lower()}_spc.csv",
                      "profile_spc")
    st.page_link("pages/quality.py", label="Compare every practice on this measure", icon=":material/monitoring:",
                 query_params={"indicator": pick})
    raise_action_link(indicator=pick, practice=code, title=cfg.indicator(pick).name,
                      label="Raise an action on this measure")

# --- Actions --------------------------------------------------------------------------------------------------------
st.subheader("Actions for this practice")
actions_panel(viewer, filters, practice=code)
raise_action_link(practice=code, label="Raise an action for this practice")

# --- Training gaps ------------------------------------------------------------------------------------------------
st.subheader("Staff training")
tr = views.practice_training(viewer, filters, code)
by_course = tr["by_course"]
if by_course.empty:
    st.info("No staff in post with required training at this practice on this date.", icon=":material/info:")
else:
    overall = by_course[by_course["course"] == "ALL"].iloc[0] if (by_course["course"] == "ALL").any() else None
    lap = tr["lapsing"]
    lap = lap[lap["practice_code"] == code].iloc[0] if (lap["practice_code"] == code).any() else None
    t1, t2, t3, t4 = st.columns(4)
    if overall is not None:
        t1.metric("Compliance", f"{overall['compliance_pct']:.1f}%",
                  help=f"{int(overall['in_date'])} of {int(overall['required'])} required staff × course pairs in date "
                       f"on {day_label(tr['as_of'])}.")
    if lap is not None:
        t2.metric("Lapsed", int(lap["Lapsed"]))
        t3.metric("Never completed", int(lap["Never completed"]))
        t4.metric("Lapse within 30 days", int(lap["Lapses within 30 days"]),
                  help=f"{int(lap['Lapses in 31–60 days'])} more in 31–60 days, {int(lap['Lapses in 61–90 days'])} in "
                       f"61–90 days, counted on {day_label(tr['lapsing_as_of'])}.")
    gaps = by_course[(by_course["course"] != "ALL") & (by_course["practice_code"] == code)].copy()
    gaps = gaps[(gaps["lapsed"] + gaps["never_completed"] + gaps["lapsing"]) > 0].sort_values(
        "compliance_pct", kind="mergesort")
    if gaps.empty:
        st.success("Every required course is in date and none lapses within 90 days.", icon=":material/check_circle:")
    else:
        gap_table = pd.DataFrame({
            "Course": gaps["course_name"], "Required": gaps["required"], "In date": gaps["in_date"],
            "Lapsing (90 days)": gaps["lapsing"], "Lapsed": gaps["lapsed"], "Never completed": gaps["never_completed"],
            "Compliance": gaps["compliance_pct"].map(lambda v: f"{v:.0f}%"),
        })
        st.markdown(f"**Courses with gaps** on {day_label(tr['as_of'])}")
        st.dataframe(gap_table, hide_index=True, width="stretch")
        st.download_button("Download the training gaps (CSV)", lambda: views.csv_bytes(gap_table),
                           file_name=f"{code}_training_gaps.csv", mime="text/csv", icon=":material/download:",
                           key="dl_training_gaps")
    if viewer.may_see_people(code):
        chase = tr["chase"]
        with st.expander(f"Who to chase ({len(chase)})", icon=":material/person_search:"):
            if chase.empty:
                st.caption("Nobody to chase.")
            else:
                people = pd.DataFrame({
                    "Name": chase["name"], "Role": chase["role"], "Course": chase["course_name"],
                    "What": chase["bucket"],
                    "Expires": pd.to_datetime(chase["expires_on"]).map(day_label),
                })
                st.dataframe(people, hide_index=True, width="stretch")
                audited_download_button("Download the chase list (CSV)", views.csv_bytes(people),
                                        f"{code}_training_chase_list.csv", what="training chase list (names)",
                                        rows=len(people), practice_code=code, page="Practice profile",
                                        mime="text/csv", icon=":material/download:", key="dl_chase")
    else:
        st.caption("Names are shown only to this practice's lead and the board.")
    views.page_link("pages/training.py", viewer.role, label="Staff training in detail", icon=":material/school:")

# --- Patient feedback ---------------------------------------------------------------------------------------------
st.subheader("Patient feedback")
pos, neg = mine.get(cfg.screens.fft_positive or ""), mine.get(cfg.screens.fft_negative or "")
if pos is None or pos.series.empty:
    st.info("No Friends and Family Test responses for this practice in the chosen period.", icon=":material/info:")
else:
    last = pos.series.iloc[-1]
    f1, f2, f3 = st.columns(3)
    f1.metric(f"Positive ({month_label(pos.latest_period)})",
              "Not shown" if pos.suppressed else format_value(pos.latest_value, "%"),
              help="Very good + Good, of all responses. " + (pos.judgement_text if pos.suppressed else ""))
    f2.metric("Negative", "Not shown" if neg is None or neg.suppressed else format_value(neg.latest_value, "%"),
              help="Poor + Very poor, of all responses.")
    f3.metric("Responses", f"{int(last['denominator']):,}" if not pos.suppressed and pd.notna(last["denominator"])
              else f"Fewer than {cfg.thresholds.suppression_min}")
    fed_series = federation[pos.indicator.code].series
    fed_pos = fed_series[["period_start", "value"]].assign(series="Federation")
    own_pos = pos.series[["period_start", "value", "lower_ci", "upper_ci"]].assign(series=p["display_name"])
    trend = pd.concat([own_pos, fed_pos], ignore_index=True)
    st.plotly_chart(charts.trend_figure(trend, "period_start", "value", series="series", unit="%",
                                        target=pos.target, band=("lower_ci", "upper_ci"),
                                        title="Friends and Family Test: % positive (shaded: 95% interval)",
                                        height=320), width="stretch", key="profile_fft")
    behind = pd.DataFrame({
        "Month": pos.series["period_start"].map(month_label),
        "Responses": pos.series["denominator"],
        "Positive (%)": pos.series["value"].round(1),
        "95% interval": [interval_label(lo, hi) for lo, hi in zip(pos.series["lower_ci"], pos.series["upper_ci"])],
        "Federation (%)": pos.series["period_start"].map(fed_series.set_index("period_start")["value"]).round(1),
        "Note": [pos.judgement_text if s else "" for s in pos.series["suppressed"]],
    })
    views.data_behind(behind, f"{code}_fft_positive.csv", "profile_fft")
    views.page_link("pages/feedback.py", viewer.role, label="Patient feedback and comments", icon=":material/forum:")

# --- Complaints and significant events ----------------------------------------------------------------------------
st.subheader("Complaints and significant events")
comp = views.practice_complaints(viewer, filters, code)
sea = views.significant_events_summary(viewer, filters, code)
st.caption(f"{comp['start']:%B %Y} to {comp['end']:%B %Y} (12 months).")
left, right = st.columns(2)
with left, st.container(border=True):
    st.markdown("**Complaints**")
    k1, k2, k3 = st.columns(3)
    k1.metric("Received", comp["count"])
    k2.metric("Still open", comp["open"])
    k3.metric("Days to resolve",
              "–" if comp["median_resolve_days"] is None else f"{comp['median_resolve_days']:.0f}",
              help="Median working days from receipt to resolution; median time to acknowledge: "
                   + ("–" if comp["median_ack_days"] is None else f"{comp['median_ack_days']:.0f} working days."))
    if comp["count"]:
        st.dataframe(comp["by_category"], hide_index=True, width="stretch")
    else:
        st.caption("No complaints received in these 12 months.")
with right, st.container(border=True):
    st.markdown("**Significant events**")
    s1, s2 = st.columns(2)
    s1.metric("Recorded", sea["count"])
    s2.metric("Learning recorded", f"{sea['with_learning']} of {sea['count']}" if sea["count"] else "–")
    if sea["count"]:
        st.dataframe(sea["by_category"], hide_index=True, width="stretch")
    else:
        st.caption("No significant events recorded in these 12 months.")
if viewer.may_see_people(code):
    with st.expander("Complaint and significant event details", icon=":material/folder_open:"):
        st.dataframe(dates_in_words(views.complaints_list(viewer, filters, code)), hide_index=True, width="stretch")
        st.dataframe(dates_in_words(views.significant_events_list(viewer, filters, code)), hide_index=True,
                     width="stretch")
else:
    st.caption("Complaint and significant event details are shown only to this practice's lead and the board.")

# --- Evidence register --------------------------------------------------------------------------------------------
st.subheader("Evidence register")
profile_section(viewer, code)
