"""Patient feedback: what patients said in the Friends and Family Test, month by month and practice by practice,
what they wrote, and how complaints were handled. Comments and complaint details are shown only for the practices
the viewer may see person-level data for; figures on too few responses (federation.toml) are never shown."""
import pandas as pd
import streamlit as st

from ui import charts, state, theme, views
from ui import data as shared
from ui import training_feedback as tf
from ui.format import describe_filters, each_in_words, format_value, metric_delta, month_label
from ui.guard import page_context
from ui.text import plain

viewer, filters = page_context(__file__)
cfg = state.config()
practices = state.practice_list(viewer)
names = dict(zip(practices["code"], practices["display_name"]))
MIN = cfg.thresholds.suppression_min
HIDDEN = f"fewer than {MIN} responses: not shown"

trends = tf.fft_trends(viewer, filters)
monthly = tf.fft_by_month(viewer, filters, "current")
old_monthly = tf.fft_by_month(viewer, filters, "legacy")
legacy = tf.legacy_use(viewer, filters)
signals = tf.practice_signals(viewer, filters, "FFT_POSITIVE")
by_practice, pooled = tf.fft_by_practice(viewer, filters, 12)
summary, categories, details = tf.complaints(viewer, filters)
positive, negative = trends.get("FFT_POSITIVE"), trends.get("FFT_NEGATIVE")

st.title("Patient feedback")
st.caption(plain(describe_filters(filters, practices)))
if shared.demo_database():
    st.info("Demo data: the practices, patients' comments and figures shown are fictional.", icon=":material/info:")
if monthly.empty and old_monthly.empty:
    st.warning("No Friends and Family Test responses for the chosen practices and period: widen the period, clear "
               "the practice filter, or import the practices' FFT returns.")

# --- Headline figures -------------------------------------------------------------------------------------------
last = monthly.iloc[-1] if not monthly.empty else None
cols = st.columns(5)
for col, res, label in ((cols[0], positive, "Positive"), (cols[1], negative, "Negative")):
    with col:
        if res is None:
            continue
        value = "Not shown" if res.suppressed else format_value(res.latest_value, "%")
        st.metric(f"% {label.lower()}", value,
                  **metric_delta(res.change, "%", res.indicator.direction),
                  help=f"{res.indicator.name}: {res.indicator.description}", border=True)
        kind = label.lower()
        if res.latest_value is None and not res.suppressed:
            st.caption("No responses to the current question in this period")
        else:
            lo_hi = "" if last is None or res.suppressed else \
                f"{month_label(res.latest_period)} · 95% CI {tf.pct(last[kind + '_lower'])}–" \
                f"{tf.pct(last[kind + '_upper'])} · "
            st.caption(lo_hi + (f"{tf.RAG_SYMBOLS[res.rag]} {tf.RAG_WORDS[res.rag]} (target {res.target:g}%)"
                                if res.target is not None else ""))
with cols[2]:
    total = None if last is None or pd.isna(last["total"]) else int(last["total"])
    st.metric("Responses",
              "Not shown" if last is not None and last["suppressed"] else
              ("–" if total is None else f"{total:,}"), border=True,
              help="Responses to the current question in the latest month shown.")
    rate = trends.get("FFT_RESPONSE_RATE")
    if rate is not None and rate.latest_value is not None:
        st.caption(f"{month_label(last['month']) if last is not None else ''} · {rate.latest_value:.1f} per 1,000 "
                   "patients")
complaints_all = summary[summary["practice_code"] == "ALL"]
with cols[3]:
    received = int(complaints_all["received"].iloc[0]) if len(complaints_all) else 0
    st.metric("Complaints", f"{received:,}", border=True,
              help=f"Complaints received in the {filters.months} months shown.")
    if len(complaints_all):
        st.caption(f"received in {filters.months} months · {int(complaints_all['open'].iloc[0])} still open")
