"""The demo federation's practice records: staff surveys, Patient Participation Group meetings, premises and
infection-control checks, the monthly workforce return, violence and abuse towards staff, and the published dementia
figures. Deterministic (their own random generator, so every other demo figure stays as it was) and fictional.

The stories a board would spot:

* **Millstream Surgery** loses a nurse and a GP session in the final year and does not fill them: its vacancy rate
  and sickness absence rise and its staff pulse turns negative — the same year its training compliance slides;
* **Orchard Family Practice** is small: in one quarter only four staff answered the pulse, so that quarter is not
  shown (the small-number rule for staff);
* **Harbour View Surgery**'s phone change (month -18) brings abuse towards reception staff, four times the usual,
  and its PPG's "you said: we can't get through; we did: a call-back queue";
* **Foxglove Health Centre**'s Patient Participation Group has not met for over a year since its chair stood down;
* **Beacon Lane Surgery**'s legionella risk assessment is four months overdue; **Chalk Hill Medical Practice**'s
  infection control audit scored 76 and, after its action plan, 91;
* **Sandpiper Medical Group** (rated Outstanding) runs dementia drop-in clinics with the Alzheimer's Society from
  month -18: its estimated dementia diagnosis rate climbs from about 60% to about 75%.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .config import FederationConfig
from .demo_words import HARBOUR_VIEW, MILLSTREAM, ORCHARD

BEACON_LANE, CHALK_HILL, SANDPIPER, FOXGLOVE = 6, 5, 8, 10

PULSE = "Quarterly staff pulse"
PULSE_QUESTIONS = [
    "I would feel safe speaking up about something that concerns me",
    "I am confident the practice would act on a concern I raised",
    "I have enough time to do my job properly",
    "My manager supports me to do my job",
    "I feel valued for the work I do",
    "I would recommend the practice as a place to work",
]
# Share of each role's people a whole-time equivalent is (sessions, part-time posts).
WTE_SHARE = {"GP": 0.72, "Nurse": 0.8, "HCA": 0.85, "Pharmacist": 0.9, "Receptionist": 0.68, "Administrator": 0.8,
             "Practice manager": 1.0}
CHECK_MONTHS = {"Legionella risk assessment": 24}  # how often each check is done (default yearly)
CHECK_ACTIONS = [
    "Replace two fire door closers", "Re-label the sharps bins in clinical rooms", "Service the emergency lighting",
    "Replace a cracked hand-wash basin in room 3", "Update the COSHH register", "Flush little-used outlets weekly",
]
PPG_ITEMS = [
    ("More appointments in the evening for people who work", "Added extended-hours slots on Tuesday evenings"),
    ("The waiting room screen is hard to read", "New larger screen and a spoken call system"),
    ("We did not know about online repeat prescriptions", "Posters and a text to every patient on repeats"),
    ("Hard to find the practice leaflet for carers", "Carers' corner in reception and a carers' lead named"),
    ("Parking is difficult at school times", "Agreed use of the church car park with the parish"),
]
HARBOUR_PPG = ("We can't get through on the phone since the new system",
               "Call-back queue added and two more staff on the phones from 8 to 10am")
ABUSE_CATEGORIES = np.array(["Verbal abuse", "Threatening behaviour", "Discriminatory abuse", "Online abuse",
                             "Physical assault"], dtype=object)
ABUSE_P = np.array([0.6, 0.2, 0.08, 0.08, 0.04])
ABUSE_ACTIONS = [
    "Warning letter sent; staff member offered support", "Patient removed from the list; reported to the police",
    "Verbal warning given at the time; incident discussed at the team meeting",
    "Acceptable behaviour agreement signed", "Review with the patient and a clinician; staff debriefed",
]


def _months(end_month, months: int) -> pd.DatetimeIndex:
    return pd.date_range(end=pd.Timestamp(end_month), periods=months, freq="MS")


def _in_post(staff: pd.DataFrame, months: pd.DatetimeIndex) -> pd.DataFrame:
    """Headcount and leavers per practice, month and role, from the demo's staff list."""
    ends = (months + pd.offsets.MonthEnd(0)).to_numpy()
    starts = months.to_numpy()
    s = pd.to_datetime(staff["start_date"]).to_numpy()[:, None]
    e = pd.to_datetime(staff["end_date"]).to_numpy()[:, None]
    no_end = np.isnat(e)
    post = (s <= ends[None, :]) & (no_end | (e > ends[None, :]))
    left = ~no_end & (e >= starts[None, :]) & (e <= ends[None, :])
    frames = []
    for name, grid in (("headcount", post), ("leavers", left)):
        df = pd.DataFrame(grid, columns=months)
        df["practice_code"], df["role"] = staff["practice_code"].to_numpy(), staff["role"].to_numpy()
        frames.append(df.groupby(["practice_code", "role"]).sum().stack().rename(name))
    out = pd.concat(frames, axis=1).reset_index()
    return out.rename(columns={out.columns[2]: "month"})


