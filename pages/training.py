"""Staff training: is required training in date, where, for which roles, is it getting better or worse, and who
needs chasing. Board members see every practice; practice leads see names for their own practice only; the viewer
role sees counts only."""
import pandas as pd
import streamlit as st

from ui import charts, matrix_table, state, views
from ui import data as shared
from ui import training_feedback as tf
from ui.format import day_label, describe_filters, format_value, metric_delta, month_label
from ui.guard import page_context
from ui.text import plain

viewer, filters = page_context(__file__)
cfg = state.config()
practices = state.practice_list(viewer)
targets = cfg.targets()
target, tolerance = targets.get((cfg.screens.training or ("",))[0], (None, cfg.thresholds.rag_tolerance))

as_of, act_on = tf.training_dates(filters)
snap = tf.training_snapshot(viewer, filters, as_of)
action = snap if act_on == as_of else tf.training_snapshot(viewer, filters, act_on)

st.title("Staff training")

# Compliance is measured at the month's end (as the stored figures are); what has lapsed and the chase list are as
# at today for the latest month. Say both dates, and why they differ, once (never "30 November" beside "1 Dec").
dates_words = (f"compliance as at {day_label(as_of)}" if act_on == as_of or not act_on else
               f"compliance as at the month's end, {day_label(as_of)}; lapsed and lapsing training as at today, "
               f"{day_label(act_on)}")
st.caption(f"{plain(describe_filters(filters, practices))} · {dates_words}")
if shared.demo_database():
    st.info("Demo data: the practices, staff and training records shown are fictional.", icon=":material/info:")

if snap.status.empty:
    if snap.practices.empty:
        st.warning("No practices match the filters: clear the practice or PCN filter in the sidebar.")
    else:
        st.warning("No staff in post with required training for the chosen practices on this date, so there is "
                   "nothing to show. Choose a later period or import the practices' staff and training records.")
    st.stop()

matrix = tf.compliance_matrix_for(viewer, filters, as_of)
overall = matrix[(matrix["practice_code"] == "ALL") & (matrix["course"] == "ALL")].iloc[0]
trends = tf.training_trends(viewer, filters)
signals = tf.practice_signals(viewer, filters, cfg.screens.training[0]) if cfg.screens.training else \
    pd.DataFrame(columns=["concern_now"])
counts = tf.lapsing_counts(action)
hours = tf.hours_summary(snap, cfg)

# --- Headline figures -------------------------------------------------------------------------------------------
cols = st.columns(5)
buckets = snap.buckets  # lapsed, never completed, then each lapsing window (federation.toml)
for col, code in zip(cols[:3], cfg.screens.training):
    res = trends.get(code)
    if res is None:
        continue
    with col:
        rag = res.rag
        st.metric(res.indicator.short_name or res.indicator.name, format_value(res.latest_value, "%"),
                  **metric_delta(res.change, "%", res.indicator.direction),
                  help=f"{res.indicator.name}: {res.indicator.description} Measured at the end of "
                       f"{month_label(res.latest_period)}; change since the month before.", border=True)
        st.caption(f"{tf.RAG_SYMBOLS[rag]} {tf.RAG_WORDS[rag]}"
                   + (f" (target {res.target:g}%)" if res.target is not None else ""))
total_row = counts[counts["practice_code"] == "ALL"].iloc[0]
with cols[3]:
    st.metric("Lapsed or not done", f"{int(total_row[buckets[0]] + total_row[buckets[1]]):,}",
              help="Required training items (person × course) not in date now.", border=True)
    st.caption(f"items, as at {day_label(act_on)}")
with cols[4]:
    first_days, last_days = cfg.thresholds.lapsing_buckets[0], cfg.thresholds.lapsing_buckets[-1]
    st.metric(f"Due in {first_days} days", f"{int(total_row[buckets[2]]):,}",
              help=f"Items in date now that expire within the next {first_days} days.", border=True)
    st.caption(f"{int(sum(total_row[b] for b in buckets[3:])):,} more within {last_days} days")

# --- What needs attention ---------------------------------------------------------------------------------------
notes = []
if viewer.role == "practice_lead":
    for code in viewer.practice_codes:
        own = matrix[(matrix["practice_code"] == code) & (matrix["course"] == "ALL")]
        todo = counts[counts["practice_code"] == code]
        if own.empty or todo.empty:
            continue
        t = todo.iloc[0]
        notes.append(f"**Your practice, {plain(own.iloc[0]['practice_name'])}**: {own.iloc[0]['compliance_pct']:.1f}% of "
                     f"required training in date; {int(t[buckets[0]] + t[buckets[1]])} items lapsed or never "
                     f"done and {int(t[buckets[2]])} due within {cfg.thresholds.lapsing_buckets[0]} days (names "
                     f"under *Who to chase* below).")
