"""CQC inspection packs: each format built for a demo practice and read back (PDF text, workbook cells, zipped CSVs),
who may export what, the command line's exit codes and the audit trail. Both backends.

Exports write to the audit log, so they run on a fresh demo federation of this module's own (the shared demo
database is read only). Into it go a patient comment that looks like a spreadsheet formula, a practice name with
accents and typographic characters, and a tiny practice whose Friends and Family Test must be suppressed.
"""
from __future__ import annotations

import io
import re
import zipfile
from datetime import date

import openpyxl
import pandas as pd
import pytest
from pypdf import PdfReader
from sqlalchemy import func, insert, select, update

from data_layer import audit
from data_layer import engine as calc
from data_layer import models as m
from data_layer.cli import main as cli_main
from data_layer.db import get_engine
from data_layer.measures.refresh import refresh as refresh_measures
from data_layer.exports import NoData, UnknownPractice, export_inspection, render
from data_layer.exports.inspection import KEY_QUESTIONS, build_pack
from data_layer.policy import status
from data_layer.scope import AccessDenied, Viewer

BOARD = Viewer("board@demo.invalid", "board", name="Dr Bea Board")
LEAD = Viewer("lead@demo.invalid", "practice_lead", ("Z90001",), name="Pat Lead")
VIEWER = Viewer("viewer@demo.invalid", "viewer")
FORMULA = '=HYPERLINK("http://x","click")'
ACCENTED = "Sainte-Thérèse “Ærø” Surgery – £ fund"
PRACTICE = "Z90002"  # the practice renamed, and given the formula-like comment
TINY = "Z99999"

_planted: dict[str, str] = {}


@pytest.fixture
def planted_url(demo_copy, backend, config):
    """A demo federation of this module's own (per backend), with the things these tests plant in it."""
    if backend not in _planted:
        url = demo_copy(backend)
        engine = get_engine(url)
        latest = calc.latest_period(engine)
        last_day = (pd.Timestamp(latest) + pd.offsets.MonthEnd(0)).date()
        with engine.begin() as conn:
            conn.execute(update(m.Practice).where(m.Practice.code == PRACTICE).values(name=ACCENTED))
            pid = conn.execute(select(m.Practice.id).where(m.Practice.code == PRACTICE)).scalar_one()
            conn.execute(insert(m.FFTResponse).values(practice_id=pid, response_key="planted-formula",
                                                      response_date=last_day, scale="current", rating=1,
                                                      comment=FORMULA, mode="Online"))
            tiny = conn.execute(insert(m.Practice).values(code=TINY, name="Tiny Test Surgery", pcn="Estuary PCN",
                                                          list_size=900, active=True)).inserted_primary_key[0]
            for i, rating in enumerate((1, 2, 5)):  # three responses: fewer than 5, so never shown
                conn.execute(insert(m.FFTResponse).values(practice_id=tiny, response_key=f"tiny-{i}",
                                                          response_date=last_day, scale="current", rating=rating,
                                                          comment=f"Tiny practice comment {i}", mode="SMS"))
        refresh_measures(engine, config)
        _planted[backend] = url
    return _planted[backend]


@pytest.fixture
def planted(planted_url):
    return get_engine(planted_url)


def _pdf_text(content: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(content))
    text = "\n".join(p.extract_text() for p in reader.pages)
    return reader, re.sub(r"\s+", " ", text)


def _export_rows(engine) -> pd.DataFrame:
    rows = audit.search(engine, Viewer("admin@test.invalid", "admin"), action="export")
    return rows


