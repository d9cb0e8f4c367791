"""The monthly board pack, as data: cover, what needs attention, what changed since the previous month, the aims
scorecard, the practice × measure matrix, actions, data completeness, notes added this month and sources.

Every figure is read, not worked out: the attention list is ``views.attention_items`` over the same inputs as the
overview (``ui.views.attention``); the scorecard is ``engine.scorecard``; the matrix is ``views.practice_matrix``;
"what changed" compares the measure store's stored evaluations as at this month and the month before (their
``variation`` and ``rag`` codes, never a figure recomputed), and training lapsing counts now and a month earlier.
Words come from ``policy.status`` and the store's judgement. ``board_pdf`` and ``board_xlsx`` only lay it out.

A board pack covers the whole federation, so only administrators and board members may have one.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from .. import audit
from .. import engine as calc
from .. import training as tr
from .. import views
from ..config import FederationConfig
from ..demo import is_demo
from ..governance import actions as gov_actions
from ..governance import meetings as gov_meetings
from ..governance import notes as gov_notes
from ..measures import store
from ..policy import status
from ..scope import ROLE_LABELS, AccessDenied, Viewer
from .pack_model import NoData, Table, variation_short
from .sections import appendix, benchmarks

try:  # another developer's module: the section is left out if it is not there
    from ..governance import completeness as gov_completeness
except ImportError:  # pragma: no cover
    gov_completeness = None

FORMATS: dict[str, tuple[str, str, str]] = {
    "pdf": ("pdf", "application/pdf", "PDF"),
    "xlsx": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Excel workbook"),
}
ROLES = ("admin", "board")
SPECIAL = ("improvement", "concern")
CHANGE_NEW_SPECIAL = "New special cause"
CHANGE_MET = "Target newly met"
CHANGE_MISSED = "Target newly missed"
CHANGE_TRAINING = "Training lapsed"
CHANGE_ORDER = {CHANGE_NEW_SPECIAL: 0, CHANGE_MISSED: 1, CHANGE_MET: 2, CHANGE_TRAINING: 3}


@dataclass
class BoardPack:
    federation_name: str
    period_end: date  # first day of the pack's month
    previous: date  # first day of the month before
    period_last_day: date
    generated_at: datetime
    generated_by: str
    demo: bool
    training_as_of: date | None
    cover: Table
    attention: Table
    changes: Table
    scorecard: Table
    matrix: Table
    actions: list[Table]
    completeness: list[Table] | None  # None: the completeness module is not in this build
    completeness_line: str | None
    notes: Table
    sources: Table
    meetings: gov_meetings.Meetings | None = None  # the last and next board meetings the actions run between
    practice_codes: tuple[str, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)
    benchmarks: Table | None = None  # the federation beside England and the local areas (None: no benchmarks held)

    # what the shared PDF document (pdf_doc.PackPDF) and the sources table read of a pack
    @property
    def scope_name(self) -> str:
        return f"{self.federation_name} board pack"

    @property
    def period_words(self) -> str:
        return f"{self.period_end:%B %Y}"

    @property
    def period_start(self) -> date:
        return self.previous

    def sections(self) -> list[tuple[str, list[Table]]]:
        """(heading, tables) in the pack's order: the PDF's chapters and bookmarks, the workbook's sheets."""
        out = [("Cover", [self.cover]), ("What needs attention", [self.attention]),
               ("What changed since the previous month", [self.changes]),
               ("Aims scorecard", [self.scorecard]), ("Practices by measure", [self.matrix])]
        if self.benchmarks is not None:
            out.append(("Beside England and the local areas", [self.benchmarks]))
        out.append(("Actions", self.actions))
        if self.completeness is not None:
            out.append(("Data completeness", self.completeness))
        out += [("Notes added this month", [self.notes]), ("Sources", [self.sources])]
        return out

    def tables(self) -> list[Table]:
        return [t for _, tables in self.sections() for t in tables]


@dataclass(frozen=True)
class BoardExport:
    content: bytes
    file_name: str
    mime: str
    seconds: float
    pack: BoardPack


# ---------------------------------------------------------------------------------------------------------------
# Who and when
# ---------------------------------------------------------------------------------------------------------------
def may_export(viewer: Viewer) -> bool:
    return viewer.role in ROLES