for r in signals[signals["concern_now"]].itertuples(index=False):
    change = "" if r.change is None or pd.isna(r.change) else \
        f", {'down' if r.change < 0 else 'up'} {abs(r.change):.1f} points on 12 months earlier"
    notes.append(f"**{plain(r.practice_name)}**: {format_value(r.latest, '%')} of required training in date{change}. "
                 f"{plain(r.summary)}")
short = hours[(hours["practice_code"] == "ALL") & (hours["meeting_pct"] < 90)]
for r in short.itertuples(index=False):
    notes.append(f"**{plain(r.course_name)}**: {int(r.meeting)} of {int(r.staff)} staff have done their "
                 f"{r.required_hours:g} hours in the last {int(r.window_months)} months "
                 f"({r.shortfall_hours:g} hours short in all).")
if notes:
    with st.container(border=True):
        st.markdown("**What needs attention**")
        for n in notes:
            st.markdown(f"- {n}")

# --- Compliance by practice and course --------------------------------------------------------------------------
st.subheader("Compliance by practice and course")
st.caption("Each cell: share of required training in date, then in date / required (staff × course pairs for "
           "each person's role). "
           + (f"✔ at or above the {target:g}% target · ▲ within {tolerance:g} points of it · ✖ further below; "
              "the colour repeats the symbol. " if target is not None else "")
           + "Blank: no one at the practice needs that course.")
with st.container(key="wide_training_matrix"):  # a laptop: the heatmap
    st.plotly_chart(tf.compliance_heatmap_for(viewer, filters, as_of, target, tolerance), width="stretch",
                    key="training_matrix")
with st.container(key="narrow_training_matrix"):  # a phone: courses down a column that stays, practices across
    st.html(matrix_table.grid_html(matrix.assign(cell=[
        f"{p:.0f}% ({i:.0f}/{r:.0f})" if r else "" for p, i, r in
        zip(matrix["compliance_pct"].fillna(0), matrix["in_date"].fillna(0), matrix["required"].fillna(0))]),
        "course_name", "practice_name", "cell", "Compliance by practice and course"))
matrix_table = pd.DataFrame({
    "Practice": matrix["practice_name"], "Course": matrix["course_name"], "Required": matrix["required"],
    "In date": matrix["in_date"], "Lapsing within 90 days": matrix["lapsing"], "Lapsed": matrix["lapsed"],
    "Never completed": matrix["never_completed"], "Compliance %": matrix["compliance_pct"].round(1),
})
tf.chart_table(matrix_table, "training_compliance_matrix.csv", "the matrix", "dl_matrix",
               title="Table behind the matrix", height=400)

# --- By role ----------------------------------------------------------------------------------------------------
st.subheader("Compliance by role")
by_role = tf.compliance_by_role(snap)
left, right = st.columns([3, 2])
with left:
    st.plotly_chart(tf.role_bars(by_role, target, tolerance), width="stretch", key="training_roles")
with right:
    role_table = pd.DataFrame({
        "Role": by_role["role"], "Staff in post": by_role["staff"], "Required": by_role["required"],
        "In date": by_role["in_date"], "Lapsed": by_role["lapsed"], "Never completed": by_role["never_completed"],
        "Compliance %": by_role["compliance_pct"].round(1),
    })
    tf.table_with_download(role_table, "training_by_role.csv", "compliance by role", "dl_roles")

# --- Over time ----------------------------------------------------------------------------------------------------
st.subheader("Compliance over time")
st.caption("Monthly, measured at each month's end, with Making Data Count control limits: a change is only called "
           "real when a point falls outside the limits or a run or trend appears.")
main = trends.get(cfg.screens.training[0]) if cfg.screens.training else None
if main is not None:
    st.plotly_chart(views.spc_chart(viewer, filters, main.indicator.code, main.indicator.name), width="stretch",
                    key="spc_training")
    st.caption(charts.spc_caption(main))
    tf.chart_table(charts.spc_table(main), "training_compliance_spc.csv", "the control chart data",
                   "dl_spc_training", height=300)
pair = st.columns(2)
for col, code in zip(pair, cfg.screens.training[1:]):
    res = trends.get(code)
    if res is None:
        continue
    with col:
        st.markdown(f"**{res.indicator.name}**")
        st.plotly_chart(views.spc_chart(viewer, filters, code, None, 340), width="stretch", key=f"spc_{code}")
        st.caption(charts.spc_caption(res))
        tf.chart_table(charts.spc_table(res), f"{code.lower()}_spc.csv", "the control chart data",
                       f"dl_spc_{code}", height=300)

st.markdown("**Each practice over time**")
series = tf.practice_series(viewer, filters, main.indicator.code) if main is not None else pd.DataFrame()
if series.empty:
    st.info("No monthly compliance figures for these practices in the chosen period.")
