"""Kubernetes protobuf bodies, both ways, driven by the schema.

kubectl 1.31+ typed clients (`create deployment`, `create configmap`, `autoscale`,
`describe`, `rollout status`, ...) send `application/vnd.kubernetes.protobuf` and
prefer it in answers, with no JSON fallback for request bodies. Everything else in
minik8s works on JSON dicts, so this module turns a body into exactly the dict the
same command would have sent as JSON, and a dict into the bytes a Go client
decodes as if kube-apiserver had sent them.

Message layouts come from minik8s.api.schema (field numbers from upstream
generated.proto). The wire format is read and written by hand, a few dozen lines
each way. Decoding follows Go's generated marshallers: every non-pointer field is
written even when zero ("", 0, false) and pointer fields only when set, so a zero
scalar is dropped unless its Go field is a pointer or is required (not omitempty),
which reproduces Go's JSON closely enough for defaulting and validation to behave
the same.
Embedded messages are kept even when empty (`resources: {}`). Fields a Message
does not declare are skipped, as protobuf requires; members of a dict that the
schema does not declare are not encoded.

Framing: a whole object is the magic `k8s\\0` and a runtime.Unknown envelope
{typeMeta{apiVersion, kind}, raw, contentEncoding, contentType}; a watch stream is a
sequence of frames, each a 4-byte big-endian length and a versioned WatchEvent
{type, object: RawExtension{raw: the enveloped object}} without the magic, as
Kubernetes' raw serializer writes it.
"""
from __future__ import annotations

import base64
import binascii
import datetime
import re
import struct
from collections.abc import Callable, Iterator
from typing import Any, Final

import orjson

from minik8s.api import errors
from minik8s.api import schema
from minik8s.api.schema import dsl

MEDIA_TYPE: Final = "application/vnd.kubernetes.protobuf"
WATCH_MEDIA_TYPE: Final = "application/vnd.kubernetes.protobuf;stream=watch"
MAGIC: Final = b"k8s\x00"

# ---------------------------------------------------------------------------
# Wire format
# ---------------------------------------------------------------------------

_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5
_U64 = 1 << 64


def _bad(path: str, what: str) -> errors.BadRequest:
    where = f" at {path}" if path else ""
    return errors.BadRequest(f"invalid protobuf request body{where}: {what}")


def _read_varint(buf: bytes, pos: int, path: str) -> tuple[int, int]:
    result = shift = 0
    for i in range(10):
        if pos >= len(buf):
            raise _bad(path, "truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            if i == 9 and byte > 1:
                raise _bad(path, "varint overflows 64 bits")
            return result, pos
        shift += 7
    raise _bad(path, "varint longer than 10 bytes")


def _fields(buf: bytes, path: str) -> Iterator[tuple[int, int, int | bytes]]:
    """(field number, wire type, value) for each field of one message."""
    pos, end = 0, len(buf)
    while pos < end:
        key, pos = _read_varint(buf, pos, path)
        num, wire = key >> 3, key & 7
        if num == 0:
            raise _bad(path, "field number 0")
        value: int | bytes
        if wire == _VARINT:
            value, pos = _read_varint(buf, pos, path)
        elif wire == _LEN:
            size, pos = _read_varint(buf, pos, path)
            if size > end - pos:
                raise _bad(path, f"field {num} is truncated ({size} bytes declared, {end - pos} left)")
            value = buf[pos:pos + size]
            pos += size
        elif wire in (_I64, _I32):
            size = 8 if wire == _I64 else 4
            if size > end - pos:
                raise _bad(path, f"field {num} is truncated")
            value = int.from_bytes(buf[pos:pos + size], "little")
            pos += size
        else:
            # Groups (3, 4) were never used by Kubernetes; 6 and 7 do not exist.
            raise _bad(path, f"field {num} has unsupported wire type {wire}")
        yield num, wire, value


def _signed(value: int) -> int:
    # int32/int64 negatives are sign-extended to 64 bits on the wire.
    return value - _U64 if value >= 1 << 63 else value


def _varint(n: int) -> bytes:
    if 0 <= n < 0x80:
        return bytes((n,))
    n &= _U64 - 1
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _tag(number: int, wire: int) -> bytes:
    return _varint(number << 3 | wire)


def _len_field(tag: bytes, payload: bytes) -> bytes:
    return tag + _varint(len(payload)) + payload


# ---------------------------------------------------------------------------
# Special types
# ---------------------------------------------------------------------------

_EPOCH: Final = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_TIME_RE: Final = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|([+-])(\d{2}):(\d{2}))\Z")