def _workforce(rng, practices: pd.DataFrame, staff: pd.DataFrame, months: pd.DatetimeIndex) -> pd.DataFrame:
    df = _in_post(staff, months)
    n_m = len(months)
    idx = {c: i for i, c in enumerate(practices["code"])}
    p_idx = df["practice_code"].map(idx).to_numpy()
    t = df["month"].map({mth: j for j, mth in enumerate(months)}).to_numpy()
    share = df["role"].map(WTE_SHARE).fillna(0.8).to_numpy() * rng.uniform(0.92, 1.05, len(practices))[p_idx]
    df["wte"] = np.round(np.minimum(df["headcount"] * share, df["headcount"]), 2)
    vac = np.where(rng.random(len(df)) < 0.06, rng.choice([0.4, 0.6, 1.0], len(df)), 0.0)
    late = (p_idx == MILLSTREAM) & (t >= n_m - 12)
    vac = np.where(late & (df["role"] == "Nurse").to_numpy(), vac + 1.0, vac)
    vac = np.where(late & (df["role"] == "GP").to_numpy(), vac + 0.5, vac)
    df["vacancies_wte"] = vac
    rate = rng.uniform(0.025, 0.045, len(practices))[p_idx] + rng.normal(0, 0.008, len(df))
    rate = np.where(late, rate + 0.03 * (t - (n_m - 12) + 1) / 12, rate)
    workdays = np.busday_count(df["month"].to_numpy().astype("datetime64[D]"),
                               (df["month"] + pd.offsets.MonthBegin(1)).to_numpy().astype("datetime64[D]"))
    df["sickness_days"] = np.round(np.clip(rate, 0, 0.5) * df["wte"] * workdays, 1)
    df = df[df["headcount"] > 0].reset_index(drop=True)
    return df[["practice_code", "month", "role", "headcount", "wte", "vacancies_wte", "leavers", "sickness_days"]]


def _staff_survey(rng, practices: pd.DataFrame, workforce: pd.DataFrame, months: pd.DatetimeIndex) -> pd.DataFrame:
    quarters = [mth for mth in months if mth.month in (3, 6, 9, 12)]
    heads = workforce.groupby(["practice_code", "month"])["headcount"].sum()
    base = rng.uniform(0.72, 0.86, len(practices))
    rows = []
    for i, code in enumerate(practices["code"]):
        for q, mth in enumerate(quarters):
            staff = int(heads.get((code, mth), 0))
            answered = int(round(staff * rng.uniform(0.6, 0.85)))
            if i == ORCHARD and q == len(quarters) - 2:
                answered = 4  # a quiet quarter at a small practice: too few to show
            p = base[i] + rng.normal(0, 0.02)
            if i == MILLSTREAM and mth > months[-12]:
                p -= 0.25
            for question in PULSE_QUESTIONS:
                r = max(0, answered - int(rng.random() < 0.15))
                pos = rng.binomial(r, np.clip(p + rng.normal(0, 0.04), 0.05, 0.98))
                neg = rng.binomial(r - pos, 0.45)
                rows.append((code, PULSE, mth, question, r, pos, r - pos - neg, neg))
    return pd.DataFrame(rows, columns=["practice_code", "survey", "period_start", "question", "respondents",
                                       "positive", "neutral", "negative"])


