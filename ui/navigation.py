"""The pages of the app and which roles may use each. Pages a role may not use are not registered at all, so they
cannot be reached by URL either."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class PageSpec:
    path: str
    title: str
    icon: str
    roles: tuple[str, ...]
    section: str
    url_path: str

    @property
    def file(self) -> Path:
        return ROOT / self.path


EVERYONE = ("admin", "board", "practice_lead", "viewer")
PAGES: tuple[PageSpec, ...] = (
    PageSpec("pages/overview.py", "Overview", ":material/dashboard:", EVERYONE, "Board", "overview"),
    PageSpec("pages/aims.py", "Aims & objectives", ":material/flag:", EVERYONE, "Board", "aims"),
    PageSpec("pages/quality.py", "Quality indicators", ":material/monitoring:", EVERYONE, "Board", "quality"),
    PageSpec("pages/training.py", "Staff training", ":material/school:", EVERYONE, "Practices", "training"),
    PageSpec("pages/feedback.py", "Patient feedback", ":material/forum:", EVERYONE, "Practices", "feedback"),
    PageSpec("pages/practice.py", "Practice profile", ":material/local_hospital:", EVERYONE, "Practices", "practice"),
    PageSpec("pages/actions.py", "Actions", ":material/task_alt:", EVERYONE, "Board", "actions"),
    PageSpec("pages/compare.py", "Compare PCNs and groups", ":material/compare_arrows:", EVERYONE, "Board", "compare"),
    PageSpec("pages/evidence.py", "Evidence register", ":material/folder_open:", EVERYONE, "Inspection", "evidence"),
    PageSpec("pages/inspection.py", "Inspection pack", ":material/fact_check:", ("admin", "board", "practice_lead"),
             "Inspection", "inspection"),
    PageSpec("pages/imports.py", "Import data", ":material/upload_file:", ("admin",), "Administration", "import"),
    PageSpec("pages/completeness.py", "Data completeness", ":material/checklist:", ("admin", "board"),
             "Administration", "completeness"),
    PageSpec("pages/users.py", "Users", ":material/group:", ("admin",), "Administration", "users"),
    PageSpec("pages/audit.py", "Audit log", ":material/history:", ("admin",), "Administration", "audit"),
)


# The page each role lands on: a practice lead their own practice's profile (its figures beside the federation's),
# everyone else the board overview.
LANDING = {"practice_lead": "practice"}


def landing_page(role: str) -> str:
    """The url_path of the page ``role`` opens on."""
    return LANDING.get(role, "overview")


def pages_for(role: str) -> list[PageSpec]:
    """The pages this role may use (only those that exist in this build)."""
    return [p for p in PAGES if role in p.roles and p.file.exists()]