def _expect(wire: int, want: int, path: str) -> None:
    if wire != want:
        raise _bad(path, f"wire type {wire} where {want} was expected")


def _time(buf: bytes, path: str, micro: bool) -> str | None:
    # Go writes a zero metav1.Time as an empty message and JSON writes it as null.
    if not buf:
        return None
    seconds = nanos = 0
    for num, wire, value in _fields(buf, path):
        if num == 1:
            _expect(wire, _VARINT, path)
            seconds = _signed(int(value))
        elif num == 2:
            _expect(wire, _VARINT, path)
            nanos = _signed(int(value))
    try:
        moment = _EPOCH + datetime.timedelta(seconds=seconds)
    except OverflowError as e:
        raise _bad(path, f"time {seconds}s is out of range") from e
    # Spelled out because strftime does not zero-pad years before 1000 on glibc.
    text = (f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
            f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}")
    if not micro:
        # metav1.Time keeps whole seconds only, in both its JSON and protobuf readers.
        return text + "Z"
    if not 0 <= nanos < 1_000_000_000:
        raise _bad(path, f"nanos {nanos} is out of range")
    return f"{text}.{nanos // 1000:06d}Z"


def _time_parts(text: str) -> tuple[int, int] | None:
    """(seconds since the epoch, nanoseconds) of an RFC 3339 time, None if malformed."""
    m = _TIME_RE.match(text)
    if m is None:
        return None
    try:
        moment = datetime.datetime(int(m[1]), int(m[2]), int(m[3]), int(m[4]), int(m[5]), int(m[6]),
                                   tzinfo=datetime.UTC)
    except ValueError:
        return None
    seconds = (moment - _EPOCH) // datetime.timedelta(seconds=1)
    if m[9]:
        offset = (int(m[10]) * 60 + int(m[11])) * 60
        seconds -= offset if m[9] == "+" else -offset
    nanos = int((m[7] or "").ljust(9, "0"))
    return seconds, nanos


_DURATION_UNITS: Final = (("h", 3600 * 10**9), ("m", 60 * 10**9), ("s", 10**9), ("ms", 10**6),
                          ("us", 10**3), ("µs", 10**3), ("μs", 10**3), ("ns", 1))
_DURATION_PART: Final = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def _format_duration(ns: int) -> str:
    """Go's time.Duration.String(): 1h2m3.5s, 1.5ms, 0s."""
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    ns = abs(ns)

    def frac(value: int, unit: int) -> str:
        whole, rest = divmod(value, unit)
        if not rest:
            return str(whole)
        digits = str(rest).rjust(len(str(unit)) - 1, "0").rstrip("0")
        return f"{whole}.{digits}"

    if ns < 10**9:
        for suffix, unit in (("ms", 10**6), ("µs", 10**3), ("ns", 1)):
            if ns >= unit:
                return f"{sign}{frac(ns, unit)}{suffix}"
    hours, rest = divmod(ns, 3600 * 10**9)
    minutes, rest = divmod(rest, 60 * 10**9)
    seconds = frac(rest, 10**9)
    if hours:
        return f"{sign}{hours}h{minutes}m{seconds}s"
    if minutes:
        return f"{sign}{minutes}m{seconds}s"
    return f"{sign}{seconds}s"


