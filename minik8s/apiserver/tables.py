"""Server-side Table rendering moved to the kinds' printers (minik8s/api/kinds, api/printing).

Kept only so that apiserver/handlers.py, which another change is editing, keeps
importing `tables.to_table`; at merge, handlers.py calls `kinds.to_table` and
this module goes. (The CLI helpers below go in the next commit.)
"""
from __future__ import annotations

from minik8s.api import kinds
from minik8s.api import printing
from minik8s.api import rfc3339
from minik8s.api.kinds import node
from minik8s.api.kinds import service

to_table = kinds.to_table
format_labels = printing.format_labels
human_age = printing.human_age
label_selector_string = printing.label_selector_string
parse_time = rfc3339.parse
node_roles = node.node_roles
format_endpoints = service.format_endpoints
