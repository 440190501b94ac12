"""ConfigMaps and Secrets: configuration objects, no spec and no status.

Their strategies (pkg/registry/core/configmap, core/secret: no generation),
the Secret defaults (type Opaque; stringData folded into data, as the v1
conversion does) and printConfigMap/printSecret.
"""
from __future__ import annotations

import base64
import binascii
import datetime
from typing import Any, Mapping

from minik8s.api import defaults
from minik8s.api import printing
from minik8s.api import resources
from minik8s.api import strategy
from minik8s.api import validation as vc

Obj = dict[str, Any]
View = Mapping[str, Any]
Cells = printing.Cells
Errors = vc.Errors

# MaxSecretSize and the ConfigMap limit (corev1.MaxSecretSize = 1 MiB).
MAX_SIZE = 1024 * 1024


# ---------------------------------------------------------------------------
# validation (ValidateConfigMap, ValidateSecret)


def _keys(errs: Errors, data: dict[str, str], path: str) -> None:
    for key in sorted(data):
        errs.invalid_each(path, key, vc.config_map_key(key))


def _base64_map(errs: Errors, value: Any, path: str) -> dict[str, bytes]:
    """A map of base64 strings (what []byte members are in JSON); 422 for bad base64."""
    out = {}
    for key, text in vc.typed_str_map(errs, value, path).items():
        try:
            out[key] = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            errs.invalid(f"{path}[{key}]", "<value omitted>", "must be base64-encoded")
    return out


def _immutable(errs: Errors, obj: Obj, old: Obj | None, keys: tuple[str, ...]) -> None:
    vc.typed_bool(errs, obj.get("immutable"), "immutable")
    if old is None or old.get("immutable") is not True:
        return
    if obj.get("immutable") is not True:
        errs.forbidden("immutable", "field is immutable when `immutable` is set")
    for key in keys:
        if not vc.json_equal(obj.get(key), old.get(key)):
            errs.forbidden(key, "field is immutable when `immutable` is set")


# ---------------------------------------------------------------------------
# printers


_CONFIGMAP_COLUMNS = (
    printing.name_column(),
    printing.column("Data", "integer", desc="Data contains the configuration data."),
    printing.age_column(),
)


def _configmap_cells(obj: View, now: datetime.datetime) -> Cells:
    return [printing.name(obj), len(vc.as_dict(obj.get("data"))) + len(vc.as_dict(obj.get("binaryData"))),
            printing.age(obj, now)]


_SECRET_COLUMNS = (
    printing.name_column(),
    printing.column("Type", desc="Used to facilitate programmatic handling of secret data."),
    printing.column("Data", "integer", desc="Data contains the secret data."),
    printing.age_column(),
)


def _secret_cells(obj: View, now: datetime.datetime) -> Cells:
    return [printing.name(obj), obj.get("type") or "", len(vc.as_dict(obj.get("data"))), printing.age(obj, now)]


# ---------------------------------------------------------------------------
# the strategies


class ConfigMapStrategy(strategy.Strategy):
    group, kind = "", "ConfigMap"
    printer = printing.Printer(_CONFIGMAP_COLUMNS, _configmap_cells)

    def check(self, errs: Errors, res: resources.Resource, obj: Obj, old: Obj | None) -> None:
        data = vc.typed_str_map(errs, obj.get("data"), "data")
        binary = _base64_map(errs, obj.get("binaryData"), "binaryData")
        _keys(errs, data, "data")
        _keys(errs, dict.fromkeys(binary, ""), "binaryData")
        for key in sorted(set(data) & set(binary)):
            errs.invalid("data", key, "duplicate of key present in binaryData")
        size = sum(len(k) + len(v.encode()) for k, v in data.items()) + sum(len(k) + len(v) for k, v in binary.items())
        if size > MAX_SIZE:
            errs.too_long("", MAX_SIZE)
        _immutable(errs, obj, old, ("data", "binaryData"))


class SecretStrategy(strategy.Strategy):
    group, kind = "", "Secret"
    printer = printing.Printer(_SECRET_COLUMNS, _secret_cells)

    def defaults(self, res: resources.Resource, obj: Obj, old: Obj | None, settings: strategy.Settings) -> None:
        """Secrets: type Opaque; write-only stringData folded into data (base64), as the v1 conversion does."""
        if not obj.get("type"):
            obj["type"] = "Opaque"
        string_data = obj.get("stringData")
        # Only a map of strings is folded; anything else stays for validation to report.
        if string_data is None or (isinstance(string_data, dict) and all(isinstance(v, str) for v in
                                                                          string_data.values())):
            obj.pop("stringData", None)
            if string_data:
                data = defaults.ensure_dict(obj, "data")
                for key, value in string_data.items():
                    data[key] = base64.b64encode(value.encode()).decode()

    def check(self, errs: Errors, res: resources.Resource, obj: Obj, old: Obj | None) -> None:
        vc.typed_str(errs, obj.get("type"), "type")
        vc.typed_str_map(errs, obj.get("stringData"), "stringData")
        data = _base64_map(errs, obj.get("data"), "data")
        _keys(errs, dict.fromkeys(data, ""), "data")
        if sum(len(k) + len(v) for k, v in data.items()) > MAX_SIZE:
            errs.too_long("data", MAX_SIZE)
        _immutable(errs, obj, old, ("data",))
        if old is not None and old.get("type") != obj.get("type"):
            errs.invalid("type", obj.get("type"), vc.IMMUTABLE)
