"""Kubernetes Status errors.

One exception type carries everything a `kind: Status` body needs; the API
server turns it into a response, the client turns responses back into it, so
both sides share the same reasons and codes.
"""
from __future__ import annotations

from typing import Any


class StatusError(Exception):
    """An API error that renders as a Kubernetes `Status` (status: Failure)."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        *,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details or {}

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            body["details"] = self.details
        return body

    @classmethod
    def from_status(cls, body: dict[str, Any], code: int | None = None) -> "StatusError":
        err_cls = _BY_REASON.get(body.get("reason", ""), StatusError)
        err = StatusError.__new__(err_cls)
        StatusError.__init__(
            err,
            int(body.get("code") or code or 500),
            body.get("reason", "") or "",
            body.get("message", "") or "",
            details=body.get("details"),
        )
        return err

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code}, {self.reason!r}, {self.message!r})"


class NotFound(StatusError):
    def __init__(self, resource: str, name: str) -> None:
        super().__init__(404, "NotFound", f'{resource} "{name}" not found',
                         details={"name": name, "kind": resource})


class AlreadyExists(StatusError):
    def __init__(self, resource: str, name: str) -> None:
        super().__init__(409, "AlreadyExists", f'{resource} "{name}" already exists',
                         details={"name": name, "kind": resource})


class Conflict(StatusError):
    def __init__(self, resource: str, name: str, why: str = "the object has been modified; "
                 "please apply your changes to the latest version and try again") -> None:
        super().__init__(409, "Conflict", f'Operation cannot be fulfilled on {resource} "{name}": {why}',
                         details={"name": name, "kind": resource})


class Invalid(StatusError):
    """422 with one cause per field, as Kubernetes' field.ErrorList renders."""

    def __init__(self, kind: str, name: str, causes: list[dict[str, str]], group: str = "") -> None:
        msgs = "; ".join(f"{c['field']}: {c['message']}" if c.get("field") else c["message"] for c in causes)
        if len(causes) > 1:
            msgs = "[" + ", ".join(f"{c['field']}: {c['message']}" if c.get("field") else c["message"]
                                   for c in causes) + "]"
        super().__init__(422, "Invalid", f'{kind}{"." + group if group else ""} "{name}" is invalid: {msgs}',
                         details={"name": name, "group": group, "kind": kind, "causes": causes})
        self.causes = causes


class BadRequest(StatusError):
    def __init__(self, message: str) -> None:
        super().__init__(400, "BadRequest", message)


class MethodNotAllowed(StatusError):
    def __init__(self, message: str) -> None:
        super().__init__(405, "MethodNotAllowed", message)


class Forbidden(StatusError):
    def __init__(self, message: str) -> None:
        super().__init__(403, "Forbidden", message)


class Unauthorized(StatusError):
    def __init__(self, message: str = "Unauthorized") -> None:
        super().__init__(401, "Unauthorized", message)


class Gone(StatusError):
    def __init__(self, message: str) -> None:
        super().__init__(410, "Expired", message)


class RequestEntityTooLarge(StatusError):
    def __init__(self, message: str) -> None:
        super().__init__(413, "RequestEntityTooLarge", message)


class UnsupportedMediaType(StatusError):
    def __init__(self, message: str) -> None:
        super().__init__(415, "UnsupportedMediaType", message)


class ServiceUnavailable(StatusError):
    """503. With `retry_after` (seconds) the server promises the request was not carried out,
    so it may be sent again, to this server or another (`details.retryAfterSeconds`, which
    the API server also sends as a Retry-After header, as kube-apiserver does)."""

    def __init__(self, message: str, retry_after: int = 0) -> None:
        super().__init__(503, "ServiceUnavailable", message,
                         details={"retryAfterSeconds": retry_after} if retry_after > 0 else None)


class Timeout(StatusError):
    def __init__(self, message: str) -> None:
        super().__init__(504, "Timeout", message)


class InternalError(StatusError):
    def __init__(self, message: str) -> None:
        super().__init__(500, "InternalError", f"Internal error occurred: {message}")


_BY_REASON: dict[str, type[StatusError]] = {
    "NotFound": NotFound,
    "AlreadyExists": AlreadyExists,
    "Conflict": Conflict,
    "Invalid": Invalid,
    "BadRequest": BadRequest,
    "MethodNotAllowed": MethodNotAllowed,
    "Forbidden": Forbidden,
    "Unauthorized": Unauthorized,
    "Expired": Gone,
    "Gone": Gone,
    "RequestEntityTooLarge": RequestEntityTooLarge,
    "UnsupportedMediaType": UnsupportedMediaType,
    "ServiceUnavailable": ServiceUnavailable,
    "Timeout": Timeout,
    "InternalError": InternalError,
}


def field_error(field: str, message: str, reason: str = "FieldValueInvalid") -> dict[str, str]:
    """One `details.causes` entry."""
    return {"reason": reason, "message": message, "field": field}
