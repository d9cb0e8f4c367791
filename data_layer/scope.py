"""Who is looking: the viewer's role and practices, passed to every query so a page cannot forget it.

Roles (see the access issue):
* admin — everything, plus imports, users and the audit log;
* board — every practice, all pages and exports, no imports;
* practice_lead — federation aggregates and benchmarks for all practices (other practices named or anonymised by
  config), but person-level and free-text data only for their own practice(s);
* viewer — aggregates only.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Role = Literal["admin", "board", "practice_lead", "viewer"]
ROLES: tuple[Role, ...] = ("admin", "board", "practice_lead", "viewer")
ROLE_LABELS = {"admin": "Administrator", "board": "Board member", "practice_lead": "Practice lead", "viewer": "Viewer"}


# What each role may do: the one table every rule below reads.
CAPABILITIES: dict[str, frozenset[str]] = {
    "admin": frozenset({"people_everywhere", "import", "users", "audit", "export_federation", "export_own",
                        "act_everywhere", "unredacted"}),
    "board": frozenset({"people_everywhere", "export_federation", "export_own", "act_everywhere"}),
    "practice_lead": frozenset({"people_own", "export_own", "act_own"}),
    "viewer": frozenset(),
}


class AccessDenied(Exception):
    """The viewer asked for data their role does not allow."""


@dataclass(frozen=True)
class Scope:
    """What decides an answer: the role's capabilities and the practices the person is attached to - never who
    the person is. Two board members have equal scopes, so the second gets the first one's cached work."""

    role: Role
    practice_codes: tuple[str, ...] = ()

    def __post_init__(self):
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}")

    @property
    def capabilities(self) -> frozenset[str]:
        return CAPABILITIES[self.role]

    def can(self, capability: str) -> bool:
        return capability in self.capabilities

    @property
    def email(self) -> str:  # a scope names no one; messages name the role
        return f"a {ROLE_LABELS[self.role].lower()}"

    @property
    def sees_all_people(self) -> bool:
        return self.can("people_everywhere")

    def person_level_practices(self, all_codes) -> tuple[str, ...]:
        """Practices whose staff names, training records, comments and complaint details this viewer may see."""
        if self.sees_all_people:
            return tuple(all_codes)
        if self.can("people_own"):
            return tuple(c for c in all_codes if c in self.practice_codes)
        return ()

    def may_see_people(self, practice_code: str) -> bool:
        return self.sees_all_people or (self.can("people_own") and practice_code in self.practice_codes)

    def require_people(self, practice_codes) -> None:
        blocked = [c for c in practice_codes if not self.may_see_people(c)]
        if blocked:
            raise AccessDenied(f"{self.email} may not see person-level data for {', '.join(blocked)}")

    @property
    def may_import(self) -> bool:
        return self.can("import")

    @property
    def label(self) -> str:
        return ROLE_LABELS[self.role]

    @property
    def scope(self) -> "Scope":
        return self


@dataclass(frozen=True)
class Viewer:
    """A signed-in person: who they are (for the audit log) and their scope (for every query)."""

    email: str
    role: Role
    practice_codes: tuple[str, ...] = field(default_factory=tuple)
    name: str = ""

    def __post_init__(self):
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}")

    @property
    def scope(self) -> Scope:
        return Scope(self.role, tuple(self.practice_codes))

    @property
    def capabilities(self) -> frozenset[str]:
        return CAPABILITIES[self.role]

    def can(self, capability: str) -> bool:
        return capability in self.capabilities

    @property
    def sees_all_people(self) -> bool:
        return self.scope.sees_all_people

    def person_level_practices(self, all_codes) -> tuple[str, ...]:
        return self.scope.person_level_practices(all_codes)

    def may_see_people(self, practice_code: str) -> bool:
        return self.scope.may_see_people(practice_code)

    def require_people(self, practice_codes) -> None:
        blocked = [c for c in practice_codes if not self.may_see_people(c)]
        if blocked:
            raise AccessDenied(f"{self.email} may not see person-level data for {', '.join(blocked)}")

    @property
    def may_import(self) -> bool:
        return self.can("import")

    @property
    def label(self) -> str:
        return ROLE_LABELS[self.role]


SYSTEM = Viewer(email="system", role="admin", name="System")