def check_access(viewer: Viewer) -> None:
    if not may_export(viewer):
        role = ROLE_LABELS.get(viewer.role, viewer.role).lower()
        raise AccessDenied(f"{viewer.email} is a {role}: the board pack covers every practice and is for board "
                           "members and administrators only")


def months_available(engine: Engine) -> list[date]:
    """Months the measure store holds federation figures for, oldest first (the months a pack can be for)."""
    return store.months(engine)


def _add_months(d: date, n: int) -> date:
    return (pd.Timestamp(d) + pd.DateOffset(months=n)).date()


def _words_by(viewer: Viewer) -> str:
    role = ROLE_LABELS[viewer.role].lower()
    return f"{viewer.name} ({viewer.email}, {role})" if viewer.name else f"{viewer.email} ({role})"


# ---------------------------------------------------------------------------------------------------------------
# Sections
# ---------------------------------------------------------------------------------------------------------------
def attention_table(items: pd.DataFrame) -> Table:
    frame = items[["kind", "where", "headline", "detail"]].rename(columns={
        "kind": "Kind", "where": "Where", "headline": "What", "detail": "Detail"}).reset_index(drop=True)
    return Table("attention", "What needs attention", frame,
                 note="As on the overview: special-cause concerns (Making Data Count), measures off target, and "
                      "required training lapsed or lapsing soon. Figures on too few cases are never listed.",
                 pdf_widths=(18, 22, 50, 60))


def _eval_index(ev: pd.DataFrame) -> pd.DataFrame:
    return ev.set_index(["area_code", "indicator_code"])


def _special(code) -> bool:
    return isinstance(code, str) and code.startswith(SPECIAL)


def _state_words(row, config: FederationConfig, ind) -> str:
    """The stored judgement of one evaluation in words (status and variation), as the screens say them."""
    if row["judgement"] != status.JUDGED:
        return status.judgement_words(row["judgement"], config.suppression_min(ind), config.min_denominator(ind))
    code = row["variation"] if isinstance(row["variation"], str) else "none"
    return f"{status.rag_text(row['rag'])}; {variation_short(code)}"  # words, never a stray ⇑ or ↓!


def measure_changes(config: FederationConfig, now: pd.DataFrame, before: pd.DataFrame, names: dict[str, str]
                    ) -> list[dict]:
    """New special causes and targets newly met or missed between two sets of stored evaluations (same area type):
    only figures judged in both months count (a figure too small to judge, or hidden, is never a change)."""
    rows = []
    if now.empty or before.empty:
        return rows
    prev = _eval_index(before)
    for r in now.to_dict("records"):
        key = (r["area_code"], r["indicator_code"])
        if key not in prev.index or r["judgement"] != status.JUDGED:
            continue
        b = prev.loc[key]
        if b["judgement"] != status.JUDGED:
            continue
        ind = config.indicator(r["indicator_code"])
        where = names.get(r["area_code"], r["area_code"])
        kinds = []
        if _special(r["variation"]) and r["variation"] != b["variation"] and not (
                _special(b["variation"]) and b["variation"].split("_")[0] == r["variation"].split("_")[0]):
            kinds.append(CHANGE_NEW_SPECIAL)
        if r["rag"] == "red" and b["rag"] in ("green", "amber"):
            kinds.append(CHANGE_MISSED)
        if r["rag"] == "green" and b["rag"] in ("red", "amber"):
            kinds.append(CHANGE_MET)
        for kind in kinds:
            detail = (status.variation_words(r["variation"], bool(r["trial_limits"]))
                      if kind == CHANGE_NEW_SPECIAL else status.rag_text(r["rag"]))
            rows.append({"Change": kind, "Where": where, "Code": ind.code, "Measure": ind.name, "Unit": ind.unit,
                         "Before": float(b["value"]) if pd.notna(b["value"]) else np.nan,
                         "Now": float(r["value"]) if pd.notna(r["value"]) else np.nan,
                         "Then": _state_words(b, config, ind), "Now in words": _state_words(r, config, ind),
                         "What it means": detail, "_fed": r["area_type"] == "federation"})
    return rows