ack_days, res_days = (cfg.indicator("COMPLAINTS_ACK_3D").days, cfg.indicator("COMPLAINTS_RESOLVED_40D").days)
with cols[4]:
    ack = complaints_all["ack_pct"].iloc[0] if len(complaints_all) else None
    st.metric("Acknowledged", tf.pct(ack), border=True,
              help=f"Complaints acknowledged within {ack_days} working days, of those decided, over the period.")
    if len(complaints_all):
        st.caption(f"within {ack_days} working days · {tf.pct(complaints_all['resolved_pct'].iloc[0])} resolved "
                   f"within {res_days}")

# --- What stands out ----------------------------------------------------------------------------------------------
notes = []
for r in signals[signals["concern_from"].notna()].itertuples(index=False):
    notes.append(f"**{plain(r.practice_name)}**: {plain(r.summary.replace('Special-cause concern', 'a special-cause fall in % positive', 1))}"
                 f" Latest {format_value(r.latest, '%')} positive.")
for r in legacy.itertuples(index=False):
    notes.append(f"**{plain(r.practice_name)}** asked the old question (how likely to recommend) from "
                 f"{month_label(r.first_month)} to {month_label(r.last_month)} ({int(r.responses):,} responses). "
                 "Those months are shown as their own series below, never mixed into % positive.")
worse = by_practice[by_practice["funnel"] == "worse"]
if len(worse):
    notes.append("Over the last 12 months, " + ", ".join(f"**{plain(n)}**" for n in worse["practice_name"])
                 + f" had a lower % positive than the federation ({tf.pct(pooled)}), beyond what chance explains "
                   "(outside the 99.8% funnel limits).")
hidden_months = int(monthly["suppressed"].sum()) if not monthly.empty else 0
if hidden_months:
    notes.append(f"{hidden_months} month(s) had fewer than {MIN} responses and are not shown.")
if notes:
    with st.container(border=True):
        st.markdown("**What stands out**")
        for n in notes:
            st.markdown(f"- {n}")

# --- By month -----------------------------------------------------------------------------------------------------
st.subheader("Friends and Family Test by month")
st.caption("% positive = Very good + Good, of all responses; % negative = Poor + Very poor, of all responses "
           "(Neither and Don't know stay in the total). Bars show 95% confidence intervals (Wilson): a wide bar "
           f"means few responses. Months with fewer than {MIN} responses are not shown.")
if monthly.empty:
    st.info("No responses to the current question in this period.")
else:
    pos_target = positive.target if positive is not None else None
    neg_target = negative.target if negative is not None else None
    left, right = st.columns(2)
    with left:
        st.plotly_chart(tf.fft_interval_figure(monthly, "positive", "% positive", theme.NHS_BLUE, pos_target),
                        width="stretch", key="fft_pos_ci")
    with right:
        st.plotly_chart(tf.fft_interval_figure(monthly, "negative", "% negative", theme.NHS_ORANGE, neg_target),
                        width="stretch", key="fft_neg_ci")
    month_table = pd.DataFrame({
        "Month": monthly["month"].map(month_label), "Responses": monthly["total"],
        "Very good": monthly["very_good"], "Good": monthly["good"], "Neither": monthly["neither"],
        "Poor": monthly["poor"], "Very poor": monthly["very_poor"], "Don't know": monthly["dont_know"],
        "% positive": monthly["pct_positive"].round(1), "Positive 95% CI low": monthly["positive_lower"].round(1),
        "Positive 95% CI high": monthly["positive_upper"].round(1), "% negative": monthly["pct_negative"].round(1),
        "Negative 95% CI low": monthly["negative_lower"].round(1),
        "Negative 95% CI high": monthly["negative_upper"].round(1), "Practices": monthly["practices"],
        "Note": monthly["note"],
    })
    tf.chart_table(month_table, "fft_by_month.csv", "FFT by month", "dl_fft_month", height=360)

    st.markdown("**Is the change real?** Control charts (Making Data Count) of the same monthly figures.")
    left, right = st.columns(2)
    for col, res, key in ((left, positive, "pos"), (right, negative, "neg")):
        if res is None:
            continue
        with col:
            st.markdown(f"**{res.indicator.name}**")
            st.plotly_chart(views.spc_chart(viewer, filters, res.indicator.code, None, 340), width="stretch",
                            key=f"fft_spc_{key}")
            st.caption(charts.spc_caption(res))
            tf.chart_table(charts.spc_table(res), f"fft_{key}_spc.csv", "the control chart data",
                           f"dl_fft_spc_{key}", height=300)

