"""What the refresh stores: every measure for every area and month, hidden where it must be, and judged as at each
month.

* **Areas**: each practice, each PCN (from the practices' data), each group declared in ``federation.toml`` and the
  whole federation. An area's figure is Σnumerator / Σdenominator over its practices' rows that have both (a row
  with a count and no denominator adds nothing to either).
* **Suppression** (DOMAIN.md, fft_pipeline): a unit with 1 to ``min - 1`` cases has its counts, value and interval
  hidden; within every parent (the federation over its PCNs and practices, each PCN and group over its practices),
  if the smallest unit is hidden the next smallest is hidden too, repeated until no parent has exactly one hidden
  child, so no hidden figure can be worked out by subtraction from any total shown.
* **Evaluation** as at each month: the latest figure in the measure's judging period (a month, or three months for
  rare events), the change since the previous period, RAG against the target and the Making Data Count icons over
  the measure's SPC window, or the reason it cannot be judged (``policy.status``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..analytics import compare_with_benchmark, spc_latest, wilson_interval
from ..config import FederationConfig
from ..policy import status

PRACTICE, PCN, GROUP, FEDERATION = "practice", "pcn", "group", "federation"
FEDERATION_CODE = "ALL"
# How long a figure stays the latest: a month's figure only for its month ("not received" after), a published
# quarterly or annual figure until the next one is due, allowing for the months it takes to be published.
FREQUENCY_MONTHS = {"monthly": 1, "quarterly": 6, "annual": 36}
VALUE_COLUMNS = ["indicator_code", "area_type", "area_code", "period_start", "numerator", "denominator", "value",
                 "lower_ci", "upper_ci", "suppressed", "suppression_reason", "small"]


# ------------------------------------------------------------------------------------------------------------------
# Areas
# ------------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Areas:
    members: pd.DataFrame  # practice_code, area_type, area_code: which aggregate areas each practice belongs to
    parents: pd.DataFrame  # parent_type, parent_code, child_type, child_code: for secondary suppression


def areas(practices: pd.DataFrame, config: FederationConfig) -> Areas:
    """``practices``: code, pcn of the active practices."""
    codes = practices["code"].astype(str)
    rows = [(c, FEDERATION, FEDERATION_CODE) for c in codes]
    rows += [(c, PCN, str(p)) for c, p in zip(codes, practices["pcn"]) if isinstance(p, str) and p.strip()]
    known = set(codes)
    for g in config.groups:
        rows += [(c, GROUP, g.id) for c in g.practices if c in known]
    members = pd.DataFrame(rows, columns=["practice_code", "area_type", "area_code"])
    parents = members.rename(columns={"area_type": "parent_type", "area_code": "parent_code",
                                      "practice_code": "child_code"}).assign(child_type=PRACTICE)
    pcns = members[members["area_type"] == PCN]["area_code"].drop_duplicates()
    pcn_rows = pd.DataFrame({"parent_type": FEDERATION, "parent_code": FEDERATION_CODE, "child_type": PCN,
                             "child_code": pcns.to_numpy()})
    parents = pd.concat([parents[["parent_type", "parent_code", "child_type", "child_code"]], pcn_rows],
                        ignore_index=True)
    return Areas(members, parents)


def _has_both(df: pd.DataFrame) -> np.ndarray:
    return (df["numerator"].notna() & df["denominator"].notna() & (df["denominator"] > 0)).to_numpy(dtype=bool)


def area_values(practice_values: pd.DataFrame, ar: Areas, config: FederationConfig) -> pd.DataFrame:
    """Practice rows plus one row per aggregate area × indicator × month.

    ``practice_values``: indicator_code, practice_code, period_start, numerator, denominator, value, lower_ci,
    upper_ci (value and interval as published, for indicators that have no numerator). Returns the rows with
    value and Wilson interval set (see ``VALUE_COLUMNS``; suppression and small flags come later)."""
    pv = practice_values.copy()
    pv["area_type"], pv["area_code"] = PRACTICE, pv["practice_code"]
    both = pv[_has_both(pv)]
    agg = both.merge(ar.members, on="practice_code", suffixes=("_p", ""))
    agg = (agg.groupby(["indicator_code", "area_type", "area_code", "period_start"], as_index=False, sort=False)
           [["numerator", "denominator"]].sum())
    agg["value"] = agg["lower_ci"] = agg["upper_ci"] = np.nan
    cols = ["indicator_code", "area_type", "area_code", "period_start", "numerator", "denominator", "value",
            "lower_ci", "upper_ci"]
    out = pd.concat([pv[cols], agg[cols]] if len(agg) else [pv[cols]], ignore_index=True)
    for c in cols[4:]:
        out[c] = pd.to_numeric(out[c], errors="coerce").astype(float)
    inds = {i.code: i for i in config.indicators}
    mult = out["indicator_code"].map({c: i.multiplier for c, i in inds.items()}).to_numpy(dtype=float)
    prop = out["indicator_code"].map({c: i.is_proportion for c, i in inds.items()}).to_numpy(dtype=bool)
    ok = _has_both(out)
    num = out["numerator"].to_numpy(dtype=float)
    den = out["denominator"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        computed = num / den * mult
    lo, hi = wilson_interval(np.where(ok, num, np.nan), np.where(ok, den, np.nan))
    lo, hi = np.asarray(lo, dtype=float) * 100, np.asarray(hi, dtype=float) * 100
    published = out["value"].to_numpy(dtype=float)
    pub_lo, pub_hi = out["lower_ci"].to_numpy(dtype=float), out["upper_ci"].to_numpy(dtype=float)
    # A practice's value and interval as its file publishes them (Fingertips works its intervals out by its own
    # method, Byar's or Wilson on unrounded counts): shown exactly as given, never recomputed from the counts.
    # Areas the federation adds up (PCNs, groups, the federation) have only counts, so Wilson works them out.
    given = (out["area_type"] == PRACTICE).to_numpy() & np.isfinite(pub_lo) & np.isfinite(pub_hi)
    out["value"] = np.where(ok & ~(given & np.isfinite(published)), computed, published)
    out["lower_ci"] = np.where(given, pub_lo, np.where(ok & prop, lo, np.where(ok, np.nan, pub_lo)))
    out["upper_ci"] = np.where(given, pub_hi, np.where(ok & prop, hi, np.where(ok, np.nan, pub_hi)))
    # A row with a count but no denominator (or the reverse) is kept for its practice but shows nothing.
    out.loc[~ok & np.isnan(published), ["numerator", "denominator"]] = np.nan
    out["period_start"] = pd.to_datetime(out["period_start"])
    return out


# ------------------------------------------------------------------------------------------------------------------
# Suppression
# ------------------------------------------------------------------------------------------------------------------
def suppression(basis: pd.DataFrame, ar: Areas, min_count: int) -> pd.DataFrame:
    """Which area-months are hidden, and why.

    ``basis``: area_type, area_code, period_start, count (the cases the rule is about: FFT responses, survey
    respondents). Returns area_type, area_code, period_start, reason for every hidden area-month."""
    b = basis[basis["count"] > 0]
    primary = b[b["count"] < min_count]
    hidden = {(t, c, p): status.REASON_PRIMARY.format(min=min_count)
              for t, c, p in zip(primary["area_type"], primary["area_code"], primary["period_start"])}
    kids = ar.parents.merge(b.rename(columns={"area_type": "child_type", "area_code": "child_code"}),
                            on=["child_type", "child_code"])
    kids = kids.sort_values(["count", "child_type", "child_code"], kind="mergesort")
    keys = list(zip(kids["child_type"], kids["child_code"], kids["period_start"]))
    # Each parent's practices and (for the federation) its PCNs are two separate sets of children.
    groups = kids.groupby(["parent_type", "parent_code", "child_type", "period_start"], sort=False).indices
    changed = True
    while changed:  # hiding one unit can leave another parent with a single hidden child: repeat until none does
        changed = False
        for idx in groups.values():
            flags = [keys[i] in hidden for i in idx]
            if sum(flags) == 1:
                nxt = next(keys[i] for i, f in zip(idx, flags) if not f) if len(idx) > 1 else None
                if nxt is not None:
                    hidden[nxt] = status.REASON_SECONDARY
                    changed = True
    return pd.DataFrame([(t, c, p, r) for (t, c, p), r in hidden.items()],
                        columns=["area_type", "area_code", "period_start", "reason"])


def apply_flags(values: pd.DataFrame, hidden: dict[str, pd.DataFrame], config: FederationConfig) -> pd.DataFrame:
    """Set ``suppressed`` (with its reason) and ``small`` on the area values; hidden rows lose their counts, value and
    interval. ``hidden``: suppression() output per indicator code (only for indicators with a suppression rule)."""
    out = values.reset_index(drop=True)
    out["suppressed"] = False
    out["suppression_reason"] = None
    key = ["indicator_code", "area_type", "area_code", "period_start"]
    frames = [f.assign(indicator_code=code) for code, f in hidden.items() if not f.empty]
    if frames:
        reasons = out[key].merge(pd.concat(frames, ignore_index=True), on=key, how="left")["reason"]
        hit = reasons.notna().to_numpy(dtype=bool)
        out.loc[hit, "suppressed"] = True
        out.loc[hit, "suppression_reason"] = reasons[hit].to_numpy(dtype=object)
    out.loc[out["suppressed"], ["numerator", "denominator", "value", "lower_ci", "upper_ci"]] = np.nan
    min_den = out["indicator_code"].map({i.code: config.min_denominator(i) for i in config.indicators}).astype(float)
    out["small"] = (out["denominator"] < min_den).fillna(False).astype(bool)
    return out[VALUE_COLUMNS]


# ------------------------------------------------------------------------------------------------------------------
# Evaluation
# ------------------------------------------------------------------------------------------------------------------
EVALUATION_COLUMNS = [
    "indicator_code", "area_type", "area_code", "as_at", "latest_period", "period_months", "numerator",
    "denominator", "value", "lower_ci", "upper_ci", "previous_value", "change", "judgement", "rag", "variation",
    "assurance", "rules", "trial_limits", "n_points", "mean", "lower_limit", "upper_limit", "window_start",
    "comparison",
]


def _wide(values: pd.DataFrame, months: pd.DatetimeIndex, column: str) -> np.ndarray:
    w = values.pivot(index=["indicator_code", "area_type", "area_code"], columns="period_start", values=column)
    return w.reindex(columns=months).to_numpy(dtype=float)


def rebase_matrix(keys: pd.DataFrame, months: pd.DatetimeIndex, rebases: dict | None) -> np.ndarray:
    """For every series and month, the index of the month its SPC limits restart from (-1: none). ``rebases``:
    {(indicator_code, practice_code or None): [months]} from the chart notes; a note on every practice restarts every
    series of the measure (federation, PCNs, groups and practices), a practice's note only that practice's."""
    marks = np.zeros((len(keys), len(months)), dtype=bool)
    if rebases:
        pos = {m: i for i, m in enumerate(months)}
        for r, (code, atype, acode) in enumerate(keys[["indicator_code", "area_type", "area_code"]].itertuples(
                index=False)):
            found = list(rebases.get((code, None), []))
            if atype == PRACTICE:
                found += rebases.get((code, acode), [])
            for month in found:
                i = pos.get(pd.Timestamp(month))
                if i is not None:
                    marks[r, i] = True
    idx = np.arange(len(months))
    return np.maximum.accumulate(np.where(marks, idx, -1), axis=1) if len(months) else marks.astype(int)


def evaluate(values: pd.DataFrame, config: FederationConfig, as_ats: pd.DatetimeIndex | None = None,
             rebases: dict | None = None) -> pd.DataFrame:
    """Every series (indicator × area) judged as at every month in ``as_ats`` (default: every month with data),
    with the limits restarting from the latest rebase note at or before that month."""
    if values.empty:
        return pd.DataFrame(columns=EVALUATION_COLUMNS)
    values = values.assign(period_start=pd.to_datetime(values["period_start"]))
    months = pd.date_range(values["period_start"].min(), values["period_start"].max(), freq="MS")
    as_ats = months if as_ats is None else pd.DatetimeIndex(as_ats)
    keys = values[["indicator_code", "area_type", "area_code"]].drop_duplicates().sort_values(
        ["indicator_code", "area_type", "area_code"]).reset_index(drop=True)
    v = values.assign(ok=_has_both(values).astype(float), small_f=values["small"].astype(float),
                      sup_f=values["suppressed"].astype(float))
    num, den, val = (_wide(v, months, c) for c in ("numerator", "denominator", "value"))
    # each month's stored interval: a published one for a practice whose file gives it, else Wilson's
    lo_m, hi_m = ((_wide(v, months, c) if c in v.columns else np.full_like(val, np.nan))
                  for c in ("lower_ci", "upper_ci"))
    small, sup = _wide(v, months, "small_f") == 1, _wide(v, months, "sup_f") == 1
    present = ~np.isnan(_wide(v.assign(one=1.0), months, "one"))
    inds = [config.indicator(c) for c in keys["indicator_code"]]
    targets = config.targets()
    restart = rebase_matrix(keys, months, rebases)
    frames = []
    for (jm, window), rows in pd.Series(range(len(keys))).groupby(
            [[i.judge_months for i in inds], [config.spc_window(i) for i in inds]]):
        r = rows.to_numpy()
        frames.append(_evaluate_group(keys.iloc[r], [inds[i] for i in r], targets, config, months, as_ats, int(jm),
                                      int(window), num[r], den[r], val[r], small[r], sup[r], present[r], restart[r],
                                      lo_m[r], hi_m[r]))
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=EVALUATION_COLUMNS)
    return _compare(out, inds_by_code={i.code: i for i in config.indicators})


def _blocks(a: np.ndarray, ends: np.ndarray, size: int) -> np.ndarray:
    """Sums of ``size`` consecutive months ending at each column in ``ends`` (NaN counts as 0)."""
    cs = np.concatenate([np.zeros((a.shape[0], 1)), np.nancumsum(a, axis=1)], axis=1)
    e = ends + 1
    s = np.maximum(e - size, 0)
    return cs[:, e] - cs[:, s]


def _evaluate_group(keys, inds, targets, config, months, as_ats, jm, window, num, den, val, small, sup, present,
                    restart, lo_m, hi_m):
    n_rows = len(keys)
    mult = np.array([i.multiplier for i in inds], dtype=float)
    prop = np.array([i.is_proportion for i in inds], dtype=bool)
    direction = np.array([i.direction for i in inds], dtype=object)
    unit = np.array([i.unit for i in inds], dtype=object)
    horizon = np.array([max(FREQUENCY_MONTHS[i.frequency], jm) for i in inds])
    tgt = np.array([np.nan if targets.get(i.code, (None,))[0] is None else targets[i.code][0] for i in inds])
    tol = np.array([targets.get(i.code, (None, config.thresholds.rag_tolerance))[1] for i in inds], dtype=float)
    min_den = np.array([config.min_denominator(i) for i in inds], dtype=float)
    run = config.thresholds.spc_run_length
    ok = ~np.isnan(num) & ~np.isnan(den) & (den > 0)
    idx = np.arange(len(months))
    last_present = np.maximum.accumulate(np.where(present, idx, -1), axis=1)
    out = []
    for as_at in as_ats:
        j = int(months.get_loc(as_at)) if as_at in months else None
        if j is None:
            continue
        if jm == 1:
            k = last_present[:, j]
            ends = np.arange(j - window + 1, j + 1)
            ends = ends[ends >= 0]
            wv = np.where(small[:, ends] | sup[:, ends], np.nan, val[:, ends])
            wv = np.where(ends[None, :] < restart[:, j][:, None], np.nan, wv)  # limits restart at a rebase
            kk = np.maximum(k, 0)
            rr = np.arange(n_rows)
            l_num, l_den, l_val = num[rr, kk], den[rr, kk], val[rr, kk]
            l_small, l_sup = small[rr, kk], sup[rr, kk]
            stored_lo, stored_hi = lo_m[rr, kk], hi_m[rr, kk]  # the latest month's own interval
            prev_i = kk - horizon
            prev = np.where(prev_i >= 0, val[rr, np.maximum(prev_i, 0)], np.nan)
            latest_period = np.where(k >= 0, k, -1)
        else:  # judged over ``jm``-month periods ending at the month chosen
            ends = np.arange(j, j - window, -jm)[::-1]
            ends = ends[ends >= 0]
            bn = _blocks(np.where(ok, num, np.nan), ends, jm)
            bd = _blocks(np.where(ok, den, np.nan), ends, jm)
            bsup = _blocks(sup.astype(float), ends, jm) > 0
            with np.errstate(invalid="ignore", divide="ignore"):
                bv = np.where(bd > 0, bn / bd * mult[:, None], np.nan)
            bsmall = (bd < min_den[:, None]) & (bd > 0)
            wv = np.where(bsmall | bsup, np.nan, bv)
            wv = np.where((ends - jm + 1)[None, :] < restart[:, j][:, None], np.nan, wv)
            l_num, l_den, l_val, l_small, l_sup = bn[:, -1], bd[:, -1], bv[:, -1], bsmall[:, -1], bsup[:, -1]
            l_num = np.where(l_den > 0, l_num, np.nan)
            l_den = np.where(l_den > 0, l_den, np.nan)
            prev = bv[:, -2] if bv.shape[1] > 1 else np.full(n_rows, np.nan)
            k = np.where(np.isfinite(l_val) | l_sup, j, last_present[:, j])
            latest_period = np.where(k >= 0, j - jm + 1, -1)
            stored_lo = stored_hi = np.full(n_rows, np.nan)  # a sum of months: Wilson on the summed counts
        current = (k >= 0) & (k > j - horizon)
        judged = current & ~l_sup & ~l_small & np.isfinite(l_val)
        judgement = np.select([k < 0, ~current, l_sup, ~np.isfinite(l_val), l_small],
                              [status.NO_DATA, status.NOT_RECEIVED, status.SUPPRESSED, status.NO_DATA, status.TOO_FEW],
                              status.JUDGED).astype(object)
        icons = spc_latest(wv, direction, tgt, run_length=run)
        variation = np.where(judged, icons["variation"].to_numpy(dtype=object), judgement)
        variation = np.where(judged & (icons["n_points"].to_numpy() < 2), "none", variation)
        assurance = np.where(judged & np.isfinite(tgt), icons["assurance"].to_numpy(dtype=object), "none")
        rag = np.where(judged, status.rag(l_val, tgt, direction, tol, unit), "none")
        with np.errstate(invalid="ignore"):
            lo, hi = wilson_interval(np.where(judged | l_small, l_num, np.nan), np.where(judged | l_small, l_den,
                                                                                           np.nan))
        show = current & ~l_sup
        lo = np.where(prop & show, np.asarray(lo, dtype=float) * 100, np.nan)
        hi = np.where(prop & show, np.asarray(hi, dtype=float) * 100, np.nan)
        stored = show & np.isfinite(stored_lo) & np.isfinite(stored_hi)
        lo, hi = np.where(stored, stored_lo, lo), np.where(stored, stored_hi, hi)
        mean, ll, ul = (icons[c].to_numpy(dtype=float) for c in ("mean", "lower_limit", "upper_limit"))
        ll = np.maximum(ll, 0.0)  # no measure here can be negative; percentages stay within 0-100
        ul = np.where(prop, np.minimum(ul, 100.0), ul)
        shown_val = np.where(show, l_val, np.nan)
        change = np.where(show, shown_val - prev, np.nan)
        keep = k >= 0
        lp = [months[i] if i >= 0 else pd.NaT for i in latest_period]
        frame = pd.DataFrame({
            "indicator_code": keys["indicator_code"].to_numpy(), "area_type": keys["area_type"].to_numpy(),
            "area_code": keys["area_code"].to_numpy(), "as_at": as_at, "latest_period": lp, "period_months": jm,
            "numerator": np.where(show, l_num, np.nan), "denominator": np.where(show, l_den, np.nan),
            "value": shown_val, "lower_ci": lo, "upper_ci": hi, "previous_value": np.where(show, prev, np.nan),
            "change": change, "judgement": judgement, "rag": rag, "variation": variation, "assurance": assurance,
            "rules": np.where(judged, icons["rules"].to_numpy(dtype=object), ""),
            "trial_limits": judged & icons["trial_limits"].to_numpy(dtype=bool),
            "n_points": icons["n_points"].to_numpy(dtype=int),
            "mean": np.where(judged, mean, np.nan), "lower_limit": np.where(judged, ll, np.nan),
            "upper_limit": np.where(judged, ul, np.nan), "window_start": months[max(int(ends[0]) - jm + 1, 0)],
        })
        out.append(frame[keep])
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=EVALUATION_COLUMNS[:-1])


def _compare(ev: pd.DataFrame, inds_by_code: dict) -> pd.DataFrame:
    """Better / similar / worse than the federation in the same period, from the area's interval (Fingertips)."""
    ev = ev.copy()
    ev["comparison"] = "not compared"
    if ev.empty:
        return ev[EVALUATION_COLUMNS]
    fed = ev[ev["area_type"] == FEDERATION][["indicator_code", "as_at", "value", "judgement"]]
    fed = fed.rename(columns={"value": "fed_value", "judgement": "fed_judgement"})
    j = ev.merge(fed, on=["indicator_code", "as_at"], how="left")
    ok = ((j["area_type"] != FEDERATION) & (j["judgement"] == status.JUDGED) & (j["fed_judgement"] == status.JUDGED)
          & j["lower_ci"].notna() & j["fed_value"].notna()).to_numpy(dtype=bool)
    direction = j["indicator_code"].map({c: i.direction for c, i in inds_by_code.items()}).to_numpy(dtype=object)
    for d in np.unique(direction[ok]) if ok.any() else []:
        rows = ok & (direction == d)
        ev.loc[rows, "comparison"] = compare_with_benchmark(
            j.loc[rows, "lower_ci"].to_numpy(dtype=float), j.loc[rows, "upper_ci"].to_numpy(dtype=float),
            j.loc[rows, "fed_value"].to_numpy(dtype=float), d)
    return ev[EVALUATION_COLUMNS]