# ---------------------------------------------------------------------------------------------------------------
# PDF
# ---------------------------------------------------------------------------------------------------------------
def test_practice_pdf_has_every_key_question_the_practice_and_the_engines_figures(planted, config):
    before = len(_export_rows(planted))
    result = export_inspection(planted, config, BOARD, "Z90001", "pdf")
    reader, text = _pdf_text(result.content)
    pack = result.pack

    assert result.file_name == f"CQC_evidence_pack_Z90001_{pack.period_end:%Y-%m}.pdf"
    assert "Kingfisher Medical Centre" in text and pack.period_words in text
    for i, kq in enumerate(KEY_QUESTIONS, start=2):
        assert f"{i}. {kq}" in text  # a chapter per key question, in CQC's order
    assert "Contents" in text and "Before the visit: what CQC asks for" in text and "Appendix A. Sources" in text
    assert f"Page 3 of {len(reader.pages)}" in text

    # the figures are the engine's, for the same practice and 12 months
    one = calc.Filters(practice_codes=("Z90001",), period_end=pack.period_end, months=12)
    results = calc.kpi_results(planted, config, BOARD, one)
    shown = 0
    for code, res in results.items():
        if res.latest_value is None or res.suppressed:
            continue
        assert calc.format_value(res.latest_value, res.indicator.unit) in text, code
        shown += 1
    assert shown >= 25
    dm = results["DM_HBA1C"]
    last = dm.series.iloc[-1]
    assert f"{calc.format_value(dm.latest_value, '%')} ({last['numerator']:,.0f} of {last['denominator']:,.0f})" in text

    # real charts: a control chart and funnel plot per measure, plus the key, FFT and training charts
    # (a measure with no figures yet draws the same empty chart, which the PDF holds once per page)
    images = sum(len(p.images) for p in reader.pages)
    assert images >= len([e for e in pack.evidence() if e.result.latest_value is not None]) + 3
    fonts = {str(f.get_object()["/BaseFont"]) for p in reader.pages[:3] for f in p["/Resources"]["/Font"].values()}
    assert any("DejaVuSans" in f for f in fonts)
    assert len(_export_rows(planted)) == before + 1


def test_pdf_renders_accented_names_and_typographic_characters(planted, config):
    result = export_inspection(planted, config, BOARD, PRACTICE, "pdf")
    _, text = _pdf_text(result.content)
    assert ACCENTED in text  # é, Æ, ø, curly quotes, en dash and £, as typed
    assert "✔" in text or "✖" in text or "▲" in text  # RAG symbols, never colour alone
    assert "“Overall, how was your experience of our service?”" in text


def test_pack_comments_are_redacted_even_for_an_administrator(planted, config):
    with planted.begin() as conn:
        pid = conn.execute(select(m.Practice.id).where(m.Practice.code == "Z90001")).scalar_one()
        staff = conn.execute(select(m.Staff.name).where(m.Staff.practice_id == pid)).scalars().first()
        latest = calc.latest_period(planted)
        day = (pd.Timestamp(latest) + pd.offsets.MonthEnd(0)).date()
        conn.execute(insert(m.FFTResponse).values(
            practice_id=pid, response_key="planted-identifiers", response_date=day, scale="current", rating=5,
            comment=f"Dr Okafor and {staff} ignored me, ring 07700 900123 or me@example.com", mode="SMS"))
    admin = Viewer("admin@demo.invalid", "admin")
    pack = build_pack(planted, config, admin, "Z90001")
    comments = next(t for t in pack.tables() if t.name == "fft_comments").frame
    planted_row = comments[comments["Comment"].str.contains("ignored me")]
    assert len(planted_row) == 1
    said = planted_row["Comment"].iloc[0]
    assert "07700" not in said and "example.com" not in said and staff not in said and "Okafor" not in said
    assert "Dr [name removed]" in said and "[phone number removed]" in said
    assert set(comments["Kind"]) == {"Positive", "Negative"}


# ---------------------------------------------------------------------------------------------------------------
# Excel and CSV
# ---------------------------------------------------------------------------------------------------------------
def test_workbook_has_typed_cells_frozen_headers_filters_and_inert_formula_text(planted, config):
    result = export_inspection(planted, config, BOARD, PRACTICE, "xlsx")
    wb = openpyxl.load_workbook(io.BytesIO(result.content))
    for sheet in ("Contents", "Cover", "Summary – Safe", "Measures", "Control chart data", "Training by course",
                  "Training by role", "FFT by month", "Patient comments", "Complaints", "Significant events",
                  "Before the visit", "Sources", "How calculated"):
        assert sheet in wb.sheetnames, sheet
    for ws in wb.worksheets[1:]:
        assert ws.freeze_panes == "A2", ws.title  # heading row frozen
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:"), ws.title
        assert ws.column_dimensions["A"].width and ws.column_dimensions["A"].width > 6

    measures = wb["Measures"]
    head = [c.value for c in measures[1]]
    code_col, value_col, month_col = head.index("Code"), head.index("Value"), head.index("Month")
    rows = {r[code_col].value: r for r in measures.iter_rows(min_row=2)}
    one = calc.Filters(practice_codes=(PRACTICE,), period_end=result.pack.period_end, months=12)
    hba1c = calc.kpi_results(planted, config, BOARD, one, codes=["DM_HBA1C"])["DM_HBA1C"]
    cell = rows["DM_HBA1C"][value_col]
    assert cell.data_type == "n" and cell.value == pytest.approx(hba1c.latest_value)  # a number, not text
    assert rows["DM_HBA1C"][month_col].is_date
    assert pd.Timestamp(rows["DM_HBA1C"][month_col].value).date() == hba1c.latest_period

    comments = wb["Patient comments"]
    found = [c for row in comments.iter_rows() for c in row if c.value == FORMULA]
    assert found, "the planted comment is in the sample"
    assert all(c.data_type == "s" for c in found)  # stored as text: Excel shows it, never runs it
    with zipfile.ZipFile(io.BytesIO(result.content)) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        assert not any("<f>" in z.read(n).decode("utf-8") for n in sheets)  # no formula anywhere