def _ppg(rng, practices: pd.DataFrame, months: pd.DatetimeIndex) -> pd.DataFrame:
    end = months[-1] + pd.offsets.MonthEnd(0)
    change = months[-18] if len(months) >= 24 else None
    rows = []
    for i, p in enumerate(practices.itertuples(index=False)):
        members = int(np.clip(p.list_size / 600 + rng.normal(0, 3), 6, 30))
        for mth in months:
            if mth.month not in (2, 5, 8, 11):
                continue
            if i == FOXGLOVE and mth > months[-14]:
                continue  # the chair stood down and nobody took it on
            day = mth + pd.Timedelta(days=int(rng.integers(5, 25)))
            members = max(4, members + int(rng.integers(-1, 3)))
            agreed = int(rng.integers(1, 5))
            age = (end - day).days
            done = int(rng.binomial(agreed, 0.95 if age > 180 else 0.75 if age > 60 else 0.3))
            said, did = PPG_ITEMS[int(rng.integers(0, len(PPG_ITEMS)))]
            if i == HARBOUR_VIEW and change is not None and change < mth <= change + pd.DateOffset(months=3):
                said, did = HARBOUR_PPG
            rows.append((p.code, day, members, int(members * rng.uniform(0.35, 0.7)), agreed, done, said, did))
    return pd.DataFrame(rows, columns=["practice_code", "meeting_date", "members", "attended", "actions_agreed",
                                       "actions_done", "you_said", "we_did"])


def _check_types(config: FederationConfig) -> list[str]:
    from .imports.formats.records import counted_checks

    return counted_checks(config)


def _premises(rng, practices: pd.DataFrame, months: pd.DatetimeIndex, config: FederationConfig) -> pd.DataFrame:
    start, end = months[0], months[-1] + pd.offsets.MonthEnd(0)
    scored = {c for ind in config.indicators if ind.derived == "premises_audit_score" for c in ind.checks}
    rows = []
    for i, code in enumerate(practices["code"]):
        for kind in _check_types(config):
            every = CHECK_MONTHS.get(kind, 12)
            done = start - pd.DateOffset(months=every) + pd.Timedelta(days=int(rng.integers(20, 28 * every)))
            n = 0
            while done <= end:
                due = done + pd.DateOffset(months=every)
                score = None
                if kind in scored:
                    score = float(np.clip(round(rng.normal(91, 3)), 70, 100))
                    if i == CHALK_HILL:
                        score = 76.0 if due > end - pd.DateOffset(months=14) and n == 0 else 91.0
                fine = rng.random() < 0.7 and (score is None or score >= 85)
                action = None if fine else CHECK_ACTIONS[int(rng.integers(0, len(CHECK_ACTIONS)))]
                closed = None if fine else min(done + pd.Timedelta(days=int(rng.integers(14, 60))), end)
                rows.append((code, kind, done, due, "Pass" if fine else "Actions needed", score, action, closed))
                n += 1
                if i == BEACON_LANE and every > 12 and due <= end and due > end - pd.DateOffset(months=every):
                    break  # the legionella reassessment was never booked
                nxt = due + pd.Timedelta(days=int(rng.integers(-25, 10)))
                if i == BEACON_LANE and every > 12 and nxt > end - pd.DateOffset(months=4):
                    break
                done = nxt
    df = pd.DataFrame(rows, columns=["practice_code", "check_type", "done_on", "next_due", "result", "score",
                                     "actions", "actions_completed_on"])
    df = df[df["done_on"] <= end].drop_duplicates(["practice_code", "check_type", "done_on"])
    return df.reset_index(drop=True)