def training_changes(now: pd.DataFrame, before: pd.DataFrame, buckets: tuple[str, ...]) -> list[dict]:
    """Practices with more lapsed required training (staff × course) now than a month before."""
    rows = []
    if now.empty or len(buckets) < 2:
        return rows
    lapsed = buckets[0]
    prev = before.set_index("practice_code")[lapsed].to_dict() if not before.empty else {}
    for r in now.to_dict("records"):
        was, is_now = int(prev.get(r["practice_code"], 0)), int(r[lapsed])
        if is_now <= was:
            continue
        rows.append({"Change": CHANGE_TRAINING, "Where": r["practice_name"], "Code": "", "Measure":
                     "Required training lapsed (staff × course)", "Unit": "count", "Before": float(was),
                     "Now": float(is_now), "Then": f"{was} lapsed", "Now in words": f"{is_now} lapsed",
                     "What it means": f"{r[buckets[1]]} never completed; {r['Total to act on']} to act on in all",
                     "_fed": r["practice_code"] == "ALL"})
    return rows


def changes_table(rows: list[dict], end: date, previous: date, had_previous: bool) -> Table:
    cols = ["Change", "Where", "Code", "Measure", "Unit", "Before", "Now", "Then", "Now in words", "What it means"]
    frame = pd.DataFrame(rows, columns=cols + ["_fed"])
    if len(frame):
        frame = frame.assign(_k=frame["Change"].map(CHANGE_ORDER), _f=~frame["_fed"].astype(bool)).sort_values(
            ["_k", "_f", "Where", "Measure"], kind="mergesort")
    frame = frame[cols].reset_index(drop=True)
    note = (f"{end:%B %Y} compared with {previous:%B %Y}, as the measure store judged each month (the federation, "
            "then each practice). New special cause: the latest point became a Making Data Count improvement or "
            "concern. Target newly missed: off target now, on or near it before; newly met: on target now, not "
            "before. Training: lapsed required training now against a month earlier. Before and Now are the "
            "stored figures (counts for training).")
    if not had_previous:
        note = f"No figures are held for {previous:%B %Y}, so nothing can be compared. " + note
    return Table("changes", "What changed since the previous month", frame,
                 kinds={"Before": "unit", "Now": "unit", "Code": "text"}, note=note,
                 pdf_columns=("Change", "Where", "Measure", "Before", "Now", "Then", "Now in words"),
                 pdf_widths=(18, 22, 30, 12, 12, 28, 28))


def scorecard_table(card: pd.DataFrame) -> Table:
    frame = pd.DataFrame({
        "Aim": card["aim_order"].astype(str) + ". " + card["aim"],
        "Code": card["indicator_code"], "Measure": card["indicator"], "Unit": card["unit"],
        "Month": pd.to_datetime(card["latest_period"]),
        "Latest": [np.nan if s or v is None or pd.isna(v) else float(v)
                   for v, s in zip(card["value"], card["suppressed"])],
        "Change": [np.nan if s or v is None or pd.isna(v) else float(v)
                   for v, s in zip(card["change"], card["suppressed"])],
        "Target": pd.to_numeric(card["target"], errors="coerce").astype(float),
        "Status": [w if j not in (status.JUDGED, None) and w else s
                   for s, j, w in zip(card["status"], card["judgement"], card["judgement_text"])],
        "Variation": card["variation_text"], "Assurance": card["assurance_text"],
    })
    return Table("scorecard", "Aims scorecard", frame,
                 kinds={"Latest": "unit", "Change": "unit", "Target": "unit", "Month": "month"},
                 note="Each aim's measures for the federation: latest value against target (✔ on target, ▲ near "
                      "target, ✖ off target) and what the control chart says (Making Data Count). Change: since "
                      "the previous period, in the measure's unit (percentage points for percentages).",
                 pdf_columns=("Aim", "Measure", "Latest", "Change", "Target", "Status", "Variation"),
                 pdf_widths=(30, 30, 12, 12, 12, 18, 36))


