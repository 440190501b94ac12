"""ConfigMaps and Secrets: configuration objects, no spec and no status.

Their strategies (pkg/registry/core/configmap, core/secret: no generation),
the Secret defaults (type Opaque; stringData folded into data, as the v1
conversion does), validation (ValidateConfigMap, ValidateSecret and their
updates: keys, the 1 MiB size limit, `immutable`, the built-in Secret types
and the keys each one requires) and printConfigMap/printSecret.

`data` of a Secret and `binaryData` of a ConfigMap are `[]byte` in Go and
base64 in JSON: a value that is not base64 fails to decode, which the real
API server answers with 400 before validation runs; so does this one.
"""
from __future__ import annotations

import base64
import binascii
import datetime
import json
from typing import Any, Mapping

from minik8s.api import defaults
from minik8s.api import errors
from minik8s.api import printing
from minik8s.api import resources
from minik8s.api import strategy
from minik8s.api import validation as vc

Obj = dict[str, Any]
View = Mapping[str, Any]
Cells = printing.Cells
Errors = vc.Errors

MAX_SIZE = 1024 * 1024  # core.MaxSecretSize, also the ConfigMap limit

# Secret types with rules of their own (core/types.go).
SERVICE_ACCOUNT_TOKEN = "kubernetes.io/service-account-token"
DOCKERCFG = "kubernetes.io/dockercfg"
DOCKER_CONFIG_JSON = "kubernetes.io/dockerconfigjson"
BASIC_AUTH = "kubernetes.io/basic-auth"
SSH_AUTH = "kubernetes.io/ssh-auth"
TLS = "kubernetes.io/tls"
BOOTSTRAP_TOKEN = "bootstrap.kubernetes.io/token"
SERVICE_ACCOUNT_NAME_ANNOTATION = "kubernetes.io/service-account.name"


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
# validation


def decode_bytes(value: Any, path: str) -> bytes:
    """A `[]byte` field's JSON value: base64, as Go's encoding/json decodes it."""
    if value is None:
        return b""
    if not isinstance(value, str):
        raise errors.BadRequest(f"{path}: json: cannot unmarshal {type(value).__name__} into Go value of type []uint8")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as e:
        raise errors.BadRequest(f"{path}: illegal base64 data: {e}") from None


def _keys(errs: Errors, values: Any, path: str) -> None:
    for key in sorted(vc.as_dict(values)):
        errs.invalid_each(f"{path}[{key}]", key, vc.config_map_key(key))


def _immutable_update(errs: Errors, obj: Obj, old: Obj, fields: tuple[str, ...]) -> None:
    """Once `immutable: true` is stored, neither it nor the data may change."""
    if old.get("immutable") is not True:
        return
    if obj.get("immutable") is not True:
        errs.forbidden("immutable", "field is immutable when `immutable` is set")
    for field in fields:
        if not vc.json_equal(obj.get(field) or {}, old.get(field) or {}):
            errs.forbidden(field, "field is immutable when `immutable` is set")


def _validate_config_map(errs: Errors, obj: Obj) -> None:
    data, binary = vc.as_dict(obj.get("data")), vc.as_dict(obj.get("binaryData"))
    total = 0
    for key in sorted(data):
        errs.invalid_each(f"data[{key}]", key, vc.config_map_key(key))
        if key in binary:
            errs.invalid(f"data[{key}]", key, "duplicate of key present in binaryData")
        if not isinstance(data[key], str):
            raise errors.BadRequest(f"ConfigMap.data[{key}]: json: cannot unmarshal into Go value of type string")
        total += len(data[key].encode())
    for key in sorted(binary):
        errs.invalid_each(f"binaryData[{key}]", key, vc.config_map_key(key))
        total += len(decode_bytes(binary[key], f"ConfigMap.binaryData[{key}]"))
    if total > MAX_SIZE:
        errs.too_long("", MAX_SIZE)


def _required_key(errs: Errors, data: Obj, key: str) -> None:
    if key not in data:
        errs.required(f"data[{key}]")


def _validate_secret(errs: Errors, obj: Obj) -> None:
    data = vc.as_dict(obj.get("data"))
    total = 0
    decoded: dict[str, bytes] = {}
    for key in sorted(data):
        errs.invalid_each(f"data[{key}]", key, vc.config_map_key(key))
        decoded[key] = decode_bytes(data[key], f"Secret.data[{key}]")
        total += len(decoded[key])
    if total > MAX_SIZE:
        errs.too_long("data", MAX_SIZE)
    kind = vc.as_str(obj.get("type"))
    annotations = vc.as_dict(vc.as_dict(obj.get("metadata")).get("annotations"))
    if kind == SERVICE_ACCOUNT_TOKEN:
        if not annotations.get(SERVICE_ACCOUNT_NAME_ANNOTATION):
            errs.required(f"metadata.annotations[{SERVICE_ACCOUNT_NAME_ANNOTATION}]")
    elif kind in (DOCKERCFG, DOCKER_CONFIG_JSON):
        key = ".dockercfg" if kind == DOCKERCFG else ".dockerconfigjson"
        if key not in data:
            errs.required(f"data[{key}]")
        else:
            try:
                json.loads(decoded[key] or b"null")
            except ValueError as e:
                errs.invalid(f"data[{key}]", "<secret contents redacted>", str(e))
    elif kind == BASIC_AUTH:
        if "username" not in data and "password" not in data:
            errs.required("data[username]")
            errs.required("data[password]")
    elif kind == SSH_AUTH:
        _required_key(errs, data, "ssh-privatekey")
    elif kind == TLS:
        _required_key(errs, data, "tls.key")
        _required_key(errs, data, "tls.crt")


# ---------------------------------------------------------------------------
# the strategies


class ConfigMapStrategy(strategy.Strategy):
    group, kind = "", "ConfigMap"
    printer = printing.Printer(_CONFIGMAP_COLUMNS, _configmap_cells)

    def check(self, errs: Errors, res: resources.Resource, obj: Obj, old: Obj | None) -> None:
        _validate_config_map(errs, obj)
        if old is not None:
            _immutable_update(errs, obj, old, ("data", "binaryData"))


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

    def check(self, errs: Errors, res: resources.Resource, obj: Obj, old: Obj | None) -> None:
        _validate_secret(errs, obj)
        if old is not None:
            vc.immutable(errs, "type", vc.as_str(obj.get("type")), vc.as_str(old.get("type")))
            _immutable_update(errs, obj, old, ("data",))
