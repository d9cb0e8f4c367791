"""Who is looking. (Sign-in and demo users are completed by the access issue; until then the demo board member.)"""
from __future__ import annotations

from data_layer.scope import Viewer

DEMO_BOARD = Viewer(email="board@demo.invalid", role="board", name="Demo board member")


def current_viewer() -> Viewer:
    return DEMO_BOARD