def matrix_table(grid: pd.DataFrame, names: dict[str, str]) -> Table:
    if grid.empty:
        return Table("matrix", "Practices by measure", pd.DataFrame(columns=["Measure"]))
    wide = grid.pivot_table(index="measure", columns="practice", values="text", aggfunc="first", sort=False)
    wide = wide.reindex(index=list(dict.fromkeys(grid["measure"])), columns=list(dict.fromkeys(grid["practice"])))
    frame = wide.reset_index().rename(columns={"measure": "Measure"})
    frame.columns = [str(c) for c in frame.columns]
    frame = frame.astype(object).where(frame.notna(), "")
    return Table("matrix", "Practices by measure", frame, kinds={c: "text" for c in frame.columns},
                 note="Each cell: the value as the measure store holds it and its status (✔ on target, ▲ near "
                      "target, ✖ off target, no symbol where there is no target); “too few” where there are too "
                      "few cases to judge, “not shown” where too few patients responded, “not received” where the "
                      "practice has not sent it. The federation's figure is first.",
                 pdf_widths=(2.2,) + (1,) * (len(frame.columns) - 1))


ACTION_COLUMNS = {"id": "ID", "title": "Action", "owner_email": "Owner", "due_on": "Due", "status_label": "Status",
                  "practice_code": "Practice", "indicator_code": "Measure"}


def action_tables(parts: dict[str, pd.DataFrame], meet: gov_meetings.Meetings, practices: dict[str, str],
                  measures: dict[str, str]) -> list[Table]:
    """The three tables of actions, practices and measures by name (the meetings' words are on the cover and at the
    head of the chapter)."""
    as_at, since, next_meeting = meet.as_at, meet.last, meet.next
    day = gov_meetings.day_words
    spec = (("overdue", f"Overdue on {day(as_at)}", "Open or in progress and past their due date."),
            ("due_before_next", f"Due before the next meeting ({day(next_meeting)})"
             if meet.next_known else f"Due by {day(next_meeting)} (no next meeting set)",
             "Open or in progress, due by the next meeting."),
            ("done_since_last", f"Done since the last meeting ({day(since)})"
             if meet.last_known else f"Done since {day(since)} (no last meeting set)",
             "Marked done since the last meeting."))
    out = []
    for key, title, note in spec:
        df = parts.get(key, pd.DataFrame(columns=list(ACTION_COLUMNS)))
        cols = list(ACTION_COLUMNS) + (["done_at"] if key == "done_since_last" else [])
        frame = df.reindex(columns=cols).rename(columns={**ACTION_COLUMNS, "done_at": "Done"})
        frame["ID"] = pd.to_numeric(frame["ID"]).astype("Int64")
        frame["Due"] = pd.to_datetime(frame["Due"])
        if "Done" in frame:
            frame["Done"] = pd.to_datetime(frame["Done"])
        frame["Practice"] = [practices.get(c, c) if isinstance(c, str) and c else "" for c in frame["Practice"]]
        frame["Measure"] = [measures.get(c, c) if isinstance(c, str) and c else "" for c in frame["Measure"]]
        for c in ("Action", "Owner", "Status", "Practice", "Measure"):
            frame[c] = frame[c].astype(object).where(frame[c].notna(), "")
        out.append(Table(f"actions_{key}", title, frame.reset_index(drop=True),
                         kinds={"ID": "int", "Due": "date", "Done": "datetime"}, note=note,
                         pdf_widths=(5, 34, 24, 19, 13, 19, 26) + ((18,) if key == "done_since_last" else ())))
    return out


def completeness_tables(table: pd.DataFrame) -> list[Table]:
    summ = gov_completeness.summary(table)
    s = pd.DataFrame({"Dataset": summ["dataset_label"], "Month due": pd.to_datetime(summ["expected_month"]),
                      "Due by": pd.to_datetime(summ["due_on"]), "Practices late": summ["late"].astype(int),
                      "Practices": summ["practices"].astype(int)})
    late = table[table["late"]]
    lt = pd.DataFrame({"Practice": late["practice_name"], "Code": late["practice_code"],
                       "Dataset": late["dataset_label"], "Latest received": pd.to_datetime(late["latest_month"]),
                       "Status": late["status"]}).reset_index(drop=True)
    return [Table("completeness", "Data completeness by dataset", s.reset_index(drop=True),
                  kinds={"Month due": "month", "Due by": "date"},
                  note="For each dataset, the latest month now due and how many practices have not sent it. A "
                       "month not received is never counted as zero."),
            Table("completeness_late", "Practices late with data", lt, kinds={"Latest received": "month"},
                  note="Blank latest month: nothing ever received.", pdf_widths=(30, 12, 26, 16, 56))]