def _abuse(rng, practices: pd.DataFrame, months: pd.DatetimeIndex) -> pd.DataFrame:
    n_m = len(months)
    rows = []
    for i, p in enumerate(practices.itertuples(index=False)):
        seq = 0
        for j, mth in enumerate(months):
            rate = p.list_size / 1000 * 0.11
            if i == HARBOUR_VIEW and n_m >= 24 and n_m - 18 <= j < n_m - 13:
                rate *= 4  # callers angry at the new phone system
            for _ in range(rng.poisson(rate)):
                seq += 1
                kind = ABUSE_CATEGORIES[rng.choice(len(ABUSE_CATEGORIES), p=ABUSE_P)]
                police = kind == "Physical assault" or (kind == "Threatening behaviour" and rng.random() < 0.3)
                acted = rng.random() < (0.6 if j == n_m - 1 else 0.98)
                rows.append((p.code, f"VA{mth.year}-{seq:04d}",
                             mth + pd.Timedelta(days=int(rng.integers(0, mth.days_in_month))), kind, bool(police),
                             ABUSE_ACTIONS[int(rng.integers(0, len(ABUSE_ACTIONS)))] if acted else None))
    return pd.DataFrame(rows, columns=["practice_code", "reference", "incident_date", "category", "reported_to_police",
                                       "action_taken"])


def _dementia(rng, practices: pd.DataFrame, months: pd.DatetimeIndex, config: FederationConfig) -> pd.DataFrame:
    """The published dementia figures (the catalogue entries published as Fingertips 92949 and QOF DEM004)."""
    codes = {ind.published.fingertips_id or ind.published.qof_indicator: ind.code for ind in config.indicators
             if ind.published and (ind.published.fingertips_id == "92949" or ind.published.qof_indicator == "DEM004")}
    n_p, n_m = len(practices), len(months)
    sizes = practices["list_size"].to_numpy(dtype=float)[:, None]
    t = np.arange(n_m)[None, :]
    frames = []
    for source, (typical, spread, per_patient) in {"92949": (61.0, 4.0, 0.012), "DEM004": (72.0, 5.0, 0.0075)}.items():
        if source not in codes:
            continue
        level = np.repeat(typical + rng.normal(0, spread, (n_p, 1)), n_m, axis=1)
        if n_p > SANDPIPER and n_m >= 24:
            lift = np.clip((t[0] - (n_m - 18)) / 6, 0, 1) * (14.0 if source == "92949" else 9.0)
            level[SANDPIPER] = typical - 1 + lift  # the drop-in clinics with the Alzheimer's Society
        den = np.maximum(np.round(sizes * per_patient), 5).repeat(n_m, axis=1)
        # Published once a financial year: one figure per practice and year, as at the year's last month held.
        years = np.asarray(months.year - (months.month < 4))
        num = np.zeros((n_p, n_m))
        for year in np.unique(years):
            cols = np.flatnonzero(years == year)
            share = np.clip((level[:, cols[-1]] + rng.normal(0, 1.5, n_p)) / 100, 0.01, 0.99)
            got = np.round(den[:, cols[-1]] * share)
            num[:, cols] = got[:, None]
        frames.append(pd.DataFrame({
            "indicator_code": codes[source], "practice_code": np.repeat(practices["code"].to_numpy(), n_m),
            "period_start": np.tile(months, n_p), "numerator": num.ravel().astype(float),
            "denominator": den.ravel(), "value": (num / den * 100).ravel()}))
    if not frames:
        return pd.DataFrame()
    df = pd.concat(frames, ignore_index=True)
    df["period_end"] = df["period_start"] + pd.offsets.MonthEnd(0)
    return df


def generate_records(config: FederationConfig, practices: pd.DataFrame, staff: pd.DataFrame, months: int,
                     end_month, seed: int = 42) -> dict[str, pd.DataFrame]:
    """The practice records as DataFrames keyed by practice code (no ids yet), plus ``dementia`` indicator values."""
    rng = np.random.default_rng([seed, 16])
    index = _months(end_month, months)
    workforce = _workforce(rng, practices, staff, index)
    return {
        "workforce": workforce,
        "staff_survey": _staff_survey(rng, practices, workforce, index),
        "ppg_meetings": _ppg(rng, practices, index),
        "premises_checks": _premises(rng, practices, index, config),
        "abuse_incidents": _abuse(rng, practices, index),
        "dementia": _dementia(rng, practices, index, config),
    }
