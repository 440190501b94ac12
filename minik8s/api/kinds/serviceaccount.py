"""ServiceAccounts: the identity pods run as.

The strategy of pkg/registry/core/serviceaccount (no generation, no status),
ValidateServiceAccount (the name is a DNS subdomain; nothing else is checked) and
printServiceAccount. The token subresource (TokenRequest) is served by
minik8s/apiserver/serviceaccounts.py; ServiceAccount admission of pods by
minik8s/apiserver/serviceaccounts.py too (it needs to read the ServiceAccount).
"""
from __future__ import annotations

import datetime
from typing import Any, Mapping

from minik8s.api import printing
from minik8s.api import strategy

Obj = dict[str, Any]
View = Mapping[str, Any]

DEFAULT = "default"


COLUMNS = (
    printing.name_column(),
    printing.column("Secrets", "integer", desc="Secrets is a list of the secrets in the same namespace that pods "
                                               "running using this ServiceAccount are allowed to use."),
    printing.age_column(),
)


def _cells(obj: View, now: datetime.datetime) -> printing.Cells:
    secrets = obj.get("secrets")
    return [printing.name(obj), len(secrets) if isinstance(secrets, list) else 0, printing.age(obj, now)]


class ServiceAccountStrategy(strategy.Strategy):
    group, kind = "", "ServiceAccount"
    printer = printing.Printer(COLUMNS, _cells)
    # ValidateServiceAccount checks only ObjectMeta (generic); the schema checks the members' types.
