"""The demo federation's generators: a deterministic, realistic, fictional federation as DataFrames (no ids yet).

Invented practice names and codes (``Z9…``: no real ODS GP code starts with Z), invented staff and comments. The same
seed gives the same data on SQLite and PostgreSQL. Stories a board would spot are built in:

* **Harbour View Surgery**'s FFT falls after its phone system changed (month -18) and recovers five months later;
* **Millstream Surgery**'s training compliance slides over the last year as renewals are missed;
* diabetes HbA1c control improves across the federation from month -16 (a sustained shift, after a federation-wide
  diabetes recall project), and domestic abuse referrals rise four-fold from month -18 as the domestic abuse
  awareness training (rolled out in the first half-year) takes effect, as in the seed partnership's story.

The generator scales: ``generate(n_practices=200, months=60)`` fills an ICB-sized database for benchmarks.

Split out of ``demo`` (which re-exports every name here and writes the tables to the database).
"""
from __future__ import annotations

import zlib
from datetime import date

import numpy as np
import pandas as pd

from .config import FederationConfig
from .demo_words import (  # noqa: F401  (re-exported: demo and the tests read these from here)
    PRACTICE_NAMES, PCN_NAMES, NAME_PARTS_A, NAME_PARTS_B, FIRST_NAMES, LAST_NAMES,
    ROLE_RATIOS, RAW_PROPORTIONS, PUBLISHED_DEMO, POSITIVE_COMMENTS, NEGATIVE_COMMENTS, NEUTRAL_COMMENTS,
    DOCTOR_SURNAMES, COMPLAINT_CATEGORIES, COMPLAINT_OUTCOMES, SEA_CATEGORIES, SEA_LEARNING,
    HARBOUR_VIEW, MILLSTREAM, ORCHARD,
)

MODES = np.array(["SMS", "Online", "Paper", "Telephone", "Other"])
MODE_P = np.array([0.6, 0.2, 0.1, 0.05, 0.05])


def default_end_month(today: date | None = None) -> date:
    """The last complete month: a demo built today reads as current."""
    today = today or date.today()
    first = today.replace(day=1)
    return (pd.Timestamp(first) - pd.DateOffset(months=1)).date()


def _months(end_month: date, months: int) -> pd.DatetimeIndex:
    return pd.date_range(end=pd.Timestamp(end_month), periods=months, freq="MS")


