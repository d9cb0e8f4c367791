"""Files of the evidence register on disk: what may be uploaded (checked by content, not by name), where it is kept,
and reading it back. Only ``data_layer.evidence`` calls this module, after checking who is asking.

* Types: PDF, Word (.docx), Excel (.xlsx), PNG, JPEG, plain text and CSV - recognised from the bytes themselves, so
  an HTML page renamed ``.pdf`` is refused. Executables, scripts, HTML, SVG, XML, macro-enabled Office files and
  PDFs that carry JavaScript or launch actions are refused: a file opened from the register must not run anything.
* Size: at most ``EVIDENCE_MAX_MB`` megabytes (default 20).
* Where: ``EVIDENCE_DIR``, or ``evidence/`` beside an SQLite database file, or ``data/evidence/`` in the project
  folder (PostgreSQL). None of these is served by the web server (Streamlit serves only ``static/``, and only when
  told to). Several app servers on one PostgreSQL database need ``EVIDENCE_DIR`` on storage they all mount.
* Names: each file is stored under its SHA-256 (``ab/abcdef…``), never under the name it was uploaded with, so a
  name cannot climb out of the directory or overwrite another file, and the same file uploaded twice is kept once.
  Reading checks the hash again, so a file changed on disk is refused rather than handed out.
"""
from __future__ import annotations

import hashlib
import io
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from .db import PROJECT_ROOT

DEFAULT_MAX_MB = 20
ALLOWED_WORDS = "PDF, Word (.docx), Excel (.xlsx), PNG or JPEG images, plain text or CSV"


class FileRefused(ValueError):
    """The uploaded file may not be stored; the message says why in plain words."""


class FileMissing(LookupError):
    """The register names a file that is not (or no longer intact) in the evidence directory."""


@dataclass(frozen=True)
class FileKind:
    label: str  # "PDF document"
    mime: str
    extension: str  # ".pdf": the extension it is downloaded with