def block_series(monthly: pd.DataFrame, ind, config: FederationConfig, start: pd.Timestamp, end: pd.Timestamp
                 ) -> pd.DataFrame:
    """A rare-event measure's points for a chart: Σnumerator / Σdenominator over ``judge_months``-month periods
    ending at ``end`` (the same periods :func:`evaluate` judges), labelled by each period's first month."""
    jm = ind.judge_months
    months = pd.date_range(start, end, freq="MS")
    m = monthly.set_index("period_start").reindex(months)
    ok = (m["numerator"].notna() & m["denominator"].notna() & (m["denominator"] > 0)).to_numpy()
    num = np.where(ok, m["numerator"].to_numpy(dtype=float), np.nan)[None, :]
    den = np.where(ok, m["denominator"].to_numpy(dtype=float), np.nan)[None, :]
    sup = m["suppressed"].fillna(False).to_numpy(dtype=float)[None, :]
    ends = np.arange(len(months) - 1, -1, -jm)[::-1]
    ends = ends[ends - jm + 1 >= 0]
    bn, bd = _blocks(num, ends, jm)[0], _blocks(den, ends, jm)[0]
    hidden = _blocks(sup, ends, jm)[0] > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(bd > 0, bn / bd * ind.multiplier, np.nan)
    lo, hi = wilson_interval(np.where(bd > 0, bn, np.nan), np.where(bd > 0, bd, np.nan))
    prop = ind.is_proportion
    out = pd.DataFrame({
        "period_start": months[ends - jm + 1], "numerator": np.where(bd > 0, bn, np.nan),
        "denominator": np.where(bd > 0, bd, np.nan), "value": value,
        "lower_ci": np.asarray(lo, dtype=float) * 100 if prop else np.nan,
        "upper_ci": np.asarray(hi, dtype=float) * 100 if prop else np.nan,
        "suppressed": hidden, "small": (bd > 0) & (bd < config.min_denominator(ind)),
    })
    out.loc[out["suppressed"], ["numerator", "denominator", "value", "lower_ci", "upper_ci"]] = np.nan
    return out[out["denominator"].notna() | out["suppressed"]].reset_index(drop=True)