def _practices(rng: np.random.Generator, n: int) -> pd.DataFrame:
    if n <= len(PRACTICE_NAMES):
        names = PRACTICE_NAMES[:n]
    else:
        names = list(PRACTICE_NAMES)
        combos = [f"{a} {b}" for b in NAME_PARTS_B for a in NAME_PARTS_A]
        k = 0
        while len(names) < n:
            base = combos[k % len(combos)]
            names.append(base if k < len(combos) else f"{base} {k // len(combos) + 1}")
            k += 1
    if n == 11:
        # About 68,000 patients across 11 practices, as in the seed partnership.
        sizes = np.array([9800, 7400, 6200, 8900, 5100, 4300, 7900, 3600, 6800, 3900, 4100])
    else:
        sizes = np.round(rng.lognormal(np.log(9000), 0.45, n) / 10) * 10
        sizes = np.clip(sizes, 1800, 40000).astype(int)
    n_pcns = max(3, n // 5)
    pcn_names = PCN_NAMES if n_pcns == 3 else [f"PCN {i + 1:03d}" for i in range(n_pcns)]
    pcn_idx = np.arange(n) % n_pcns if n != 11 else np.array([0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2])
    contract = np.array(["GMS", "GMS", "PMS", "GMS", "APMS", "GMS", "PMS", "GMS", "GMS", "PMS", "GMS"])
    contracts = contract[np.arange(n) % len(contract)]
    ratings = ["Good", "Good", "Good", "Outstanding", "Requires improvement", "Good", "Good", "Good", "Outstanding",
               "Good", "Good"]
    rows = []
    for i in range(n):
        overall = ratings[i % len(ratings)]
        kq = {k: overall for k in ("safe", "effective", "caring", "responsive", "well_led")}
        if overall == "Requires improvement":
            kq.update(effective="Good", caring="Good", responsive="Good")
        if overall == "Outstanding":
            kq.update(safe="Good", effective="Good")
        if i % len(ratings) == 2:
            kq["responsive"] = "Requires improvement"
        rows.append(
            {
                "code": f"Z9{i + 1:04d}",
                "name": names[i],
                "pcn": pcn_names[pcn_idx[i]],
                "list_size": int(sizes[i]),
                "contract_type": contracts[i],
                "cqc_location_id": f"1-90000{i + 1:05d}",
                "cqc_overall": overall,
                **{f"cqc_{k}": v for k, v in kq.items()},
                "cqc_rating_date": date(2019 + (i * 3) % 6, 1 + (i * 5) % 12, 1 + (i * 7) % 27),
                "active": True,
            }
        )
    return pd.DataFrame(rows)


def _staff(rng: np.random.Generator, practices: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    rows = []
    start_ts, end_ts = pd.Timestamp(start), pd.Timestamp(end)
    span_days = (end_ts - start_ts).days
    seq = 0
    for p_idx, p in practices.reset_index(drop=True).iterrows():
        for role, ratio in ROLE_RATIOS.items():
            count = 1 if role == "Practice manager" else max(1, int(round(p.list_size * ratio + rng.normal(0, 0.4))))
            if role == "Pharmacist" and rng.random() < 0.3:
                count = 0
            for _ in range(count):
                seq += 1
                joined = start_ts - pd.Timedelta(days=int(rng.integers(0, 12 * 365)))
                left = None
                # About one in eight posts changed hands during the period: a leaver and a replacement.
                if rng.random() < 0.12:
                    left = start_ts + pd.Timedelta(days=int(rng.integers(60, max(61, span_days - 60))))
                rows.append((seq, p.code, role, joined, left))
                if left is not None:
                    seq += 1
                    rows.append((seq, p.code, role, left + pd.Timedelta(days=int(rng.integers(14, 90))), None))
    df = pd.DataFrame(rows, columns=["seq", "practice_code", "role", "start_date", "end_date"])
    df = df[df["start_date"] <= end_ts].reset_index(drop=True)
    first = rng.choice(np.array(FIRST_NAMES, dtype=object), len(df))
    last = rng.choice(np.array(LAST_NAMES, dtype=object), len(df))
    df["name"] = [f"{a} {b}" for a, b in zip(first, last)]
    df["staff_code"] = [f"S{s:06d}" for s in df["seq"]]
    return df.drop(columns="seq")


def _training(rng: np.random.Generator, staff: pd.DataFrame, practices: pd.DataFrame, config: FederationConfig,
              start: date, end: date) -> pd.DataFrame:
    """Completion histories that renew on time mostly, late sometimes; Millstream's slide in the final year."""
    end_ts = pd.Timestamp(end) + pd.offsets.MonthEnd(0)
    slide_from = end_ts - pd.DateOffset(months=12)
    sliding_code = practices["code"].iloc[MILLSTREAM] if len(practices) > MILLSTREAM else None
    late_rate = {c: 0.06 + 0.06 * rng.random() for c in practices["code"]}
    # Domestic abuse awareness was rolled out to every member of staff over the first half-year of the period.
    da_rollout = pd.Timestamp(start) - pd.DateOffset(months=1)
    out_staff, out_course, out_date, out_hours = [], [], [], []
    for req in config.training.requirements:
        course = config.training.course(req.course)
        eligible = staff[staff["role"].isin(req.roles)]
        for s in eligible.itertuples(index=False):
            leave = s.end_date if isinstance(s.end_date, pd.Timestamp) and not pd.isna(s.end_date) else end_ts
            stop = min(leave, end_ts)
            if req.hours:
                # Hours accumulate in sessions of 2-4 hours, about one a year; a few people fall behind.
                gap_months = rng.uniform(8, 14) if rng.random() > 0.1 else rng.uniform(14, 26)
                t = max(s.start_date, pd.Timestamp(start) - pd.DateOffset(months=36)) + pd.Timedelta(
                    days=int(rng.integers(0, 300)))
                while t <= stop:
                    out_staff.append(s.staff_code)
                    out_course.append(course.code)
                    out_date.append(t)
                    out_hours.append(float(rng.choice([2.0, 3.0, 3.0, 4.0])))
                    extra = 0
                    if s.practice_code == sliding_code and t >= slide_from - pd.DateOffset(months=8):
                        extra = int(rng.integers(4, 12))
                    t = t + pd.DateOffset(months=int(gap_months) + extra) + pd.Timedelta(days=int(rng.integers(-20, 20)))
                continue
            first = max(s.start_date + pd.Timedelta(days=int(rng.integers(7, 60))),
                        pd.Timestamp(start) - pd.DateOffset(months=course.renewal_months)
                        + pd.Timedelta(days=int(rng.integers(0, 28 * course.renewal_months))))
            if course.code == "DOMESTIC_ABUSE":
                first = max(first, da_rollout + pd.Timedelta(days=int(rng.integers(0, 180))))
            t = first
            while t <= stop:
                out_staff.append(s.staff_code)
                out_course.append(course.code)
                out_date.append(t)
                out_hours.append(np.nan)
                late = rng.random() < late_rate[s.practice_code]
                if s.practice_code == sliding_code and t + pd.DateOffset(months=course.renewal_months) >= slide_from:
                    late = rng.random() < 0.65
                delay = int(rng.integers(30, 200)) if late else int(rng.integers(-45, 5))
                t = t + pd.DateOffset(months=course.renewal_months) + pd.Timedelta(days=delay)
    df = pd.DataFrame({"staff_code": out_staff, "course": out_course, "completed_on": out_date, "hours": out_hours})
    df = df[df["completed_on"] <= pd.Timestamp(end) + pd.offsets.MonthEnd(0)]
    df = df.drop_duplicates(["staff_code", "course", "completed_on"]).reset_index(drop=True)
    df["source"] = "Demo training record"
    return df


def _comment_bank(rng: np.random.Generator, sentences: list[str], size: int) -> np.ndarray:
    out = []
    for i in range(size):
        k = 1 if rng.random() < 0.7 else 2
        picks = rng.choice(len(sentences), k, replace=False)
        text = " ".join(sentences[j] for j in picks)
        out.append(text.format(doc=DOCTOR_SURNAMES[i % len(DOCTOR_SURNAMES)], n=int(rng.integers(0, 999))))
    return np.array(out, dtype=object)


def _fft(rng: np.random.Generator, practices: pd.DataFrame, months: pd.DatetimeIndex) -> pd.DataFrame:
    n_p, n_m = len(practices), len(months)
    base = rng.uniform(0.86, 0.95, n_p)
    p_pos = np.repeat(base[:, None], n_m, axis=1) + rng.normal(0, 0.01, (n_p, n_m))
    if n_p > HARBOUR_VIEW and n_m >= 24:
        # Harbour View's phone system change: a drop for five months, then recovery.
        change = n_m - 18
        dip = np.array([0.14, 0.16, 0.13, 0.09, 0.05])
        p_pos[HARBOUR_VIEW, change : change + 5] -= dip
    p_pos = np.clip(p_pos, 0.5, 0.985)
    counts = rng.poisson(practices["list_size"].to_numpy()[:, None] * 0.015, (n_p, n_m))
    scale = np.full((n_p, n_m), "current", dtype=object)
    if n_p > ORCHARD and n_m >= 12:
        scale[ORCHARD, :5] = "legacy"  # Orchard moved to the new question late
    pos_bank = _comment_bank(rng, POSITIVE_COMMENTS, 400)
    neg_bank = _comment_bank(rng, NEGATIVE_COMMENTS, 200)
    neu_bank = _comment_bank(rng, NEUTRAL_COMMENTS, 40)
    frames = []
    month_ends = (months + pd.offsets.MonthEnd(0)).day
    for i in range(n_p):
        for j in range(n_m):
            n = int(counts[i, j])
            if n == 0:
                continue
            pp = p_pos[i, j]
            rest = 1 - pp
            probs = np.array([pp * 0.72, pp * 0.28, rest * 0.38, rest * 0.27, rest * 0.25, rest * 0.10])
            rating = rng.choice(6, n, p=probs / probs.sum()) + 1
            day = rng.integers(1, month_ends[j] + 1, n)
            frames.append(pd.DataFrame({
                "practice_idx": i, "month_idx": j, "rating": rating, "day": day, "scale": scale[i, j],
            }))
    df = pd.concat(frames, ignore_index=True)
    n = len(df)
    df["response_date"] = months[df["month_idx"].to_numpy()] + pd.to_timedelta(df["day"].to_numpy() - 1, unit="D")
    has_comment = rng.random(n) < 0.62
    r = df["rating"].to_numpy()
    comment = np.where(r <= 2, pos_bank[rng.integers(0, len(pos_bank), n)],
                       np.where(r >= 4, neg_bank[rng.integers(0, len(neg_bank), n)],
                                neu_bank[rng.integers(0, len(neu_bank), n)]))
    comment = np.where((r == 6) | ~has_comment, None, comment)
    df["comment"] = comment
    df["mode"] = MODES[rng.choice(len(MODES), n, p=MODE_P)]
    codes = practices["code"].to_numpy()
    df["practice_code"] = codes[df["practice_idx"].to_numpy()]
    df["response_key"] = "demo-" + pd.Series(np.arange(1, n + 1)).astype(str)
    return df[["practice_code", "response_key", "response_date", "scale", "rating", "comment", "mode"]]


def _indicator_values(rng: np.random.Generator, practices: pd.DataFrame, months: pd.DatetimeIndex,
                      config: FederationConfig) -> pd.DataFrame:
    n_p, n_m = len(practices), len(months)
    sizes = practices["list_size"].to_numpy()[:, None].astype(float)
    t = np.arange(n_m)[None, :]
    frames = []
    for ind in config.indicators:
        if ind.derived:
            continue
        if ind.code == "DA_REFERRALS":
            # Referrals per 10,000 patients rise about four-fold once domestic abuse training is rolled out.
            rate = np.where(t >= n_m - 18, 2.2, 0.55) / 10000
            den = np.repeat(sizes, n_m, axis=1)
            num = rng.poisson(den * rate)
        elif ind.code == "STAFF_APPRAISAL":
            den = np.repeat(np.maximum(4, np.round(sizes / 380)), n_m, axis=1).astype(int)
            p = np.clip(rng.uniform(0.82, 0.98, (n_p, 1)) + rng.normal(0, 0.02, (n_p, n_m)), 0, 1)
            num = rng.binomial(den, p)
        elif ind.code in PUBLISHED_DEMO:
            # Published indicators (Fingertips, the wide table): their own generator, so every other figure stays
            # as it was; a score (not a %) is stored as score × 100 / 100 so it reads back as the score.
            own = np.random.default_rng(zlib.crc32(ind.code.encode()))
            typical, spread = PUBLISHED_DEMO[ind.code]
            level = np.repeat(np.maximum(typical + own.normal(0, spread, (n_p, 1)), 0.5), n_m, axis=1)
            if ind.is_proportion:
                den = np.maximum(own.poisson(sizes * 0.1, (n_p, n_m)), 1)
                num = own.binomial(den, np.clip(level / 100, 0.001, 0.999))
            else:
                den = np.full((n_p, n_m), 100)
                num = np.round(level * den / ind.multiplier)
        elif ind.code not in RAW_PROPORTIONS:
            continue  # an indicator added locally (federation.local.toml): no demo figures
        else:
            typical, spread, per_patient, noise = RAW_PROPORTIONS[ind.code]
            base = typical + rng.normal(0, spread, (n_p, 1))
            level = np.repeat(base, n_m, axis=1) + rng.normal(0, noise, (n_p, n_m)) if noise else np.repeat(
                base, n_m, axis=1)
            if ind.code == "DM_HBA1C":
                level = level + np.where(t >= n_m - 16, 4.5, 0.0)  # diabetes recall project: sustained improvement
            if ind.code == "ONLINE_ACCESS":
                level = level + 0.35 * t
            if ind.code == "GPPS_PHONE" and n_p > HARBOUR_VIEW and n_m >= 24:
                level[HARBOUR_VIEW, n_m - 18 : n_m - 13] -= 15
            p = np.clip(level / 100, 0.001, 0.999)
            if ind.code == "CARERS_IDENTIFIED":
                den = np.repeat(sizes, n_m, axis=1).astype(int)
            else:
                den = np.maximum(rng.poisson(sizes * per_patient, (n_p, n_m)), 1)
            num = rng.binomial(den, p)
        value = num / np.where(den > 0, den, np.nan) * ind.multiplier
        frames.append(pd.DataFrame({
            "indicator_code": ind.code,
            "practice_code": np.repeat(practices["code"].to_numpy(), n_m),
            "period_start": np.tile(months, n_p),
            "numerator": num.ravel().astype(float),
            "denominator": den.ravel().astype(float),
            "value": value.ravel(),
        }))
    df = pd.concat(frames, ignore_index=True)
    df["period_end"] = df["period_start"] + pd.offsets.MonthEnd(0)
    return df


def _complaints(rng: np.random.Generator, practices: pd.DataFrame, months: pd.DatetimeIndex, end: date) -> pd.DataFrame:
    rows = []
    end_ts = pd.Timestamp(end) + pd.offsets.MonthEnd(0)
    for p in practices.itertuples(index=False):
        seq = 0
        for mth in months:
            for _ in range(rng.poisson(p.list_size / 6200 * 1.1)):
                seq += 1
                received = mth + pd.Timedelta(days=int(rng.integers(0, mth.days_in_month)))
                ack_days = int(rng.choice([0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3, 2, 1, 4, 6]))
                ack = pd.Timestamp(np.busday_offset(received.date(), ack_days, roll="forward"))
                res_days = int(rng.gamma(4, 7)) + 3
                resolved = pd.Timestamp(np.busday_offset(received.date(), res_days, roll="forward"))
                if ack > end_ts:
                    ack = None
                if resolved > end_ts:
                    resolved = None
                rows.append({
                    "practice_code": p.code,
                    "reference": f"C{received.year}-{seq:04d}",
                    "received_on": received,
                    "category": COMPLAINT_CATEGORIES[int(rng.integers(0, len(COMPLAINT_CATEGORIES)))],
                    "acknowledged_on": ack,
                    "resolved_on": resolved,
                    "outcome": None if resolved is None else COMPLAINT_OUTCOMES[
                        int(rng.choice(4, p=[0.25, 0.3, 0.4, 0.05]))],
                    "summary": "Complaint details held in the practice complaints file.",
                })
    return pd.DataFrame(rows)


def _significant_events(rng: np.random.Generator, practices: pd.DataFrame, months: pd.DatetimeIndex) -> pd.DataFrame:
    rows = []
    n_m = len(months)
    for p in practices.itertuples(index=False):
        seq = 0
        for j, mth in enumerate(months):
            for _ in range(rng.poisson(p.list_size / 6200 * 0.7)):
                seq += 1
                k = int(rng.integers(0, len(SEA_CATEGORIES)))
                # Recent events are still under review; a few older ones never had learning written up.
                recorded = rng.random() < (0.5 if j >= n_m - 1 else 0.93)
                rows.append({
                    "practice_code": p.code,
                    "reference": f"SE{mth.year}-{seq:04d}",
                    "event_date": mth + pd.Timedelta(days=int(rng.integers(0, mth.days_in_month))),
                    "category": SEA_CATEGORIES[k],
                    "learning": SEA_LEARNING[k] if recorded else None,
                })
    return pd.DataFrame(rows)


def generate(config: FederationConfig, n_practices: int = 11, months: int = 36, seed: int = 42,
             end_month: date | None = None) -> dict[str, pd.DataFrame]:
    """Build the demo federation's raw tables as DataFrames keyed by practice code / staff code (no ids yet)."""
    rng = np.random.default_rng(seed)
    end_month = end_month or default_end_month()
    month_index = _months(end_month, months)
    start = month_index[0].date()
    practices = _practices(rng, n_practices)
    staff = _staff(rng, practices, start, end_month)
    return {
        "practices": practices,
        "staff": staff,
        "training": _training(rng, staff, practices, config, start, end_month),
        "fft": _fft(rng, practices, month_index),
        "indicators": _indicator_values(rng, practices, month_index, config),
        "complaints": _complaints(rng, practices, month_index, end_month),
        "significant_events": _significant_events(rng, practices, month_index),
    }
