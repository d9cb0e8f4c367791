"""The one status module: what a figure means, in the same words on every screen, download and pack.

* **Judgement** - whether a figure may be judged at all: ``judged``; ``too_few`` (fewer cases than the measure's
  minimum denominator: no RAG, no special-cause icon, the words "too few to judge"); ``suppressed`` (hidden so no
  patient can be identified); ``not_received`` (nothing for the month chosen); ``no_data``.
* **RAG** against a target, direction-aware, with the amber tolerance, compared at the precision the figure is
  shown at (a figure that shows as the target is on target).
* **Tallies** such as "7 of 12 on target".

Nothing here reads the database; the measure store calls these when it is refreshed, and the views only look up the
words.
"""
from __future__ import annotations

import numpy as np

from ..analytics import ASSURANCE_WORDS, RAG_SYMBOLS, RAG_WORDS, VARIATION_WORDS

JUDGED, TOO_FEW, SUPPRESSED, NOT_RECEIVED, NO_DATA = "judged", "too_few", "suppressed", "not_received", "no_data"
JUDGEMENTS = (JUDGED, TOO_FEW, SUPPRESSED, NOT_RECEIVED, NO_DATA)

# Primary and secondary suppression, in the words the tables use.
REASON_PRIMARY = "fewer than {min} responses"
REASON_SECONDARY = "hidden so a smaller figure cannot be worked out"


def judgement_words(judgement: str, suppression_min: int | None = None, min_denominator: int | None = None) -> str:
    """What a figure that is not judged says instead of a RAG or an icon."""
    if judgement == TOO_FEW:
        return f"Too few to judge (fewer than {min_denominator} cases)" if min_denominator else "Too few to judge"
    if judgement == SUPPRESSED:
        return (f"Not shown: fewer than {suppression_min} responses" if suppression_min else
                "Not shown: too few responses")
    if judgement == NOT_RECEIVED:
        return "Not received for this month"
    if judgement == NO_DATA:
        return "No data"
    return ""


def variation_words(variation: str, trial_limits: bool = False, judgement_text: str = "") -> str:
    """What the latest point's Making Data Count variation means (or why it is not judged)."""
    if variation in JUDGEMENTS:
        return judgement_text or judgement_words(variation)
    words = VARIATION_WORDS.get(variation, VARIATION_WORDS["none"])
    if trial_limits and variation not in ("none", "no_variation"):
        words += " (trial limits: fewer than 12 points)"
    return words


# The few words that stand beside a Making Data Count icon (a table cell, a tile); the full words above go in help
# text and the packs' evidence pages. Every screen, download and pack takes them from here.
VARIATION_SHORT = {"common_cause": "Common cause", "improvement_high": "Improving (high)",
                   "improvement_low": "Improving (low)", "concern_high": "Concerning (high)",
                   "concern_low": "Concerning (low)", "neutral_high": "Unusually high",
                   "neutral_low": "Unusually low", "no_variation": "No variation", "none": "Not enough data",
                   TOO_FEW: "Too few to judge", SUPPRESSED: "Not shown", NOT_RECEIVED: "Not received",
                   NO_DATA: "No data"}
ASSURANCE_SHORT = {"pass": "Consistently passes", "fail": "Consistently fails", "hit_and_miss": "Hit and miss",
                   "no_limits": "Cannot say", "none": "No target"}


def variation_short(variation: str) -> str:
    return VARIATION_SHORT.get(variation or "none", VARIATION_SHORT["none"])


def assurance_short(assurance: str) -> str:
    return ASSURANCE_SHORT.get(assurance or "none", ASSURANCE_SHORT["none"])


def assurance_words(assurance: str, judgement_text: str = "") -> str:
    if assurance == "none" and judgement_text:
        return "Not judged: " + judgement_text[0].lower() + judgement_text[1:]
    return ASSURANCE_WORDS.get(assurance, ASSURANCE_WORDS["none"])


def decimals(unit: str) -> int:
    """How many decimals a figure of this unit is shown with (``engine.format_value`` uses the same)."""
    return 0 if unit == "count" else 1 if unit == "%" else 2


def rag(value, target, direction, tolerance, unit: str = "%") -> np.ndarray:
    """Red / amber / green for many figures at once (arrays, or one value for all).

    Green meets the target (>= when higher is better, <= when lower is better), amber misses it by no more than the
    tolerance, red otherwise; ``none`` without a value or target, or for a neutral direction. Values and targets are
    compared as shown (rounded to the unit's decimals), so "95.0% against 95.0%" is never "near target".
    """
    v, t, tol, d = np.broadcast_arrays(np.asarray(value, dtype=float), np.asarray(target, dtype=float),
                                       np.asarray(tolerance, dtype=float), np.asarray(direction, dtype=object))
    nd = np.asarray(decimals(unit)) if np.ndim(unit) == 0 else np.array([decimals(u) for u in unit])
    scale = 10.0 ** np.broadcast_to(nd, v.shape)
    v = np.round(v * scale) / scale
    t = np.round(t * scale) / scale
    gap = np.where(d == "higher", v - t, t - v)
    tol = np.where(np.isfinite(tol), np.abs(tol), 0.0)
    out = np.where(gap >= 0, "green", np.where(gap >= -tol - 1e-9, "amber", "red")).astype(object)
    out[~np.isfinite(v) | ~np.isfinite(t) | (d == "neutral")] = "none"
    return out


def rag_one(value, target, direction: str, tolerance: float, unit: str = "%") -> str:
    if value is None or target is None:
        return "none"
    return str(rag(value, target, direction, tolerance, unit)[()])


def rag_text(rag_code: str) -> str:
    return f"{RAG_SYMBOLS[rag_code]} {RAG_WORDS[rag_code]}"


def tally_counts(rags) -> dict[str, int]:
    """How many figures with a target are on, near and off target (figures not judged are not counted)."""
    codes = [r for r in rags if r in ("green", "amber", "red")]
    return {"judged": len(codes), "on": codes.count("green"), "near": codes.count("amber"),
            "off": codes.count("red")}


def tally(rags, noun: str = "measure") -> str:
    """'7 of 12 measures with a target are on target, 3 near target and 2 off target.'"""
    codes = [r for r in rags if r in ("green", "amber", "red")]
    if not codes:
        return f"No {noun} with a target can be judged."
    n = len(codes)
    on, near, off = (codes.count(c) for c in ("green", "amber", "red"))
    text = (f"{on} of {n} {noun}{'s' if n != 1 else ''} with a target {'is' if on == 1 else 'are'} on target")
    text += f", {near} near target" if near else ""
    text += f" and {off} off target" if off else ""
    return text + "."


__all__ = ["JUDGEMENTS", "JUDGED", "TOO_FEW", "SUPPRESSED", "NOT_RECEIVED", "NO_DATA", "REASON_PRIMARY",
           "REASON_SECONDARY", "judgement_words", "variation_words", "assurance_words", "VARIATION_SHORT",
           "ASSURANCE_SHORT", "variation_short", "assurance_short", "decimals", "rag", "rag_one", "rag_text", "tally_counts", "tally", "RAG_WORDS",
           "RAG_SYMBOLS"]
