"""The derived indicators worked out from the practice records (staff survey, Patient Participation Group, premises
checks, workforce, violence and abuse towards staff): one registered function each, raw tables in, practice-month
numerators and denominators out (see ``derivations.py`` for the contract). Which check types or roles count is the
catalogue entry's ``checks`` / ``roles`` in ``federation.toml``, never a word in this file.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import Connection, select

from .. import models_records as m
from ..config import Indicator
from ..db import tuples
from .derivations import Context
from .registry import derivation

COLUMNS = ["practice_id", "period_start", "numerator", "denominator"]
WINDOW_MONTHS = 12  # rolling measures (PPG, turnover) look back a year; a check with no next-due date lasts a year


def _empty() -> pd.DataFrame:
    return pd.DataFrame(columns=COLUMNS)


def _month(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series).dt.to_period("M").dt.to_timestamp()


def _read(ctx: Context, key: str, stmt, columns: list[str], dates: tuple[str, ...]) -> pd.DataFrame:
    """A raw table once per refresh (several measures read each)."""
    if key not in ctx._cache:
        df = pd.DataFrame(tuples(ctx.conn.execute(stmt)), columns=columns)
        for c in dates:
            df[c] = pd.to_datetime(df[c])
        ctx._cache[key] = df
    return ctx._cache[key]


def _out(df: pd.DataFrame) -> pd.DataFrame:
    return df[COLUMNS].astype({"numerator": float, "denominator": float}) if len(df) else _empty()


def _norm(text) -> str:
    return " ".join(str(text).lower().split())


# ------------------------------------------------------------------------------------------------------------------
# Staff survey
# ------------------------------------------------------------------------------------------------------------------
def _survey(ctx: Context) -> pd.DataFrame:
    t = m.StaffSurveyResult
    return _read(ctx, "staff_survey", select(t.practice_id, t.period_start, t.respondents, t.positive),
                 ["practice_id", "period_start", "respondents", "positive"], ("period_start",))


def staff_survey_respondents(conn: Connection) -> pd.DataFrame:
    """Respondents per practice-month (the most who answered any one question): what the small-number rule for staff
    counts, so a survey of four people is hidden however many questions it asked."""
    t = m.StaffSurveyResult
    df = pd.DataFrame(tuples(conn.execute(select(t.practice_id, t.period_start, t.respondents))),
                      columns=["practice_id", "period_start", "respondents"])
    if df.empty:
        return df.assign(count=[])
    df["period_start"] = _month(df["period_start"])
    return df.groupby(["practice_id", "period_start"], as_index=False)["respondents"].max().rename(
        columns={"respondents": "count"})


@derivation("staff_survey_positive", reads="staff_survey", method=(
    "Worked out from the practice's staff survey or pulse results: positive answers (agree or strongly agree) ÷ all "
    "answers, over every question asked in the month the survey closed. Results from fewer than {min} respondents "
    "are not shown, so no member of staff can be identified."))
def staff_survey_positive(ctx: Context, ind: Indicator) -> pd.DataFrame:
    df = _survey(ctx)
    if df.empty:
        return _empty()
    g = df.assign(period_start=_month(df["period_start"])).groupby(["practice_id", "period_start"], as_index=False)
    return _out(g.agg(numerator=("positive", "sum"), denominator=("respondents", "sum")))


# ------------------------------------------------------------------------------------------------------------------
# Rolling windows (PPG, turnover): for each month, the records of the year to its end
# ------------------------------------------------------------------------------------------------------------------
def _rolling(df: pd.DataFrame, date_col: str, months: pd.DatetimeIndex, summarise) -> pd.DataFrame:
    """``summarise(window) -> DataFrame[practice_id, numerator, denominator]`` for each month, over the rows of the
    twelve months to its end; a practice counts from the month of its first record."""
    if df.empty or not len(months):
        return _empty()
    first = df.groupby("practice_id")[date_col].min().dt.to_period("M").dt.to_timestamp()
    frames = []
    for month in months:
        end = month + pd.offsets.MonthEnd(0)
        start = end - pd.DateOffset(months=WINDOW_MONTHS)
        active = first[first <= month].index
        window = df[(df[date_col] > start) & (df[date_col] <= end) & df["practice_id"].isin(active)]
        got = summarise(window, active)
        if len(got):
            frames.append(got.assign(period_start=month))
    return _out(pd.concat(frames, ignore_index=True)) if frames else _empty()


def _ppg(ctx: Context) -> pd.DataFrame:
    t = m.PPGMeeting
    return _read(ctx, "ppg", select(t.practice_id, t.meeting_date, t.members, t.actions_agreed, t.actions_done),
                 ["practice_id", "meeting_date", "members", "actions_agreed", "actions_done"], ("meeting_date",))


@derivation("ppg_actions_done", reads="ppg", method=(
    "Worked out from the Patient Participation Group's meeting log: actions done ÷ actions agreed, over the meetings "
    "of the twelve months to the end of the month."))
def ppg_actions_done(ctx: Context, ind: Indicator) -> pd.DataFrame:
    def summarise(w, _active):
        return w.groupby("practice_id", as_index=False).agg(numerator=("actions_done", "sum"),
                                                           denominator=("actions_agreed", "sum"))
    return _rolling(_ppg(ctx), "meeting_date", ctx.months, summarise)


@derivation("ppg_meetings_per_year", reads="ppg", method=(
    "Worked out from the Patient Participation Group's meeting log: meetings held in the twelve months to the end of "
    "the month (a practice whose group has not met counts as none; the federation figure is the average per "
    "practice)."))
def ppg_meetings_per_year(ctx: Context, ind: Indicator) -> pd.DataFrame:
    def summarise(w, active):
        n = w.groupby("practice_id").size().reindex(active, fill_value=0)
        return pd.DataFrame({"practice_id": n.index, "numerator": n.to_numpy(), "denominator": 1.0})
    return _rolling(_ppg(ctx), "meeting_date", ctx.months, summarise)


@derivation("ppg_members_per_1000", reads="ppg", method=(
    "Worked out from the Patient Participation Group's meeting log: members at the latest meeting in the twelve months "
    "to the end of the month ÷ registered patients × 1,000."))
def ppg_members_per_1000(ctx: Context, ind: Indicator) -> pd.DataFrame:
    def summarise(w, _active):
        latest = w.sort_values("meeting_date").drop_duplicates("practice_id", keep="last")
        return pd.DataFrame({"practice_id": latest["practice_id"], "numerator": latest["members"],
                             "denominator": latest["practice_id"].map(ctx.sizes)})
    return _rolling(_ppg(ctx), "meeting_date", ctx.months, summarise)


# ------------------------------------------------------------------------------------------------------------------
# Premises and infection-control checks
# ------------------------------------------------------------------------------------------------------------------
def _checks(ctx: Context, ind: Indicator) -> pd.DataFrame:
    t = m.PremisesCheck
    df = _read(ctx, "premises", select(t.practice_id, t.check_type, t.done_on, t.next_due, t.score),
               ["practice_id", "check_type", "done_on", "next_due", "score"], ("done_on", "next_due"))
    if df.empty:
        return df
    wanted = {_norm(c): c for c in ind.checks}
    first = df.groupby("practice_id")["done_on"].min().rename("first_record")
    df = df.assign(kind=df["check_type"].map(_norm).map(wanted)).dropna(subset=["kind"])
    return df.join(first, on="practice_id")


def _latest_valid(df: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    """Per practice and check type, the latest check done by ``end``, and whether it is still in date then (its
    next-due date not passed; without one, done within the last year)."""
    done = df[df["done_on"] <= end].sort_values("done_on", kind="mergesort").drop_duplicates(
        ["practice_id", "kind"], keep="last")
    lasts = done["done_on"] + pd.DateOffset(months=WINDOW_MONTHS)
    due = done["next_due"].where(done["next_due"].notna(), lasts)
    return done.assign(in_date=(due >= end).to_numpy())


@derivation("premises_checks_in_date", reads="premises", method=(
    "Worked out from the premises and infection-control check log at the end of each month: of the checks every "
    "practice must hold (fire, health and safety, infection control, legionella, equipment: the catalogue's list), "
    "those done and not past their next-due date ÷ all of them. A check type never recorded counts as not in date; "
    "a check without a next-due date lasts a year."))
def premises_checks_in_date(ctx: Context, ind: Indicator) -> pd.DataFrame:
    df = _checks(ctx, ind)
    if df.empty or not ind.checks:
        return _empty()
    firsts = df.groupby("practice_id")["first_record"].first()
    frames = []
    for month in ctx.months:
        end = month + pd.offsets.MonthEnd(0)
        active = firsts[firsts.dt.to_period("M").dt.to_timestamp() <= month].index
        if not len(active):
            continue
        ok = _latest_valid(df[df["practice_id"].isin(active)], end)
        n = ok[ok["in_date"]].groupby("practice_id").size().reindex(active, fill_value=0)
        frames.append(pd.DataFrame({"practice_id": n.index, "period_start": month, "numerator": n.to_numpy(),
                                    "denominator": float(len(set(map(_norm, ind.checks))))}))
    return _out(pd.concat(frames, ignore_index=True)) if frames else _empty()


@derivation("premises_audit_score", reads="premises", method=(
    "Worked out from the premises and infection-control check log: the score (out of 100) of the latest scored audit "
    "of the catalogue's type still in date at the end of the month; the federation figure is the average over "
    "practices."))
def premises_audit_score(ctx: Context, ind: Indicator) -> pd.DataFrame:
    df = _checks(ctx, ind)
    if df.empty:
        return _empty()
    df = df[df["score"].notna()]
    frames = []
    for month in ctx.months:
        ok = _latest_valid(df, month + pd.offsets.MonthEnd(0))
        ok = ok[ok["in_date"]]
        if len(ok):
            frames.append(ok.groupby("practice_id", as_index=False)["score"].mean().rename(
                columns={"score": "numerator"}).assign(denominator=1.0, period_start=month))
    return _out(pd.concat(frames, ignore_index=True)) if frames else _empty()


# ------------------------------------------------------------------------------------------------------------------
# Workforce
# ------------------------------------------------------------------------------------------------------------------
def _workforce(ctx: Context, ind: Indicator) -> pd.DataFrame:
    t = m.WorkforceMonth
    df = _read(ctx, "workforce", select(t.practice_id, t.month, t.role, t.headcount, t.wte, t.vacancies_wte,
                                        t.leavers, t.sickness_days),
               ["practice_id", "month", "role", "headcount", "wte", "vacancies_wte", "leavers", "sickness_days"],
               ("month",))
    if ind.roles and len(df):
        df = df[df["role"].isin(ind.roles)]
    if len(df):
        df = df.assign(month=_month(df["month"]))
        for c in ("headcount", "wte", "vacancies_wte", "leavers", "sickness_days"):
            df[c] = pd.to_numeric(df[c], errors="coerce")
    return df


def _per_month(df: pd.DataFrame, **agg) -> pd.DataFrame:
    return df.groupby(["practice_id", "month"], as_index=False).agg(**agg).rename(columns={"month": "period_start"})


@derivation("workforce_vacancy_rate", reads="workforce", method=(
    "Worked out from the practice's monthly workforce return: vacant posts (whole-time equivalent) ÷ (staff in post + "
    "vacant posts, whole-time equivalent)."))
def workforce_vacancy_rate(ctx: Context, ind: Indicator) -> pd.DataFrame:
    df = _workforce(ctx, ind)
    if df.empty:
        return _empty()
    g = _per_month(df.assign(funded=df["wte"] + df["vacancies_wte"]), numerator=("vacancies_wte", "sum"),
                   denominator=("funded", "sum"))
    return _out(g)


@derivation("workforce_turnover", reads="workforce", method=(
    "Worked out from the practice's monthly workforce return: leavers in the twelve months to the end of the month ÷ "
    "the average number of staff in post (headcount) over those months."))
def workforce_turnover(ctx: Context, ind: Indicator) -> pd.DataFrame:
    df = _workforce(ctx, ind)
    if df.empty:
        return _empty()
    monthly = df.groupby(["practice_id", "month"], as_index=False)[["headcount", "leavers"]].sum()

    def summarise(w, _active):
        g = w.groupby("practice_id").agg(leavers=("leavers", "sum"), headcount=("headcount", "mean"))
        return pd.DataFrame({"practice_id": g.index, "numerator": g["leavers"].to_numpy(),
                             "denominator": g["headcount"].to_numpy()})
    months = ctx.months[ctx.months >= monthly["month"].min() + pd.DateOffset(months=WINDOW_MONTHS - 1)]
    return _rolling(monthly, "month", months, summarise)


@derivation("workforce_sickness_absence", reads="workforce", method=(
    "Worked out from the practice's monthly workforce return: whole-time-equivalent days lost to sickness ÷ "
    "whole-time-equivalent days available (staff in post, whole-time equivalent, × the weekdays in the month)."))
def workforce_sickness_absence(ctx: Context, ind: Indicator) -> pd.DataFrame:
    df = _workforce(ctx, ind)
    df = df[df["sickness_days"].notna()] if len(df) else df
    if df.empty:
        return _empty()
    starts = df["month"].to_numpy().astype("datetime64[D]")
    ends = (df["month"] + pd.offsets.MonthBegin(1)).to_numpy().astype("datetime64[D]")
    available = df["wte"] * np.busday_count(starts, ends)
    return _out(_per_month(df.assign(available=available), numerator=("sickness_days", "sum"),
                           denominator=("available", "sum")))


@derivation("workforce_wte_per_1000", reads="workforce", method=(
    "Worked out from the practice's monthly workforce return: staff in post in the catalogue's roles (whole-time "
    "equivalent) ÷ registered patients × 1,000."))
def workforce_wte_per_1000(ctx: Context, ind: Indicator) -> pd.DataFrame:
    df = _workforce(ctx, ind)
    if df.empty:
        return _empty()
    g = _per_month(df, numerator=("wte", "sum"))
    return _out(g.assign(denominator=g["practice_id"].map(ctx.sizes)))


# ------------------------------------------------------------------------------------------------------------------
# Violence and abuse towards staff
# ------------------------------------------------------------------------------------------------------------------
def _incidents(ctx: Context) -> pd.DataFrame:
    t = m.AbuseIncident
    return _read(ctx, "abuse", select(t.practice_id, t.incident_date, t.action_taken),
                 ["practice_id", "incident_date", "action_taken"], ("incident_date",))


@derivation("abuse_incidents_per_1000", reads="violence", method=(
    "Worked out from the log of violence and abuse towards staff: incidents recorded in the month ÷ registered "
    "patients × 1,000 (from the first month the federation recorded any, months without incidents count as zero)."))
def abuse_incidents_per_1000(ctx: Context, ind: Indicator) -> pd.DataFrame:
    df = _incidents(ctx)
    if df.empty or not len(ctx.months):
        return _empty()
    df = df.assign(period_start=_month(df["incident_date"]))
    months = ctx.months[ctx.months >= df["period_start"].min()]
    grid = pd.MultiIndex.from_product([ctx.sizes.index, months], names=["practice_id", "period_start"])
    counts = df.groupby(["practice_id", "period_start"]).size().reindex(grid, fill_value=0)
    out = counts.rename("numerator").reset_index()
    return _out(out.assign(denominator=out["practice_id"].map(ctx.sizes)))


@derivation("abuse_incidents_actioned", reads="violence", method=(
    "Worked out from the log of violence and abuse towards staff: incidents with the action taken recorded (a "
    "warning, a report to the police, removal from the list, support for the member of staff) ÷ incidents recorded."))
def abuse_incidents_actioned(ctx: Context, ind: Indicator) -> pd.DataFrame:
    df = _incidents(ctx)
    if df.empty:
        return _empty()
    df = df.assign(period_start=_month(df["incident_date"]),
                   acted=df["action_taken"].fillna("").astype(str).str.strip() != "")
    g = df.groupby(["practice_id", "period_start"], as_index=False).agg(numerator=("acted", "sum"),
                                                                        denominator=("acted", "size"))
    return _out(g)
