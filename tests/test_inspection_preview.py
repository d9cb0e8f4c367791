"""The inspection page's preview is built once per scope: a second board member reads the first one's work (at an
ICB's size a federation pack takes many seconds to gather), while a refusal still names the person who asked."""
from __future__ import annotations

import pytest

from data_layer.exports import inspection
from data_layer.scope import AccessDenied, Viewer


def test_a_second_board_member_reads_the_first_ones_preview(app_env, monkeypatch):
    from ui import inspection as page

    built = []
    real = inspection.build_pack

    def counting(*args, **kwargs):
        built.append(args[2])
        return real(*args, **kwargs)

    monkeypatch.setattr(inspection, "build_pack", counting)
    end = page.pack_months(app_env, "")[0]
    first = page.preview(app_env, Viewer("one@demo.invalid", "board", name="Board One"), "", end)
    second = page.preview(app_env, Viewer("two@demo.invalid", "board", name="Board Two"), "", end)
    assert len(built) == 1 and second.summary_text == first.summary_text
    assert "one@demo.invalid" not in first.generated_by  # the shared preview names nobody
    page.preview(app_env, Viewer("lead@demo.invalid", "practice_lead", ("Z90001",)), "Z90001", end)
    assert len(built) == 2  # another scope: its own pack


def test_a_refused_preview_names_the_person_who_asked(app_env):
    from ui import inspection as page

    end = page.pack_months(app_env, "Z90002")[0]
    with pytest.raises(AccessDenied, match="lead@demo.invalid"):
        page.preview(app_env, Viewer("lead@demo.invalid", "practice_lead", ("Z90001",)), "Z90002", end)