PDF = FileKind("PDF document", "application/pdf", ".pdf")
DOCX = FileKind("Word document", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx")
XLSX = FileKind("Excel workbook", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx")
PNG = FileKind("PNG image", "image/png", ".png")
JPEG = FileKind("JPEG image", "image/jpeg", ".jpg")
TEXT = FileKind("plain text", "text/plain", ".txt")
CSV = FileKind("CSV table", "text/csv", ".csv")

# Bytes that begin programs and other files that must never be handed back to a browser or a desktop.
_EXECUTABLE = ((b"MZ", "a Windows program"), (b"\x7fELF", "a Linux program"), (b"\xcf\xfa\xed\xfe", "a Mac program"),
               (b"\xfe\xed\xfa", "a Mac program"), (b"\xca\xfe\xba\xbe", "a Mac or Java program"),
               (b"#!", "a script"), (b"\xd0\xcf\x11\xe0", "an old-style Office file (.doc/.xls, which can hold macros)"),
               (b"Rar!", "a RAR archive"), (b"7z\xbc\xaf", "a 7-Zip archive"), (b"\x1f\x8b", "a gzip archive"),
               (b"GIF8", "a GIF image"), (b"{\\rtf", "an RTF document"))
_MARKUP = re.compile(rb"<\s*(!doctype|html|head|body|script|svg|iframe|object|embed|\?xml|meta|a\s|img\s|style|"
                     rb"form|xml)", re.IGNORECASE)


def max_bytes() -> int:
    try:
        mb = float(os.environ.get("EVIDENCE_MAX_MB", DEFAULT_MAX_MB))
    except ValueError:
        mb = DEFAULT_MAX_MB
    return int(mb * 1024 * 1024)


def _size_words(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{max(1, round(n / 1024))} KB"


def _office(data: bytes) -> FileKind:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = set(z.namelist())
    except (zipfile.BadZipFile, ValueError):
        raise FileRefused("the file starts like a ZIP archive but is damaged; upload the document again") from None
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        raise FileRefused("the file holds macros (a macro-enabled Office file); save it as a .docx or .xlsx without "
                          "macros, or as a PDF, and upload that")
    if "word/document.xml" in names:
        return DOCX
    if "xl/workbook.xml" in names:
        return XLSX
    raise FileRefused("the file is a ZIP archive, not a Word or Excel document; upload the documents one by one "
                      f"({ALLOWED_WORDS})")


def _text(data: bytes, file_name: str) -> FileKind:
    if b"\x00" in data:
        raise FileRefused(f"the file is not one of the types the register keeps ({ALLOWED_WORDS})")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            raise FileRefused(f"the file is not one of the types the register keeps ({ALLOWED_WORDS})") from None
    if _MARKUP.search(data[:65536]):
        raise FileRefused("the file holds web page or XML markup (HTML, SVG or XML), which a browser could run; "
                          "save it as a PDF and upload that")
    if any(ord(c) < 32 and c not in "\t\r\n\f" for c in text[:65536]):
        raise FileRefused(f"the file is not one of the types the register keeps ({ALLOWED_WORDS})")
    return CSV if file_name.lower().endswith(".csv") else TEXT


def check_file(data: bytes, file_name: str = "") -> FileKind:
    """What the file is, from its bytes; FileRefused (with the reason in plain words) when it may not be kept."""
    size, limit = len(data), max_bytes()
    if size == 0:
        raise FileRefused("the file is empty")
    if size > limit:
        raise FileRefused(f"the file is {_size_words(size)}; the largest the register keeps is {_size_words(limit)} "
                          "(save a smaller copy, e.g. a PDF with compressed images)")
    head = data[:16]
    for magic, what in _EXECUTABLE:
        if head.startswith(magic):
            raise FileRefused(f"the file is {what}, which the register does not keep ({ALLOWED_WORDS} only)")
    if head.startswith(b"%PDF-"):
        if re.search(rb"/(JavaScript|Launch|EmbeddedFile)\b", data):
            raise FileRefused("the PDF carries JavaScript, a launch action or embedded files; print it to a new PDF "
                              "(or export it again without them) and upload that")
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"PK\x03\x04"):
        return _office(data)
    return _text(data, file_name)


def download_name(file_name: str | None, kind_extension: str, fallback: str = "evidence") -> str:
    """The name a stored file is downloaded as: the uploaded name's stem (made safe) with the extension of what the
    file really is."""
    stem = Path(file_name or "").stem or fallback
    stem = re.sub(r"[^\w\- .()]+", "_", stem).strip(" ._") or fallback
    return stem[:120] + kind_extension


def evidence_dir(engine: Engine | None = None) -> Path:
    """Where evidence files are kept (see the module docstring)."""
    configured = os.environ.get("EVIDENCE_DIR")
    if configured:
        return Path(configured).expanduser().resolve()
    if engine is not None and engine.url.get_backend_name() == "sqlite":
        db = engine.url.database
        if db and db != ":memory:":
            return Path(db).expanduser().resolve().parent / "evidence"
    return PROJECT_ROOT / "data" / "evidence"


def _path(directory: Path, sha256: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{64}", sha256 or ""):
        raise FileMissing("the register holds no file for this item")
    return directory / sha256[:2] / sha256


def store(directory: Path, data: bytes) -> str:
    """Keep ``data`` under its SHA-256 (once, however often it is uploaded); returns the hash."""
    sha = hashlib.sha256(data).hexdigest()
    path = _path(directory, sha)
    if path.exists() and path.stat().st_size == len(data):
        return sha
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{sha}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)  # atomic: a reader never sees half a file
    return sha


def read(directory: Path, sha256: str) -> bytes:
    path = _path(directory, sha256)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise FileMissing("the file is not in the evidence store (it may have been kept on another server: set "
                          "EVIDENCE_DIR to storage every server shares)") from None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise FileMissing("the stored file has been changed since it was uploaded, so it is not handed out; upload "
                          "it again")
    return data