# --- By practice ----------------------------------------------------------------------------------------------------
st.subheader("By practice")
pm = tf.fft_practice_months(viewer, filters)
if pm.empty:
    st.info("No responses to the current question from the chosen practices in this period.")
else:
    st.markdown("**% positive, practice by practice and month**")
    st.caption(f"Each cell is that practice's % positive that month (current question). '<5': fewer than {MIN} "
               "responses, not shown; 'old': the practice used the old question that month (see below); blank: "
               "no responses. Orange is lower, blue higher; the number in each cell is what counts.")
    st.plotly_chart(tf.fft_heatmap_for(viewer, filters, tuple(sorted(names.items()))), width="stretch",
                    key="fft_heatmap")
    pm_table = pd.DataFrame({
        "Practice": pm["practice_name"], "Month": each_in_words(pm["month"]), "Responses": pm["total"],
        "% positive": pm["pct_positive"].round(1), "95% CI low": pm["positive_lower"].round(1),
        "95% CI high": pm["positive_upper"].round(1), "% negative": pm["pct_negative"].round(1),
        "Note": pm["note"],
    })
    tf.chart_table(pm_table, "fft_by_practice_and_month.csv", "practice by month", "dl_fft_pm", height=360)

    st.markdown("**Last 12 months compared with the whole federation**")
    if by_practice.empty or pooled is None:
        st.info("No responses in the last 12 months of the period.")
    else:
        points = pd.DataFrame({
            "label": by_practice["practice_name"], "numerator": by_practice["positive"],
            "denominator": by_practice["total"], "value": by_practice["pct_positive"],
            "position": by_practice["funnel"],
        }).dropna(subset=["value", "denominator"])
        left, right = st.columns([3, 2])
        with left:
            st.plotly_chart(charts.funnel_figure(points, pooled, "%"), width="stretch", key="fft_funnel")
            st.caption(f"Funnel plot around the federation's {tf.pct(pooled)} positive: the funnel shows how far a "
                       "practice of each size can fall from it by chance (95% and 99.8% limits). FFT is not for "
                       "league tables: compare, don't rank.")
        with right:
            bp_table = pd.DataFrame({
                "Practice": by_practice["practice_name"], "Responses": by_practice["total"],
                "% positive": by_practice["pct_positive"].round(1),
                "95% CI": [f"{lo:.1f}–{hi:.1f}" if pd.notna(lo) else "–" for lo, hi in
                           zip(by_practice["positive_lower"], by_practice["positive_upper"])],
                "Compared with the federation": by_practice["compared"],
                "Funnel (99.8%)": by_practice["funnel"], "Note": by_practice["note"],
            })
            tf.table_with_download(bp_table, "fft_by_practice_12_months.csv", "the comparison", "dl_fft_bp")
    signal_table = pd.DataFrame({
        "Practice": signals["practice_name"], "Latest % positive": signals["latest"].astype(float).round(1),
        "What its control chart says": signals["variation_text"], "Special-cause concern": signals["summary"],
    })
    with st.expander("Each practice's own control chart, in words"):
        tf.table_with_download(signal_table, "fft_practice_signals.csv", "each practice's signals", "dl_fft_sig")

# --- Responses ------------------------------------------------------------------------------------------------------
st.subheader("Responses and how they were collected")
modes = tf.response_modes(viewer, filters)
if modes.empty:
    st.info("No responses in this period.")
else:
    shares = modes[list(tf.MODES)].sum()
    total_all = float(modes["total"].sum())
    st.caption("All responses (both questions) per month by how they were collected. Over the period: "
               + ", ".join(f"{k} {v / total_all * 100:.0f}%" for k, v in shares.sort_values(ascending=False).items()
                           if total_all and v) + ".")
    st.plotly_chart(tf.modes_figure(modes), width="stretch", key="fft_modes")
    mode_table = modes.assign(month=modes["month"].map(month_label)).rename(
        columns={"month": "Month", "total": "Responses", "suppressed": f"Fewer than {MIN}: not shown"})
    tf.chart_table(mode_table, "fft_responses_by_mode.csv", "responses by mode", "dl_fft_modes", height=320)