else:
    names = dict(zip(practices["code"], practices["display_name"]))
    hot = set(signals.loc[signals["concern_now"], "practice_code"])
    fed = tuple(main.series[["period_start", "value"]].itertuples(index=False, name=None)) if main is not None else ()
    st.plotly_chart(tf.practice_lines_for(viewer, filters, main.indicator.code, tuple(sorted(names.items())),
                                          tuple(sorted(hot)), fed, "% in date", target), width="stretch",
                    key="training_practices")
    st.caption("Practices whose own control chart shows special-cause concern in the latest month are drawn in "
               "colour and named; the others are grey.")
    signal_table = pd.DataFrame({
        "Practice": signals["practice_name"],
        "Latest %": signals["latest"].round(1),
        "12 months earlier %": signals["earlier"].astype(float).round(1),
        "Change (points)": signals["change"].astype(float).round(1),
        "What its control chart says": signals["variation_text"],
        "Special-cause concern": signals["summary"],
    })
    tf.chart_table(signal_table, "training_by_practice_over_time.csv", "each practice's trend",
                   "dl_practice_trend")

# --- Lapsed and lapsing -------------------------------------------------------------------------------------------
st.subheader("Lapsed and lapsing training")
st.caption(f"As at {day_label(act_on)}: required items already lapsed or never done, and "
           "those that lapse within 30, 60 and 90 days, so they can be booked in time.")
st.plotly_chart(tf.lapsing_bars(counts), width="stretch", key="training_lapsing")
count_table = counts.drop(columns="practice_code").rename(columns={"practice_name": "Practice"})
tf.chart_table(count_table, "training_lapsing_counts.csv", "counts by practice", "dl_lapsing")
by_course = tf.lapsing_by_course(action)
if not by_course.empty:
    with st.expander("By course"):
        tf.table_with_download(by_course.drop(columns="course").rename(columns={"course_name": "Course"}),
                               "training_lapsing_by_course.csv", "counts by course", "dl_lapsing_course")

st.markdown("**Who to chase**")
chase = tf.chase_list(action, viewer)
if not action.person_level:
    if viewer.role == "viewer":
        st.info("Your role sees counts only; names are for board members and each practice's lead.",
                icon=":material/lock:")
    else:
        st.info("Names are shown for your own practice only, and it is not in the current practice filter.",
                icon=":material/lock:")
elif chase.empty:
    st.success("Nothing to chase: everyone's required training is in date for at least the next 90 days.")
else:
    if viewer.role == "practice_lead":
        st.caption("Names are shown for your practice only; other practices appear as counts above.")
    show = st.pills("Show", list(snap.buckets), selection_mode="multi", default=list(snap.buckets),
                    key="chase_buckets")
    chase_table = tf.chase_table_for(viewer, filters, act_on, tuple(show or ()))
    st.caption(f"{len(chase_table):,} items for {chase_table['Name'].nunique():,} people.")
    tf.table_with_download(chase_table, "training_to_chase.csv", "the list to chase", "dl_chase", wrap=True,
                           cards=("Name",), audited="training chase list (names)")

# --- Safeguarding hours -------------------------------------------------------------------------------------------
st.subheader("Safeguarding hours over the rolling window")
if hours.empty:
    st.info("No requirement in the training policy is measured in hours.")
else:
    st.caption("Some safeguarding levels are met by hours of training accumulated over a rolling window (e.g. 8 "
               "hours in 3 years for level 3) rather than one completion date. A session counts until the "
               "window passes its date.")
    st.plotly_chart(tf.hours_bars(hours), width="stretch", key="training_hours")
    hours_table = pd.DataFrame({
        "Practice": hours["practice_name"], "Course": hours["course_name"],
        "Hours required": hours["required_hours"], "Window (months)": hours["window_months"],
        "Staff": hours["staff"], "Meeting the hours": hours["meeting"], "Meeting %": hours["meeting_pct"].round(1),
        "Hours done in window": hours["hours_done"], "Median hours": hours["median_hours"],
        "Hours short": hours["shortfall_hours"],
    })
    tf.chart_table(hours_table, "safeguarding_hours.csv", "safeguarding hours by practice", "dl_hours",
                   title="Table behind the chart, by practice", height=360)
    people = tf.hours_by_person(snap, viewer)
    if snap.person_level and not people.empty:
        st.markdown("**Hours by member of staff**")
        short_people = people[people["shortfall_hours"] > 0]
        if 0 < len(short_people) <= 30:
            st.plotly_chart(tf.person_hours(short_people), width="stretch", key="training_person_hours")
            st.caption("Staff short of their hours: bar = hours done in the window, tick = hours required.")
        people_table = pd.DataFrame({
            "Practice": people["practice_name"], "Name": people["name"], "Role": people["role"],
            "Course": people["course_name"], "Hours in window": people["hours_in_window"],
            "Hours required": people["required_hours"], "Hours short": people["shortfall_hours"],
            "Status": people["status"], "Met until": [tf.date_text(d) for d in people["expires_on"]],
        })
        tf.chart_table(people_table, "safeguarding_hours_by_person.csv", "hours by member of staff",
                       "dl_hours_people", title="Table: everyone with an hours requirement", height=360,
                       audited="safeguarding hours by person (names)")