def test_csv_zip_has_every_table_and_inert_formula_text(planted, config):
    result = export_inspection(planted, config, BOARD, PRACTICE, "csv")
    assert result.file_name.endswith(".zip")
    with zipfile.ZipFile(io.BytesIO(result.content)) as z:
        names = z.namelist()
        assert "README.txt" in names
        assert len([n for n in names if n.endswith(".csv")]) == len(result.pack.tables())
        for part in ("cover", "summary_safe", "indicators", "training_by_course", "fft_monthly", "fft_comments",
                     "complaints", "significant_events", "before_the_visit", "sources", "methods"):
            assert any(n.endswith(f"_{part}.csv") for n in names), part
        raw = z.read(next(n for n in names if n.endswith("_fft_comments.csv")))
        cover = z.read(next(n for n in names if n.endswith("_cover.csv"))).decode("utf-8-sig")
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the accents and £
    assert ACCENTED in cover
    comments = pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig", dtype=str)
    texts = set(comments["Comment"])
    assert "'" + FORMULA in texts and FORMULA not in texts  # a leading apostrophe keeps it text


# ---------------------------------------------------------------------------------------------------------------
# What goes in: suppression and the federation pack
# ---------------------------------------------------------------------------------------------------------------
def test_too_few_responses_are_not_shown_and_no_comments_are_sampled(planted, config):
    pack = build_pack(planted, config, BOARD, TINY)
    fft = next(t for t in pack.tables() if t.name == "fft_monthly").frame
    last = fft.iloc[-1]
    assert pd.isna(last["Responses"]) and pd.isna(last["Positive (%)"]) and "not shown" in last["Note"].lower()
    positive = next(e for e in pack.evidence() if e.code == "FFT_POSITIVE")
    min_n = config.thresholds.suppression_min
    assert positive.result.suppressed and positive.value_text == f"Not shown: fewer than {min_n} responses"
    assert positive.status == positive.value_text and positive.numerator is None and positive.lower_ci is None
    comments = next(t for t in pack.tables() if t.name == "fft_comments")
    assert comments.frame.empty and f"Fewer than {min_n}" in comments.note


def test_federation_pack_covers_every_practice(planted, config):
    pack = build_pack(planted, config, BOARD, None)
    assert pack.is_federation and len(pack.practice_codes) == len(calc.practices(planted, BOARD))
    everyone = calc.Filters(period_end=pack.period_end, months=12)
    fed = calc.kpi_results(planted, config, BOARD, everyone, codes=["TRAINING_COMPLIANCE"])["TRAINING_COMPLIANCE"]
    row = pack.indicators.frame.set_index("Code").loc["TRAINING_COMPLIANCE"]
    assert row["Value"] == pytest.approx(fed.latest_value)
    ratings = pack.ratings.frame
    assert set(ratings["Code"]) == set(pack.practice_codes)


# ---------------------------------------------------------------------------------------------------------------
# Who may export what
# ---------------------------------------------------------------------------------------------------------------
def test_a_practice_lead_exports_only_their_own_practice(demo_engine, config):
    with pytest.raises(AccessDenied):
        build_pack(demo_engine, config, LEAD, "Z90002")
    with pytest.raises(AccessDenied):
        build_pack(demo_engine, config, LEAD, None)  # the federation pack: admins and board members
    with pytest.raises(AccessDenied):
        build_pack(demo_engine, config, VIEWER, "Z90001")
    with pytest.raises(UnknownPractice):
        build_pack(demo_engine, config, BOARD, "NOPE1")
    with pytest.raises(NoData):
        build_pack(demo_engine, config, BOARD, "Z90001", date(2001, 1, 1))
    own = build_pack(demo_engine, config, LEAD, "Z90001")
    assert own.practice_code == "Z90001" and not own.fft_monthly.empty