# --- Old question -----------------------------------------------------------------------------------------------------
st.subheader("Old question: how likely to recommend")
if old_monthly.empty:
    st.info("No practice used the old question (before the 2020 change) in this period, so there is no separate "
            "series to show.")
else:
    who = ", ".join(legacy["practice_name"]) if not legacy.empty else "Some practices"
    st.caption(f"{plain(who)} still asked “How likely are you to recommend…” in these months. Its answers are not the "
               "same as the current question's, so they form their own series: % extremely likely or likely to "
               "recommend, with 95% confidence intervals.")
    left, right = st.columns([3, 2])
    with left:
        st.plotly_chart(tf.legacy_figure(old_monthly), width="stretch", key="fft_legacy")
    with right:
        words = tf.ANSWER_WORDS["legacy"]
        old_table = pd.DataFrame({
            "Month": old_monthly["month"].map(month_label), "Responses": old_monthly["total"],
            words[1]: old_monthly["very_good"], words[2]: old_monthly["good"], words[3]: old_monthly["neither"],
            words[4]: old_monthly["poor"], words[5]: old_monthly["very_poor"], words[6]: old_monthly["dont_know"],
            "% likely to recommend": old_monthly["pct_positive"].round(1),
            "95% CI low": old_monthly["positive_lower"].round(1),
            "95% CI high": old_monthly["positive_upper"].round(1),
            "% unlikely to recommend": old_monthly["pct_negative"].round(1), "Note": old_monthly["note"],
        })
        tf.table_with_download(old_table, "fft_old_question.csv", "the old question's figures", "dl_fft_old")

# --- What patients wrote ------------------------------------------------------------------------------------------
st.subheader("What patients wrote")
themes = tf.comment_themes(viewer, filters)
if themes.empty:
    st.info("No comments in this period.")
else:
    st.caption("Comments tagged by theme from the words they use (a comment can carry several themes), split by "
               "the patient's answer. Counts cover every selected practice.")
    st.plotly_chart(tf.themes_figure(themes), width="stretch", key="fft_themes")
    tf.chart_table(themes.rename(columns={"theme": "Theme", "positive": "Positive answer", "neutral": "Neither",
                                          "negative": "Negative answer", "total": "All comments"}),
                   "fft_comment_themes.csv", "comment themes", "dl_fft_themes")

st.markdown("**Comments**")
readable, why_not = tf.readable_practices(viewer, filters)
if not readable:
    st.info(plain(why_not), icon=":material/lock:")
else:
    c1, c2, c3, c4, c5 = st.columns([3, 2, 2, 2, 2])
    search = c1.text_input("Search the comments", key="fb_search", placeholder="e.g. phone, prescription")
    chosen_practice = c2.selectbox("Practice", ["All", *readable], key="fb_practice",
                                   format_func=lambda c: "All my practices" if c == "All" and
                                   viewer.role == "practice_lead" else ("All" if c == "All" else names.get(c, c)))
    months = tf.comment_months(filters)
    chosen_month = c3.selectbox("Month", ["All", *months], key="fb_month",
                                format_func=lambda d: "All months" if d == "All" else month_label(d))
    ratings = c4.multiselect("Answer", [1, 2, 3, 4, 5, 6], key="fb_ratings", placeholder="Any answer",
                             format_func=lambda r: tf.ANSWER_WORDS["current"][r])
    chosen_themes = c5.multiselect("Theme", tf.theme_names(), key="fb_themes", placeholder="Any theme")
    result = tf.comments(viewer, filters, search=search,
                         practice_codes=() if chosen_practice == "All" else (chosen_practice,),
                         month=None if chosen_month == "All" else chosen_month, ratings=tuple(ratings),
                         themes=tuple(chosen_themes))
    if result.rows.empty:
        st.info(result.reason or "No comments match these filters.")
    else:
        shown = len(result.rows)
        st.caption(f"{result.matching:,} comments match"
                   + (f"; the {'best' if search.strip() else 'newest'} {shown:,} are shown" if shown <
                      result.matching else "")
                   + (", best matches first" if search.strip() else "")
                   + ". Old-question answers are shown in their own words. Phone numbers, emails, NHS numbers, "
                     "postcodes and names after a title (Mrs Smith, Dr Patel) are removed"
                   + (" for everyone but administrators, here and in the download." if viewer.role != "admin" else
                      " for everyone else (you see the original)."))
        comment_table = pd.DataFrame({
            "Date": [tf.date_text(d) for d in result.rows["date"]], "Practice": result.rows["practice_name"],
            "Answer": result.rows["answer"], "Comment": result.rows["comment"].fillna(""),
            "Follow-up answer": result.rows["follow_up"].fillna(""), "Themes": result.rows["themes"],
            "Question": result.rows["question"], "Collected by": result.rows["mode"].fillna(""),
        })
        if (comment_table["Follow-up answer"] == "").all():
            comment_table = comment_table.drop(columns="Follow-up answer")
        # the comment wraps instead of being cut off; on a phone each comment is a card under its practice
        tf.table_with_download(comment_table, "fft_comments.csv", "these comments", "dl_fft_comments", wrap=4,
                               cards=("Practice",), audited="patient comments")

