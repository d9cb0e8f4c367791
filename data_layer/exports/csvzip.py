"""The pack as CSV files in a zip: one file per table of the pack, plus a README saying what each file holds.

UTF-8 with a byte-order mark, so Excel shows “ ” £ – and accented names correctly when the file is opened by
double-click. A CSV has no types, so any text a spreadsheet could run as a formula (starting with = + - @) is
made inert with ``privacy.inert_for_spreadsheet``. Dates are written as ISO dates (YYYY-MM-DD).
"""
from __future__ import annotations

import io
import zipfile

import pandas as pd

from ..privacy import inert_for_spreadsheet
from ..policy import words
from .pack_model import InspectionPack, Table


def _csv(table: Table) -> bytes:
    out = pd.DataFrame(index=table.frame.index)
    for c in table.frame.columns:
        kind = table.kind(c)
        s = table.frame[c]
        if kind in ("date", "month", "datetime"):  # NHS style: "1 October 2026", "October 2026"
            out[c] = pd.to_datetime(s).map({"date": words.day, "month": words.month, "datetime": words.day_time}[kind])
            out[c] = out[c].where(out[c] != words.NONE, None)
        elif kind in ("int",):
            out[c] = pd.to_numeric(s, errors="coerce").round(0).astype("Int64")
        elif kind in ("dec1", "dec2", "unit"):
            out[c] = pd.to_numeric(s, errors="coerce").round(4)
        else:
            out[c] = [None if v is None or (not isinstance(v, str) and pd.isna(v)) else
                      inert_for_spreadsheet(words.day_time(v) if hasattr(v, "hour") else
                                            words.day(v) if hasattr(v, "isoformat") else str(v))
                      for v in s]
    return out.to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def file_names(pack: InspectionPack) -> dict[str, str]:
    return {t.name: f"{i:02d}_{t.name}.csv" for i, t in enumerate(pack.tables(), start=1)}


def render_csv_zip(pack: InspectionPack) -> bytes:
    names = file_names(pack)
    buf = io.BytesIO()
    readme = [f"CQC inspection evidence pack: {pack.scope_name}", f"Period: {pack.period_words}",
              f"Generated {words.day_time(pack.generated_at)} by {pack.generated_by}", ""]
    if pack.demo:
        readme += ["Fictional demo data: not real practices, staff or patients.", ""]
    readme += ["Patients' comments, complaint summaries and significant event learning have names, phone numbers, "
               "email addresses, NHS numbers and postcodes removed. Share only with CQC and the practice team.", "",
               "Files (UTF-8; dates as YYYY-MM-DD; text that looks like a formula starts with an apostrophe):", ""]
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for t in pack.tables():
            z.writestr(names[t.name], _csv(t))
            readme.append(f"{names[t.name]}: {t.title} ({len(t.frame)} rows)")
            if t.note:
                readme.append(f"    {t.note}")
        z.writestr("README.txt", ("\r\n".join(readme) + "\r\n").encode("utf-8-sig"))
    return buf.getvalue()
