"""The schema language: a Message per API type, a Field per member.

One declaration per type is the single source from which minik8s derives the
protobuf codec (field numbers, Go pointer-ness), the OpenAPI v2/v3 documents
(names, descriptions, formats, required, enums, list/map semantics), the typed
structural check of every write, and the strategic-merge-patch directives. The
records are frozen: the same objects are shared by every derived view, and the
views cache what they compile per Message (identity-hashed, hence `eq=False`).

A Field's type is one of the scalar or special type names below, a Message, or
a zero-argument callable returning a Message (for self-referencing types such
as gnostic's Schema, which a frozen tuple cannot otherwise express).
"""
from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Final, Union

# Scalars: JSON type and protobuf scalar of the same name (double is Go's float64).
STRING: Final = "string"
INT32: Final = "int32"
INT64: Final = "int64"
BOOL: Final = "bool"
DOUBLE: Final = "double"
BYTES: Final = "bytes"  # base64 in JSON, raw bytes in protobuf

# Kubernetes' special types, each with its own JSON and protobuf forms.
TIME: Final = "Time"  # RFC 3339 string, seconds precision; proto {seconds, nanos}
MICRO_TIME: Final = "MicroTime"  # RFC 3339 with microseconds
DURATION: Final = "Duration"  # Go duration string ("1h2m3s"); proto {int64 nanoseconds}
INT_OR_STRING: Final = "IntOrString"  # 80 or "http"; proto {type, intVal, strVal}
QUANTITY: Final = "Quantity"  # "100m", "1Gi" (a JSON number is accepted); proto {string}
RAW_EXTENSION: Final = "RawExtension"  # any JSON; proto {bytes raw} holding JSON
FIELDS_V1: Final = "FieldsV1"  # managedFields' field set, a JSON object; proto {bytes raw}

SCALARS: Final = frozenset({STRING, INT32, INT64, BOOL, DOUBLE, BYTES})
SPECIALS: Final = frozenset({TIME, MICRO_TIME, DURATION, INT_OR_STRING, QUANTITY, RAW_EXTENSION, FIELDS_V1})

# Values of Field.patch_strategy (Go's `patchStrategy` tag), combinable with a comma.
MERGE: Final = "merge"
REPLACE: Final = "replace"
RETAIN_KEYS: Final = "retainKeys"

Type = Union[str, "Message", Callable[[], "Message"]]


@dataclasses.dataclass(frozen=True)
class GVK:
    group: str  # "" for the core group
    version: str
    kind: str

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


@dataclasses.dataclass(frozen=True, eq=False)
class Field:
    """One member of a Message.

    `name` is the JSON name ("" for an inline field, whose Message's fields sit in
    the parent's JSON, as Go's embedded structs). `number` is the protobuf field
    number, 0 for JSON-only members (apiVersion/kind, carried by the protobuf
    envelope instead). `repeated` makes a JSON array; `map` a JSON object with
    string keys whose values are of `type`. `pointer` records that the Go field
    is a pointer: only then is a zero scalar meaningful on the protobuf wire.
    """

    name: str
    number: int
    type: Type
    description: str = ""
    repeated: bool = False
    map: bool = False
    pointer: bool = False
    inline: bool = False
    required: bool = False
    enum: tuple[str, ...] = ()
    patch_strategy: str = ""
    merge_key: str = ""
    list_type: str = ""  # x-kubernetes-list-type: atomic, set or map
    list_map_keys: tuple[str, ...] = ()
    map_type: str = ""  # x-kubernetes-map-type: atomic or granular
    # Go's `+default=` marker: the OpenAPI default. Server-side apply fills it into
    # list-map keys an element omits (a container port's protocol is "TCP").
    default: str | int | bool | None = None

    @property
    def message(self) -> Message | None:
        """The Message of a message-typed field (resolving a deferred reference)."""
        t = self.type
        if isinstance(t, Message):
            return t
        if callable(t):
            return t()
        return None

    @property
    def scalar(self) -> str:
        """The scalar or special type name, "" for message-typed fields."""
        return self.type if isinstance(self.type, str) else ""


@dataclasses.dataclass(frozen=True, eq=False)
class Message:
    """A struct type of the API, named as in Kubernetes' OpenAPI definitions.

    `kinds` lists the (group, version, kind)s a top-level type is served as
    (x-kubernetes-group-version-kind); `map_type` is "atomic" for structs
    Kubernetes marks `+structType=atomic`.
    """

    name: str  # e.g. io.k8s.api.apps.v1.DeploymentSpec
    description: str
    fields: tuple[Field, ...]
    kinds: tuple[GVK, ...] = ()
    map_type: str = ""

    @property
    def short_name(self) -> str:
        """The Go type name: DeploymentSpec."""
        return self.name.rsplit(".", 1)[-1]

    @property
    def go_package(self) -> str:
        """The Go package's name as Go prints it in type names: v1, intstr."""
        return self.name.rsplit(".", 2)[-2]

    @functools.cached_property
    def json_fields(self) -> dict[str, Field]:
        """Every JSON member by name, inline fields' members flattened into this one."""
        out: dict[str, Field] = {}
        for f in self.fields:
            if f.inline:
                sub = f.message
                assert sub is not None, f"{self.name}: inline field of a non-message type"
                out.update(sub.json_fields)
            else:
                out[f.name] = f
        return out

    @functools.cached_property
    def by_number(self) -> dict[int, Field]:
        return {f.number: f for f in self.fields if f.number}

    def field(self, name: str) -> Field:
        """The JSON member `name`; KeyError if there is none."""
        return self.json_fields[name]


def type_meta(api_version_doc: str = "", kind_doc: str = "") -> tuple[Field, Field]:
    """apiVersion and kind, the members every kind (and a few option types) carry.

    JSON only: the protobuf envelope carries them instead, hence field number 0.
    """
    return (
        Field("apiVersion", 0, STRING, api_version_doc or
              "The versioned schema of this object, as group/version (v1 for the core group)."),
        Field("kind", 0, STRING, kind_doc or "The type of this object, in CamelCase."),
    )


def kind(name: str, description: str, gvk: GVK, fields: tuple[Field, ...]) -> Message:
    """A top-level kind: its fields after the apiVersion and kind every kind carries."""
    return Message(name, description, type_meta() + fields, kinds=(gvk,))