# --- Complaints ------------------------------------------------------------------------------------------------------
st.subheader("Complaints and response times")
body = summary[summary["practice_code"] != "ALL"]
if summary.empty or int(summary["received"].sum()) == 0:
    st.info("No complaints received by the chosen practices in this period.")
else:
    st.caption(f"Over the {filters.months} months shown: complaints acknowledged within {ack_days} working days and "
               f"resolved within {res_days} working days, of those decided (a complaint still inside its deadline "
               "is not counted yet). These are the same figures as the board's measures.")
    left, right = st.columns([3, 2])
    with left:
        st.plotly_chart(tf.complaint_times_figure(summary, ack_days, res_days), width="stretch",
                        key="complaint_times")
    with right:
        st.markdown("**By category**")
        tf.table_with_download(categories.rename(columns={"category": "Category", "received": "Received",
                                                          "open": "Still open"}),
                               "complaints_by_category.csv", "complaints by category", "dl_compl_cat")
    complaints_table = pd.DataFrame({
        "Practice": summary["practice_name"], "Received": summary["received"], "Still open": summary["open"],
        f"Acknowledged in {ack_days} days": summary["ack_in_time"].astype(int),
        f"% acknowledged in {ack_days} days": summary["ack_pct"].round(1),
        f"Resolved in {res_days} days": summary["resolved_in_time"].astype(int),
        f"% resolved in {res_days} days": summary["resolved_pct"].round(1),
        "Median working days to acknowledge": summary["median_days_to_ack"],
        "Median working days to resolve": summary["median_days_to_resolve"],
    })
    tf.chart_table(complaints_table, "complaints_by_practice.csv", "complaints by practice", "dl_compl")

    st.markdown("**Each complaint**")
    if details.empty:
        if viewer.role == "viewer":
            st.info("Your role sees complaint figures only, not individual complaints.", icon=":material/lock:")
        elif not viewer.person_level_practices(tuple(body["practice_code"])):
            st.info("Individual complaints are shown for your own practice only, and it is not in the current "
                    "practice filter.", icon=":material/lock:")
        else:
            st.info("No complaints received by your practice in this period.")
    else:
        detail_table = pd.DataFrame({
            "Reference": details["reference"], "Practice": details["practice_name"],
            "Received": each_in_words(details["received_on"], tf.date_text), "Category": details["category"],
            "Working days to acknowledge": [tf.num_text(v) for v in details["days_to_ack"]],
            f"Acknowledged in {ack_days} days": details["ack_in_time"],
            "Working days to resolve": [tf.num_text(v) for v in details["days_to_resolve"]],
            f"Resolved in {res_days} days": details["resolved_in_time"],
            "Outcome": details["outcome"].fillna("–"), "Summary": details["summary"].fillna(""),
        })
        tf.table_with_download(detail_table, "complaints.csv", "these complaints", "dl_compl_detail",
                               readable=True, cards=("Reference",),
                               audited="complaint details")