def notes_table(notes: pd.DataFrame, config: FederationConfig, end: date, since: datetime) -> Table:
    if notes.empty:
        chosen = notes
    else:
        month = pd.to_datetime(notes["month"])
        created = pd.to_datetime(notes["created_at"])
        chosen = notes[(month == pd.Timestamp(end)) | (created >= pd.Timestamp(since))]
    frame = pd.DataFrame({
        "Measure": [config.indicator(c).name if c in config.indicator_codes else c for c in chosen["indicator_code"]],
        "Practice": [c or "Every practice" for c in chosen["practice_code"]],
        "Month": pd.to_datetime(chosen["month"]), "Note": chosen["text"].astype(object),
        "Rebase": ["Yes: limits restart here" if r else "No" for r in chosen["rebase"]],
        "Added by": chosen["created_by"].astype(object), "Added": pd.to_datetime(chosen["created_at"]),
    }).reset_index(drop=True)
    return Table("notes", "Notes added this month", frame, kinds={"Month": "month", "Added": "datetime"},
                 note=f"Notes on the charts for {end:%B %Y}, or added since {since.day} {since:%B %Y}. A rebase "
                      "note restarts a measure's control limits from its month.",
                 pdf_widths=(26, 16, 13, 42, 16, 30, 18))


def cover_table(pack: BoardPack) -> Table:
    rows = [("Board pack", "Monthly board pack"), ("Federation", pack.federation_name),
            ("Month", pack.period_words), ("Compared with", f"{pack.previous:%B %Y}"),
            ("Practices", len(pack.practice_codes)),
            ("Training as at", pack.training_as_of or ""),
            ("Board meetings", pack.meetings.words if pack.meetings else ""), ("Generated", pack.generated_at),
            ("Generated by", pack.generated_by)]
    if pack.demo:
        rows.append(("Data", "Fictional demo federation: not real practices or patients"))
    rows.append(("Handling", "For the federation board. It names practices and action owners; it holds no "
                             "patients' comments and no staff names."))
    return Table("cover", "Cover", pd.DataFrame(rows, columns=["Item", "Value"]), kinds={"Value": "auto"})