def test_a_refused_export_is_not_audited_and_an_export_is(planted, config):
    before = _export_rows(planted)
    with pytest.raises(AccessDenied):
        export_inspection(planted, config, LEAD, PRACTICE, "csv")
    assert len(_export_rows(planted)) == len(before)
    export_inspection(planted, config, LEAD, "Z90001", "csv", channel="inspection page")
    rows = _export_rows(planted)
    assert len(rows) == len(before) + 1
    newest = rows.iloc[0]
    assert newest["actor"] == LEAD.email and newest["practice_code"] == "Z90001"
    assert "CSV" in newest["detail"] and "inspection page" in newest["detail"]


# ---------------------------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------------------------
def test_cli_exports_and_exits_2_on_bad_input(planted, planted_url, config, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("DATABASE_URL", planted_url)
    with planted.connect() as conn:
        before = conn.execute(select(func.count()).select_from(m.AuditEvent).where(
            m.AuditEvent.action == "export")).scalar_one()
    out = tmp_path / "pack.xlsx"
    assert cli_main(["export", "inspection", "--practice", "Z90001", "--format", "xlsx", "--out", str(out)]) == 0
    assert out.exists() and zipfile.is_zipfile(out)
    assert cli_main(["export", "inspection", "--practice", "Z90001", "--format", "csv", "--out", str(tmp_path),
                     "--as", "lead@demo.invalid"]) == 0
    assert list(tmp_path.glob("CQC_evidence_pack_Z90001_*.zip"))
    capsys.readouterr()

    cases = [
        (["--practice", "ZZZZZ"], "no active practice with code ZZZZZ"),
        (["--practice", "Z90001", "--as", "nobody@nowhere.invalid"], "no active user"),
        (["--practice", "Z90001", "--period-end", "2001-01"], "no figures"),
        (["--practice", "Z90001", "--period-end", "March"], "YYYY-MM"),
        (["--practice", PRACTICE, "--as", "lead@demo.invalid"], "refused"),
        (["--federation", "--as", "viewer@demo.invalid"], "refused"),
    ]
    for extra, message in cases:
        code = cli_main(["export", "inspection", "--format", "pdf", "--out", str(tmp_path / "x.pdf"), *extra])
        err = capsys.readouterr().err
        assert code == 2 and message in err, (extra, err)
    assert not (tmp_path / "x.pdf").exists()
    with planted.connect() as conn:
        after = conn.execute(select(m.AuditEvent.actor).where(m.AuditEvent.action == "export")
                             .order_by(m.AuditEvent.id)).scalars().all()
    assert len(after) == before + 2 and after[-2:] == ["system", "lead@demo.invalid"]


# ---------------------------------------------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------------------------------------------
def _page(user: str):
    from streamlit.testing.v1 import AppTest

    from tests.apptest_util import run_on_page
    from tests.conftest import ROOT

    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
    at.session_state["demo_user"] = user
    run_on_page(at, "pages/inspection.py")
    return at


def test_page_offers_a_practice_lead_only_their_practice(app_env):
    at = _page("lead@demo.invalid")
    assert not at.exception
    practice = at.selectbox(key="insp_practice")
    assert practice.options == ["Kingfisher Medical Centre (Z90001)"]
    assert any("Kingfisher Medical Centre (Z90001)" in h.value for h in at.subheader)
    assert len(at.get("download_button")) == 3
    assert at.dataframe  # the preview's tables


def test_page_offers_the_board_the_federation_and_every_practice(app_env):
    at = _page("board@demo.invalid")
    assert not at.exception
    options = at.selectbox(key="insp_practice").options
    assert options[0].startswith("Whole federation") and len(options) == 12
    at.selectbox(key="insp_practice").set_value("Z90003").run()
    assert not at.exception
    assert any("Harbour View Surgery (Z90003)" in h.value for h in at.subheader)


# ---------------------------------------------------------------------------------------------------------------
# One number: every measure of every practice's pack is the store's figure, in the workbook, the CSV and the PDF
# ---------------------------------------------------------------------------------------------------------------
def _expected_words(res) -> str:
    """What the store says about a figure, in policy.status's words: RAG, or why it is not judged."""
    if res.judgement == status.JUDGED:
        return status.rag_text(res.rag)
    return res.judgement_text or status.judgement_words(res.judgement)


def _no_charts(monkeypatch):
    """The PDF without its pictures (the figures and words are text; the charts are tested above)."""
    from data_layer.exports import charts

    monkeypatch.setattr(charts, "render_all", lambda pack: pack.charts)


@pytest.mark.parametrize("backend", ["sqlite"])  # the files, once: the packs above read the store on both backends
def test_every_measure_of_every_practice_pack_is_the_stores_figure_in_xlsx_csv_and_pdf(planted, config,
                                                                                       monkeypatch):
    _no_charts(monkeypatch)
    codes = list(config.indicator_codes)
    practices = list(calc.practices(planted, BOARD)["code"])
    end = calc.latest_period(planted)
    seen_words: set[str] = set()
    checked = 0
    for practice in practices:
        store = calc.kpi_results(planted, config, BOARD,
                                 calc.Filters(practice_codes=(practice,), period_end=end, months=12), codes=codes)
        pack = build_pack(planted, config, BOARD, practice, end)
        assert {e.code for e in pack.evidence()} == set(codes)  # every measure is in the pack

        wb = openpyxl.load_workbook(io.BytesIO(render(pack, "xlsx")))
        sheet = wb["Measures"]
        head = [c.value for c in sheet[1]]
        cells = {r[head.index("Code")].value: r for r in sheet.iter_rows(min_row=2)}
        with zipfile.ZipFile(io.BytesIO(render(pack, "csv"))) as z:
            csv = pd.read_csv(io.BytesIO(z.read(next(n for n in z.namelist() if n.endswith("_indicators.csv")))),
                              encoding="utf-8-sig", dtype={"Code": str, "Status": str}).set_index("Code")
        _, text = _pdf_text(render(pack, "pdf"))

        for code in codes:
            res, ind = store[code], config.indicator(code)
            places = status.decimals(ind.unit)
            words = _expected_words(res)
            seen_words.add(words)
            row = cells[code]
            shown = res.latest_value is not None and not res.suppressed
            # the workbook: the number itself (to the unit's rounding) and the status in the store's words
            xlsx_value = row[head.index("Value")].value
            if shown:
                assert xlsx_value is not None and round(xlsx_value, places) == round(res.latest_value, places), (
                    practice, code)
            else:
                assert xlsx_value is None, (practice, code)
            assert row[head.index("Status")].value == words, (practice, code)
            # the CSV files
            csv_value = csv.loc[code, "Value"]
            assert (round(float(csv_value), places) == round(res.latest_value, places)) if shown else pd.isna(
                csv_value), (practice, code)
            assert csv.loc[code, "Status"] == words, (practice, code)
            # the PDF: the measure's block (after its description) says the store's figure and words
            at = text.find(" ".join(ind.description.split()))
            assert at >= 0, (practice, code)
            block = text[at:at + len(ind.description) + 400]
            assert (calc.format_value(res.latest_value, ind.unit) if shown else words) in block, (practice, code)
            assert words in block, (practice, code)
            checked += 1
    assert checked == len(codes) * len(practices)
    # more than two states: on, near and off target, and figures not judged (too few, or not shown)
    assert {status.rag_text("green"), status.rag_text("red")} <= seen_words
    assert any(w.startswith("Too few to judge") for w in seen_words)
    assert any(w.startswith("Not shown") for w in seen_words)


def test_the_pack_works_out_nothing_itself():
    """The exporter reads the store and policy.status: no RAG, SPC, interval or percentage is computed in it, and
    the hard-coded words the pack used to carry are gone."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "data_layer" / "exports"
    sources = {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8") for p in root.rglob("*.py")}
    for name, src in sources.items():
        for banned in ("rag_status", "spc(", "wilson", "compare_with_benchmark", "funnel_position(", "* 100",
                       "DERIVATION_WORDS", "Fewer than 5", "fewer than 5", "target of 95%", "#005EB8"):
            assert banned not in src, (name, banned)
        assert len(src.splitlines()) <= 500, name


def test_the_command_line_has_no_import_cycle():
    """The sub-commands import only cli_common, never data_layer.cli, which registers them."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "data_layer"
    for sub in ("imports/cli.py", "exports/cli.py", "governance/cli.py"):
        tree = ast.parse((root / sub).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert not (node.level == 2 and node.module == "cli"), sub
                assert node.module != "data_layer.cli", sub
