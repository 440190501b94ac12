"""ConfigMaps and Secrets: configuration objects, no spec and no status.

Their strategies (pkg/registry/core/configmap, core/secret: no generation),
the Secret defaults (type Opaque; stringData folded into data, as the v1
conversion does) and printConfigMap/printSecret.
"""
from __future__ import annotations

import base64
import datetime
from typing import Any, Mapping

from minik8s.api import defaults
from minik8s.api import printing
from minik8s.api import resources
from minik8s.api import strategy

Obj = dict[str, Any]
View = Mapping[str, Any]
Cells = printing.Cells


# ---------------------------------------------------------------------------
# printers


_CONFIGMAP_COLUMNS = (
    printing.name_column(),
    printing.column("Data", "integer", desc="Data contains the configuration data."),
    printing.age_column(),
)


def _configmap_cells(obj: View, now: datetime.datetime) -> Cells:
    return [printing.name(obj), len(obj.get("data") or {}) + len(obj.get("binaryData") or {}), printing.age(obj, now)]


_SECRET_COLUMNS = (
    printing.name_column(),
    printing.column("Type", desc="Used to facilitate programmatic handling of secret data."),
    printing.column("Data", "integer", desc="Data contains the secret data."),
    printing.age_column(),
)


def _secret_cells(obj: View, now: datetime.datetime) -> Cells:
    return [printing.name(obj), obj.get("type") or "", len(obj.get("data") or {}), printing.age(obj, now)]


# ---------------------------------------------------------------------------
# the strategies


class ConfigMapStrategy(strategy.Strategy):
    group, kind = "", "ConfigMap"
    printer = printing.Printer(_CONFIGMAP_COLUMNS, _configmap_cells)


class SecretStrategy(strategy.Strategy):
    group, kind = "", "Secret"
    printer = printing.Printer(_SECRET_COLUMNS, _secret_cells)

    def defaults(self, res: resources.Resource, obj: Obj, old: Obj | None, settings: strategy.Settings) -> None:
        """Secrets: type Opaque; write-only stringData folded into data (base64), as the v1 conversion does."""
        if not obj.get("type"):
            obj["type"] = "Opaque"
        string_data = obj.pop("stringData", None)
        if isinstance(string_data, dict) and string_data:
            data = defaults.ensure_dict(obj, "data")
            for key, value in string_data.items():
                data[key] = base64.b64encode(str(value).encode()).decode()
