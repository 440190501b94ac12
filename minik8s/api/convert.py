"""The HPA conversions moved to minik8s/api/kinds/hpa_conversion.py.

Kept only so that apiserver/handlers.py, which another change is editing, keeps
importing `convert`; at merge, handlers.py calls `kinds.to_version` and
`kinds.from_version` and this module goes.
"""
from __future__ import annotations

from minik8s.api.kinds import hpa_conversion

hpa_v2_to_v1 = hpa_conversion.hpa_v2_to_v1
hpa_v1_to_v2 = hpa_conversion.hpa_v1_to_v2
