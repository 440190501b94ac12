"""Server-side Table rendering moved to the kinds' printers (minik8s/api/kinds, api/printing).

Kept only so that apiserver/handlers.py, which another change is editing, keeps
importing `tables.to_table`; at merge, handlers.py calls `kinds.to_table` and
this module goes.
"""
from __future__ import annotations

from minik8s.api import kinds

to_table = kinds.to_table