def _parse_duration(text: str) -> int | None:
    """Nanoseconds of a Go duration string, None if malformed."""
    body, sign = text, 1
    if body[:1] in "+-" and body:
        sign = -1 if body[0] == "-" else 1
        body = body[1:]
    if body == "0":
        return 0
    total, pos = 0, 0
    units = dict(_DURATION_UNITS)
    while pos < len(body):
        m = _DURATION_PART.match(body, pos)
        if m is None:
            return None
        whole, _, fraction = m[1].partition(".")
        unit = units[m[2]]
        total += int(whole or "0") * unit + (int(fraction) * unit // 10 ** len(fraction) if fraction else 0)
        pos = m.end()
    return sign * total if pos else None


# ---------------------------------------------------------------------------
# Decoding
# ---------------------------------------------------------------------------


def _int_or_string(buf: bytes, path: str) -> int | str:
    kind = int_val = 0
    str_val = ""
    for num, wire, value in _fields(buf, path):
        if num == 1:
            _expect(wire, _VARINT, path)
            kind = _signed(int(value))
        elif num == 2:
            _expect(wire, _VARINT, path)
            int_val = _signed(int(value))
        elif num == 3:
            _expect(wire, _LEN, path)
            str_val = _text(value, path)
    return str_val if kind == 1 else int_val


def _quantity(buf: bytes, path: str) -> str:
    text = ""
    for num, wire, value in _fields(buf, path):
        if num == 1:
            _expect(wire, _LEN, path)
            text = _text(value, path)
    return text or "0"


def _raw_json(buf: bytes, path: str) -> Any:
    raw = b""
    for num, wire, value in _fields(buf, path):
        if num == 1:
            _expect(wire, _LEN, path)
            assert isinstance(value, bytes)
            raw = value
    if not raw:
        return None
    if raw.startswith(MAGIC):
        # An embedded object in protobuf form (a WatchEvent's object, say).
        return _decode(raw)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise _bad(path, "embedded raw value is not JSON") from e


def _duration(buf: bytes, path: str) -> str:
    ns = 0
    for num, wire, value in _fields(buf, path):
        if num == 1:
            _expect(wire, _VARINT, path)
            ns = _signed(int(value))
    return _format_duration(ns)


def _text(value: int | bytes, path: str) -> str:
    assert isinstance(value, bytes)
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError as e:
        raise _bad(path, "string is not valid UTF-8") from e


def _scalar(kind: str, wire: int, value: int | bytes, path: str) -> Any:
    if kind == dsl.STRING:
        _expect(wire, _LEN, path)
        return _text(value, path)
    if kind == dsl.INT32 or kind == dsl.INT64:
        _expect(wire, _VARINT, path)
        return _signed(int(value))
    if kind == dsl.BOOL:
        _expect(wire, _VARINT, path)
        return bool(value)
    if kind == dsl.BYTES:
        _expect(wire, _LEN, path)
        assert isinstance(value, bytes)
        return base64.b64encode(value).decode("ascii")
    if kind == dsl.DOUBLE:
        _expect(wire, _I64, path)
        return float(struct.unpack("<d", int(value).to_bytes(8, "little"))[0])
    raise AssertionError(kind)


_SPECIAL_DECODERS: Final[dict[str, Callable[[bytes, str], Any]]] = {
    dsl.TIME: lambda buf, path: _time(buf, path, micro=False),
    dsl.MICRO_TIME: lambda buf, path: _time(buf, path, micro=True),
    dsl.DURATION: _duration,
    dsl.INT_OR_STRING: _int_or_string,
    dsl.QUANTITY: _quantity,
    dsl.RAW_EXTENSION: _raw_json,
    dsl.FIELDS_V1: _raw_json,
}


def _value(f: dsl.Field, wire: int, value: int | bytes, path: str) -> Any:
    t = f.type
    if isinstance(t, str):
        decoder = _SPECIAL_DECODERS.get(t)
        if decoder is None:
            return _scalar(t, wire, value, path)
        _expect(wire, _LEN, path)
        assert isinstance(value, bytes)
        return decoder(value, path)
    _expect(wire, _LEN, path)
    assert isinstance(value, bytes)
    sub = f.message
    assert sub is not None
    return decode_message(value, sub, path)


def _map_entry(buf: bytes, f: dsl.Field, path: str) -> tuple[str, Any]:
    key = ""
    val: Any = None
    for num, wire, value in _fields(buf, path):
        if num == 1:
            _expect(wire, _LEN, path)
            key = _text(value, path)
        elif num == 2:
            val = _value(f, wire, value, f"{path}[{key}]")
    return key, _zero_json(f) if val is None else val


def _zero_json(f: dsl.Field) -> Any:
    """What Go's JSON writes for a zero value of `f`'s type (an absent map value)."""
    if f.message is not None:
        return {}
    return {dsl.STRING: "", dsl.BYTES: "", dsl.QUANTITY: "0", dsl.INT32: 0, dsl.INT64: 0, dsl.DOUBLE: 0.0,
            dsl.BOOL: False}.get(f.scalar)


_ZEROS: Final = ("", 0, False)
# Non-pointer members of these types are left out of the JSON when zero.
_ZERO_DROPPED: Final = dsl.SCALARS | {dsl.INT_OR_STRING}


def decode_message(buf: bytes, msg: dsl.Message, path: str = "") -> dict[str, Any]:
    """The JSON form of one protobuf message of type `msg`."""
    out: dict[str, Any] = {}
    by_number = msg.by_number
    for num, wire, value in _fields(buf, path):
        f = by_number.get(num)
        if f is None:
            continue
        here = f"{path}.{f.name}" if path else f.name
        if f.inline:
            _expect(wire, _LEN, path)
            sub = f.message
            assert sub is not None and isinstance(value, bytes)
            out.update(decode_message(value, sub, path))
        elif f.map:
            _expect(wire, _LEN, here)
            assert isinstance(value, bytes)
            key, val = _map_entry(value, f, here)
            out.setdefault(f.name, {})[key] = val
        elif f.repeated:
            items = out.setdefault(f.name, [])
            if wire == _LEN and f.scalar in (dsl.INT32, dsl.INT64, dsl.BOOL):
                # A packed list: accepted, though Kubernetes' proto2 messages never pack.
                assert isinstance(value, bytes)
                pos = 0
                while pos < len(value):
                    item, pos = _read_varint(value, pos, here)
                    items.append(_scalar(f.scalar, _VARINT, item, here))
            else:
                items.append(_value(f, wire, value, f"{here}[{len(items)}]"))
        else:
            decoded = _value(f, wire, value, here)
            if f.message is not None and isinstance(out.get(f.name), dict):
                # A message field seen twice merges, as protobuf specifies.
                out[f.name].update(decoded)
            elif (f.scalar in _ZERO_DROPPED and not f.pointer and not f.required and decoded in _ZEROS
                  and type(decoded) is not float):
                # Go's JSON leaves out a zero of an omitempty member, and only of those.
                out.pop(f.name, None)
            else:
                out[f.name] = decoded
    return out


def decode(body: bytes) -> dict[str, Any]:
    """The JSON form of a `k8s\\0`-prefixed protobuf body, with apiVersion and kind set.

    Raises errors.BadRequest for a malformed body and errors.UnsupportedMediaType for
    a kind or encoding minik8s cannot read; never anything else.
    """
    try:
        return _decode(bytes(body))
    except errors.StatusError:
        raise
    except Exception as e:
        # Callers turn StatusErrors into responses; anything else would be a 500 for what is
        # the client's bad body, so even an unforeseen failure is reported as a BadRequest.
        raise errors.BadRequest(f"invalid protobuf request body: {e}") from e


def _decode(body: bytes) -> dict[str, Any]:
    if not body.startswith(MAGIC):
        raise errors.BadRequest(
            "invalid protobuf request body: it does not start with the Kubernetes "
            "protobuf prefix 6b 38 73 00 (\"k8s\\x00\")")
    # runtime.Unknown: {1 typeMeta{1 apiVersion, 2 kind}, 2 raw, 3 contentEncoding, 4 contentType}
    api_version = kind = encoding = content_type = ""
    raw = b""
    for num, wire, value in _fields(body[len(MAGIC):], ""):
        if num == 1:
            _expect(wire, _LEN, "typeMeta")
            assert isinstance(value, bytes)
            for tnum, twire, tvalue in _fields(value, "typeMeta"):
                if tnum in (1, 2):
                    _expect(twire, _LEN, "typeMeta")
                    if tnum == 1:
                        api_version = _text(tvalue, "typeMeta.apiVersion")
                    else:
                        kind = _text(tvalue, "typeMeta.kind")
        elif num == 2:
            _expect(wire, _LEN, "raw")
            assert isinstance(value, bytes)
            raw = value
        elif num == 3:
            _expect(wire, _LEN, "contentEncoding")
            encoding = _text(value, "contentEncoding")
        elif num == 4:
            _expect(wire, _LEN, "contentType")
            content_type = _text(value, "contentType")
    if encoding:
        raise errors.UnsupportedMediaType(f"protobuf content encoding {encoding!r} is not supported")
    if content_type and content_type != MEDIA_TYPE:
        raise errors.UnsupportedMediaType(
            f"protobuf envelope content type {content_type!r} is not supported")
    if not api_version or not kind:
        raise errors.BadRequest("invalid protobuf request body: apiVersion and kind are required")
    msg = schema.for_api_version(api_version, kind)
    if msg is None:
        raise errors.UnsupportedMediaType(
            f"minik8s cannot decode {api_version} {kind} from protobuf; send it as application/json")
    obj: dict[str, Any] = {"kind": kind, "apiVersion": api_version}
    obj.update(decode_message(raw, msg))
    return obj


def supports(api_version: str, kind: str) -> bool:
    """Whether decode() reads, and encode() writes, protobuf bodies of this kind."""
    return schema.for_api_version(api_version, kind) is not None


# ---------------------------------------------------------------------------
# Encoding
# ---------------------------------------------------------------------------


class _Plan:
    """How one Message is written: its fields in number order with their tags."""

    __slots__ = ("fields",)

    def __init__(self, fields: list[tuple[dsl.Field, bytes]]) -> None:
        self.fields = fields


_PLANS: dict[int, _Plan] = {}
_KEEP: list[dsl.Message] = []


def _plan(msg: dsl.Message) -> _Plan:
    plan = _PLANS.get(id(msg))
    if plan is None:
        entries = [(f, _tag(f.number, _LEN if f.map else _wire_of(f)))
                   for f in sorted((f for f in msg.fields if f.number), key=lambda f: f.number)]
        plan = _Plan(entries)
        _PLANS[id(msg)] = plan
        _KEEP.append(msg)  # id() keys stay valid only while the Message lives
    return plan


def _wire_of(f: dsl.Field) -> int:
    """The wire type of one value of `f` (a map's values included)."""
    if f.scalar in (dsl.INT32, dsl.INT64, dsl.BOOL):
        return _VARINT
    if f.scalar == dsl.DOUBLE:
        return _I64
    return _LEN


def _encode_int(value: Any) -> bytes | None:
    if type(value) is bool:
        return _varint(int(value))
    if isinstance(value, int):
        return _varint(value)
    if isinstance(value, float) and value.is_integer():
        return _varint(int(value))
    if isinstance(value, str):
        try:
            return _varint(int(value))
        except ValueError:
            return None
    return None


def _encode_value(f: dsl.Field, value: Any) -> bytes | None:
    """The payload of one value of `f` (without tag); None to leave it out."""
    t = f.type
    if not isinstance(t, str):
        sub = f.message
        assert sub is not None
        return encode_message(value, sub) if isinstance(value, dict) else None
    if t == dsl.STRING:
        return (value if isinstance(value, str) else orjson.dumps(value).decode()).encode()
    if t == dsl.INT32 or t == dsl.INT64:
        return _encode_int(value)
    if t == dsl.BOOL:
        return b"\x01" if value else b"\x00"
    if t == dsl.DOUBLE:
        try:
            return struct.pack("<d", float(value))
        except (TypeError, ValueError):
            return None
    if t == dsl.BYTES:
        try:
            return base64.b64decode(str(value))
        except (binascii.Error, ValueError):
            return None
    if t == dsl.TIME or t == dsl.MICRO_TIME:
        parts = _time_parts(value) if isinstance(value, str) else None
        if parts is None:
            return None
        seconds, nanos = parts
        # metav1.Time carries whole seconds only; Go writes both members always.
        return b"\x08" + _varint(seconds) + b"\x10" + _varint(nanos if t == dsl.MICRO_TIME else 0)
    if t == dsl.INT_OR_STRING:
        if isinstance(value, str):
            return b"\x08\x01\x10\x00" + _len_field(b"\x1a", value.encode())
        number = _encode_int(value)
        return None if number is None else b"\x08\x00\x10" + number + b"\x1a\x00"
    if t == dsl.QUANTITY:
        text = value if isinstance(value, str) else orjson.dumps(value).decode()
        return _len_field(b"\x0a", text.encode())
    if t == dsl.DURATION:
        ns = _parse_duration(value) if isinstance(value, str) else None
        return None if ns is None else _tag(1, _VARINT) + _varint(ns)
    if t == dsl.RAW_EXTENSION or t == dsl.FIELDS_V1:
        return _len_field(b"\x0a", orjson.dumps(value))
    raise AssertionError(t)


_NULL_AS_EMPTY: Final = frozenset({dsl.TIME, dsl.MICRO_TIME})


def encode_message(obj: dict[str, Any], msg: dsl.Message) -> bytes:
    """The protobuf form of one JSON object of type `msg` (no envelope)."""
    out = bytearray()
    for f, tag in _plan(msg).fields:
        if f.inline:
            sub = f.message
            assert sub is not None
            out += _len_field(tag, encode_message(obj, sub))
            continue
        value = obj.get(f.name)
        if value is None:
            if f.name in obj and f.scalar in _NULL_AS_EMPTY and not f.pointer and not f.repeated and not f.map:
                out += tag + b"\x00"  # Go writes a zero metav1.Time as an empty message; JSON shows null
            continue
        if f.map:
            if not isinstance(value, dict):
                continue
            entry_value_tag = _tag(2, _wire_of(f))
            # Go writes map entries sorted by key, so the bytes are deterministic.
            for key in sorted(value):
                item = value[key]
                payload = _encode_value(f, _zero_json(f) if item is None else item)
                if payload is None:
                    continue
                if _wire_of(f) == _LEN:
                    payload = _len_field(entry_value_tag, payload)
                else:
                    payload = entry_value_tag + payload
                out += _len_field(tag, _len_field(b"\x0a", str(key).encode()) + payload)
        elif f.repeated:
            if not isinstance(value, list):
                continue
            for item in value:
                if item is None:
                    continue
                payload = _encode_value(f, item)
                if payload is not None:
                    out += (tag + payload) if tag[0] & 7 != _LEN else _len_field(tag, payload)
        else:
            payload = _encode_value(f, value)
            if payload is not None:
                out += (tag + payload) if tag[0] & 7 != _LEN else _len_field(tag, payload)
    return bytes(out)


def _envelope(api_version: str, kind: str, raw: bytes) -> bytes:
    type_meta = _len_field(b"\x0a", api_version.encode()) + _len_field(b"\x12", kind.encode())
    # Go's runtime.Unknown writes its empty contentEncoding and contentType too.
    return MAGIC + _len_field(b"\x0a", type_meta) + _len_field(b"\x12", raw) + b"\x1a\x00\x22\x00"


def encodable(obj: Any) -> bool:
    """Whether `obj` (a dict with apiVersion and kind) has a schema to be encoded with."""
    return (isinstance(obj, dict) and isinstance(obj.get("apiVersion"), str) and isinstance(obj.get("kind"), str)
            and schema.for_api_version(obj["apiVersion"], obj["kind"]) is not None)


def encode(obj: dict[str, Any]) -> bytes:
    """The `k8s\\0`-prefixed protobuf form of an object (lists and Status included),
    typed by its own apiVersion and kind; KeyError if it has no schema."""
    api_version, kind = obj["apiVersion"], obj["kind"]
    msg = schema.for_api_version(api_version, kind)
    if msg is None:
        raise KeyError(f"no protobuf schema for {api_version} {kind}")
    return _envelope(api_version, kind, encode_message(obj, msg))


def encode_watch_event(event_type: str, obj: dict[str, Any]) -> bytes:
    """One length-prefixed frame of a protobuf watch stream.

    The frame holds a WatchEvent written without the magic (Kubernetes' raw
    serializer); its object is the enveloped object, as a RawExtension's raw bytes.
    """
    event = _len_field(b"\x0a", event_type.encode()) + _len_field(b"\x12", _len_field(b"\x0a", encode(obj)))
    return len(event).to_bytes(4, "big") + event


def decode_watch_frames(data: bytes) -> list[tuple[str, dict[str, Any]]]:
    """The (type, object) events of a protobuf watch stream's bytes; for tests and clients."""
    events = []
    pos = 0
    while pos + 4 <= len(data):
        size = int.from_bytes(data[pos:pos + 4], "big")
        frame = data[pos + 4:pos + 4 + size]
        if len(frame) < size:
            raise _bad("watch", "truncated frame")
        pos += 4 + size
        event_type, obj = "", {}
        for num, _wire, value in _fields(frame, "watch"):
            if num == 1:
                event_type = _text(value, "watch.type")
            elif num == 2:
                assert isinstance(value, bytes)
                decoded = _raw_json(value, "watch.object")
                obj = decoded if isinstance(decoded, dict) else {}
        events.append((event_type, obj))
    return events