# ---------------------------------------------------------------------------------------------------------------
# Building the pack
# ---------------------------------------------------------------------------------------------------------------
def build_board_pack(engine: Engine, config: FederationConfig, viewer: Viewer, period_end: date | None = None,
                     now: datetime | None = None, today: date | None = None) -> BoardPack:
    """Assemble the board pack for the month ``period_end`` (default: the newest month the store holds).
    Raises AccessDenied (not board or admin) or NoData."""
    check_access(viewer)
    months = months_available(engine)
    if not months:
        raise NoData("no figures held for the federation: import data first")
    end = date(period_end.year, period_end.month, 1) if period_end else months[-1]
    if end not in months:
        raise NoData(f"no figures for the federation in {end:%B %Y}: data runs from {months[0]:%B %Y} to "
                     f"{months[-1]:%B %Y}")
    previous = _add_months(end, -1)
    now = (now or datetime.now(ZoneInfo("Europe/London"))).replace(tzinfo=None, microsecond=0)
    today = today or now.date()

    plist = calc.practices(engine, viewer, config)
    names = dict(zip(plist["code"], plist["display_name"]))
    names["ALL"] = "Federation"
    filters = calc.Filters(period_end=end)
    results = calc.kpi_results(engine, config, viewer, filters)
    rows, _ = views.practice_results(engine, config, viewer, filters)
    act_on = tr.action_date(engine, filters, today=today)
    snap = tr.snapshot(engine, config, viewer, filters, as_of=act_on)
    lapsing = tr.lapsing_counts(snap)
    items = views.attention_items(config, results, rows, lapsing, "Federation")

    # what changed: the store's evaluations as at this month and the month before
    codes = list(config.indicator_codes)
    change_rows = []
    had_previous = previous in months
    for area_type in ("federation", "practice"):
        now_ev = store.evaluations(engine, area_type, None, end, codes)
        before_ev = store.evaluations(engine, area_type, None, previous, codes) if had_previous else now_ev.iloc[0:0]
        if area_type == "practice":
            now_ev = now_ev[now_ev["area_code"].isin(names)]
        change_rows += measure_changes(config, now_ev, before_ev, names)
    lapsing_before = pd.DataFrame()
    if act_on is not None:
        snap_before = tr.snapshot(engine, config, viewer, filters, as_of=_add_months(act_on, -1))
        lapsing_before = tr.lapsing_counts(snap_before)
    change_rows += training_changes(lapsing, lapsing_before, snap.buckets)

    meet = gov_meetings.meetings(config, today)
    since, next_meeting = meet.last, meet.next
    parts = gov_actions.board_pack_actions(engine, viewer, today, since=since, next_meeting=next_meeting)

    comp_tables, comp_line = None, None
    if gov_completeness is not None:
        comp = gov_completeness.completeness(engine, config, today=today)
        comp_tables = completeness_tables(comp)
        comp_line = gov_completeness.late_line(comp, config)

    pack = BoardPack(
        federation_name=config.name, period_end=end, previous=previous,
        period_last_day=(pd.Timestamp(end) + pd.offsets.MonthEnd(0)).date(), generated_at=now,
        generated_by=_words_by(viewer), demo=is_demo(engine), training_as_of=snap.as_of,
        cover=Table("cover", "Cover", pd.DataFrame()), attention=attention_table(items),
        changes=changes_table(change_rows, end, previous, had_previous),
        scorecard=scorecard_table(calc.scorecard(config, results)),
        matrix=matrix_table(views.practice_matrix(rows, results, config), names),
        actions=action_tables(parts, meet, names, {i.code: i.name for i in config.indicators}), meetings=meet,
        completeness=comp_tables,
        completeness_line=comp_line,
        notes=notes_table(gov_notes.list_notes(engine), config, end, datetime.combine(since, datetime.min.time())),
        sources=Table("sources", "Sources", pd.DataFrame()), practice_codes=tuple(plist["code"]),
        benchmarks=benchmarks.board_table(engine, config, viewer, end),
        counts={k: int((items["kind"] == k).sum()) for k in (views.KIND_CONCERN, views.KIND_TARGET,
                                                             views.KIND_TRAINING)},
    )
    src = appendix.sources_table(engine, pack)
    pack.sources = Table("sources", "Sources: the import batches behind this pack", src.frame, src.kinds,
                         note=f"Every file whose rows fall in {previous:%B %Y} or {end:%B %Y}, the two months this "
                              "pack compares.", pdf_columns=src.pdf_columns, pdf_widths=src.pdf_widths)
    pack.cover = cover_table(pack)
    return pack


def file_name(pack: BoardPack, fmt: str) -> str:
    return f"Board_pack_{pack.period_end:%Y-%m}.{FORMATS[fmt][0]}"


def render(pack: BoardPack, fmt: str) -> bytes:
    if fmt == "pdf":
        from .board_pdf import render_board_pdf

        return render_board_pdf(pack)
    if fmt == "xlsx":
        from .board_xlsx import render_board_xlsx

        return render_board_xlsx(pack)
    raise ValueError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}")


def export_board_pack(engine: Engine, config: FederationConfig, viewer: Viewer, fmt: str,
                      period_end: date | None = None, channel: str = "", now: datetime | None = None
                      ) -> BoardExport:
    """Build the board pack as a file and write the export to the audit log (action "export"). Raises
    AccessDenied or NoData (nothing is audited then)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    started = time.perf_counter()
    pack = build_board_pack(engine, config, viewer, period_end, now=now)
    content = render(pack, fmt)
    seconds = time.perf_counter() - started
    name = file_name(pack, fmt)
    detail = (f"Board pack ({FORMATS[fmt][2]}) for {pack.federation_name}, {pack.period_words}: {name}, "
              f"{len(content):,} bytes" + (f", from the {channel}" if channel else ""))
    audit.record(engine, viewer.email, "export", None, detail)
    return BoardExport(content=content, file_name=name, mime=FORMATS[fmt][1], seconds=seconds, pack=pack)


__all__ = ["FORMATS", "BoardExport", "BoardPack", "build_board_pack", "check_access", "export_board_pack",
           "file_name", "may_export", "months_available", "render"]
