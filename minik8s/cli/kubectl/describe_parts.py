"""The building blocks of `describe` text: kubectl's PrefixWriter and the sections
several describers share (labels, annotations, tolerations, events, containers,
volumes, pod templates).

The layout follows k8s.io/kubectl/pkg/describe (describe.go): a PrefixWriter that
indents by two spaces per level, writing into Go's text/tabwriter (min width 0,
padding 2), flushed before the Events table so that it aligns on its own.
"""
from __future__ import annotations

import datetime
import re
from typing import Any, Mapping

from minik8s.api import errors
from minik8s.api import owners
from minik8s.api import printing
from minik8s.api import rfc3339
from minik8s.cli.kubectl import apply as kubectl_apply
from minik8s.cli.kubectl import printers

Obj = Mapping[str, Any]

_MAX_ANNOTATION_LEN = 140


# ---------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------


tabwrite = printers.tabwrite


class PrefixWriter:
    """describe.go's PrefixWriter over a tabwriter; `flush` ends an alignment block."""

    def __init__(self) -> None:
        self._done: list[str] = []
        self._pending = ""

    def write(self, level: int, text: str) -> None:
        self._pending += "  " * level + text

    def flush(self) -> None:
        if not self._pending:
            return
        complete, _, rest_ = self._pending.rpartition("\n")
        if complete or self._pending.endswith("\n"):
            self._done.append(tabwrite([line.split("\t") for line in complete.split("\n")]) + "\n")
        self._pending = rest_

    def text(self) -> str:
        self.flush()
        if self._pending:  # a last line without a newline is written as it is
            self._done.append(self._pending)
            self._pending = ""
        return "".join(self._done)


# ---------------------------------------------------------------------------
# Small formatters
# ---------------------------------------------------------------------------


def metadata(obj: Obj) -> dict[str, Any]:
    return dict(obj.get("metadata") or {})


def rfc1123z(timestamp: Any) -> str:
    """time.RFC1123Z in the local zone, as kubectl prints CreationTimestamp and Start Time."""
    parsed = rfc3339.parse(timestamp)
    if parsed is None:
        return "Mon, 01 Jan 0001 00:00:00 +0000"
    return parsed.astimezone().strftime("%a, %d %b %Y %H:%M:%S %z")


def since(timestamp: Any, now: datetime.datetime | None = None) -> str:
    return printing.human_age(timestamp, now)


def labels_multiline(w: PrefixWriter, title: str, labels: Mapping[str, Any] | None, indent: str = "") -> None:
    w.write(0, f"{indent}{title}:\t")
    keys = sorted(labels or {})
    if not keys:
        w.write(0, "<none>\n")
        return
    for i, key in enumerate(keys):
        if i:
            w.write(0, f"{indent}\t")
        w.write(0, f"{key}={(labels or {})[key]}\n")


def annotations_multiline(w: PrefixWriter, title: str, annotations: Mapping[str, Any] | None) -> None:
    w.write(0, f"{title}:\t")
    keys = sorted(k for k in (annotations or {}) if k != kubectl_apply.LAST_APPLIED)
    if not keys:
        w.write(0, "<none>\n")
        return
    for i, key in enumerate(keys):
        if i:
            w.write(0, "\t")
        value = str((annotations or {})[key]).removesuffix("\n")
        if len(value) + len(key) + 2 > _MAX_ANNOTATION_LEN or "\n" in value:
            w.write(0, f"{key}:\n")
            for part in value.split("\n"):
                short = part if len(part) <= _MAX_ANNOTATION_LEN - 2 else part[:_MAX_ANNOTATION_LEN - 2] + "..."
                w.write(0, f"\t  {short}\n")
        else:
            w.write(0, f"{key}: {value}\n")


def tolerations_multiline(w: PrefixWriter, title: str, tolerations: list[Obj] | None, indent: str = "") -> None:
    w.write(0, f"{indent}{title}:\t")
    if not tolerations:
        w.write(0, "<none>\n")
        return
    for i, t in enumerate(sorted(tolerations, key=lambda t: str(t.get("key") or ""))):
        if i:
            w.write(0, f"{indent}\t")
        text = str(t.get("key") or "")
        if t.get("value"):
            text += f"={t['value']}"
        if t.get("effect"):
            text += f":{t['effect']}"
        if t.get("operator") == "Exists" and not t.get("value"):
            text += " op=Exists" if t.get("key") or t.get("effect") else "op=Exists"
        if t.get("tolerationSeconds") is not None:
            text += f" for {t['tolerationSeconds']}s"
        w.write(0, text + "\n")


def selector_text(selector: Obj | None) -> str:
    try:
        return printing.label_selector_string(selector) or "<none>"
    except errors.StatusError:
        return "<error>"


def or_none(text: str) -> str:
    return text or "<none>"


def controller_of(obj: Obj) -> str:
    ref = owners.controller_ref(obj)
    return "" if ref is None else f"{ref.get('kind')}/{ref.get('name')}"


def object_header(w: PrefixWriter, meta: Mapping[str, Any], *, namespaced: bool = True) -> None:
    """Name, Namespace, Labels and Annotations: how kubectl begins most descriptions."""
    w.write(0, f"Name:\t{meta.get('name', '')}\n")
    if namespaced:
        w.write(0, f"Namespace:\t{meta.get('namespace', '')}\n")
    labels_multiline(w, "Labels", meta.get("labels"))
    annotations_multiline(w, "Annotations", meta.get("annotations"))


def describe_events(w: PrefixWriter, events: list[Obj] | None, now: datetime.datetime | None = None) -> None:
    if events is None:
        return
    if not events:
        w.write(0, "Events:\t<none>\n")
        return
    w.flush()

    def last_seen(e: Obj) -> str:
        return str(e.get("lastTimestamp") or e.get("eventTime") or e.get("firstTimestamp") or "")

    w.write(0, "Events:\n  Type\tReason\tAge\tFrom\tMessage\n")
    w.write(1, "----\t------\t----\t----\t-------\n")
    for e in sorted(events, key=last_seen):
        first = since(e.get("eventTime") or e.get("firstTimestamp"), now)
        series = e.get("series") or {}
        count = int(e.get("count") or 0)
        if series:
            interval = f"{since(series.get('lastObservedTime'), now)} (x{series.get('count', 0)} over {first})"
        elif count > 1:
            interval = f"{since(e.get('lastTimestamp'), now)} (x{count} over {first})"
        else:
            interval = first
        source = (e.get("source") or {}).get("component") or e.get("reportingComponent") or ""
        w.write(1, f"{e.get('type', '')}\t{e.get('reason', '')}\t{interval}\t{source}\t"
                   f"{str(e.get('message', '')).strip()}\n")


# ---------------------------------------------------------------------------
# Containers and pod templates
# ---------------------------------------------------------------------------


def int_or_string(value: Any) -> str:
    return "" if value is None else str(value)


def describe_probe(probe: Obj) -> str:
    attrs = (f"delay={probe.get('initialDelaySeconds', 0)}s timeout={probe.get('timeoutSeconds', 1)}s "
             f"period={probe.get('periodSeconds', 10)}s #success={probe.get('successThreshold', 1)} "
             f"#failure={probe.get('failureThreshold', 3)}")
    if probe.get("exec"):
        return f"exec [{' '.join(probe['exec'].get('command') or [])}] {attrs}"
    if probe.get("httpGet"):
        get = probe["httpGet"]
        port = int_or_string(get.get("port"))
        host = str(get.get("host") or "")
        hostport = (f"[{host}]:{port}" if ":" in host else f"{host}:{port}") if port else host
        return f"http-get {str(get.get('scheme') or 'HTTP').lower()}://{hostport}{get.get('path') or ''} {attrs}"
    if probe.get("tcpSocket"):
        sock = probe["tcpSocket"]
        return f"tcp-socket {sock.get('host') or ''}:{int_or_string(sock.get('port'))} {attrs}"
    if probe.get("grpc"):
        return f"grpc <pod>:{probe['grpc'].get('port')} {probe['grpc'].get('service') or ''} {attrs}"
    return f"unknown {attrs}"


def describe_state(w: PrefixWriter, title: str, state: Obj) -> None:
    if state.get("running") is not None:
        w.write(2, f"{title}:\tRunning\n")
        w.write(3, f"Started:\t{rfc1123z(state['running'].get('startedAt'))}\n")
    elif state.get("waiting") is not None:
        w.write(2, f"{title}:\tWaiting\n")
        if state["waiting"].get("reason"):
            w.write(3, f"Reason:\t{state['waiting']['reason']}\n")
    elif state.get("terminated") is not None:
        t = state["terminated"]
        w.write(2, f"{title}:\tTerminated\n")
        if t.get("reason"):
            w.write(3, f"Reason:\t{t['reason']}\n")
        if t.get("message"):
            w.write(3, f"Message:\t{t['message']}\n")
        w.write(3, f"Exit Code:\t{t.get('exitCode', 0)}\n")
        if t.get("signal"):
            w.write(3, f"Signal:\t{t['signal']}\n")
        w.write(3, f"Started:\t{rfc1123z(t.get('startedAt'))}\n")
        w.write(3, f"Finished:\t{rfc1123z(t.get('finishedAt'))}\n")
    else:
        w.write(2, f"{title}:\tWaiting\n")


def field_path(obj: Obj | None, path: str) -> str:
    value: Any = obj
    for part in re.findall(r"[^.\[\]']+", path):
        value = value.get(part) if isinstance(value, Mapping) else None
    return "" if value is None or isinstance(value, (dict, list)) else str(value)


def describe_containers(w: PrefixWriter, label: str, containers: list[Obj], statuses: list[Obj] | None,
                        pod: Obj | None, space: str = "") -> None:
    by_name = {s.get("name"): s for s in statuses or []}
    w.write(0, f"{space}{label}:{'' if containers else ' <none>'}\n")
    indent = " " if space else ""
    for c in containers:
        status = by_name.get(c.get("name"))
        w.write(1, f"{indent}{c.get('name')}:\n")
        if status is not None:
            w.write(2, f"Container ID:\t{status.get('containerID', '')}\n")
        w.write(2, f"Image:\t{c.get('image', '')}\n")
        if status is not None:
            w.write(2, f"Image ID:\t{status.get('imageID', '')}\n")
        ports = c.get("ports") or []
        port_text = ", ".join(f"{p.get('containerPort')}/{p.get('protocol', 'TCP')}" for p in ports)
        host_text = ", ".join(f"{p.get('hostPort', 0)}/{p.get('protocol', 'TCP')}" for p in ports)
        w.write(2, f"{'Ports' if ',' in port_text else 'Port'}:\t{or_none(port_text)}\n")
        w.write(2, f"{'Host Ports' if ',' in host_text else 'Host Port'}:\t{or_none(host_text)}\n")
        for title, key in (("Command", "command"), ("Args", "args")):
            if c.get(key):
                w.write(2, f"{title}:\n")
                for item in c[key]:
                    for part in str(item).split("\n"):
                        w.write(3, f"{part}\n")
        if status is not None:
            describe_state(w, "State", status.get("state") or {})
            if (status.get("lastState") or {}).get("terminated"):
                describe_state(w, "Last State", status["lastState"])
            w.write(2, f"Ready:\t{'True' if status.get('ready') else 'False'}\n")
            w.write(2, f"Restart Count:\t{status.get('restartCount', 0)}\n")
        res_ = c.get("resources") or {}
        for title in ("limits", "requests"):
            amounts = res_.get(title) or {}
            if amounts:
                w.write(2, f"{title.capitalize()}:\n")
            for name in sorted(amounts):
                w.write(3, f"{name}:\t{amounts[name]}\n")
        for title, key in (("Liveness", "livenessProbe"), ("Readiness", "readinessProbe"),
                           ("Startup", "startupProbe")):
            if c.get(key):
                w.write(2, f"{title}:\t{describe_probe(c[key])}\n")
        env = c.get("env") or []
        w.write(2, f"Environment:{'' if env else chr(9) + '<none>'}\n")
        for e in env:
            source = e.get("valueFrom")
            if source is None:
                for i, part in enumerate(str(e.get("value", "")).split("\n")):
                    w.write(3, f"{e.get('name')}:\t{part}\n" if i == 0 else f"\t{part}\n")
            elif source.get("fieldRef"):
                ref = source["fieldRef"]
                w.write(3, f"{e.get('name')}:\t{field_path(pod, ref.get('fieldPath', '')) if pod else ''} "
                           f"({ref.get('apiVersion', 'v1')}:{ref.get('fieldPath', '')})\n")
            elif source.get("resourceFieldRef"):
                w.write(3, f"{e.get('name')}:\t ({source['resourceFieldRef'].get('resource', '')})\n")
            elif source.get("secretKeyRef"):
                ref = source["secretKeyRef"]
                w.write(3, f"{e.get('name')}:\t<set to the key '{ref.get('key')}' in secret '{ref.get('name')}'>\t"
                           f"Optional: {'true' if ref.get('optional') else 'false'}\n")
            elif source.get("configMapKeyRef"):
                ref = source["configMapKeyRef"]
                w.write(3, f"{e.get('name')}:\t<set to the key '{ref.get('key')}' of config map "
                           f"'{ref.get('name')}'>\tOptional: {'true' if ref.get('optional') else 'false'}\n")
        mounts = sorted(c.get("volumeMounts") or [], key=lambda m: str(m.get("mountPath", "")))
        w.write(2, f"Mounts:{'' if mounts else chr(9) + '<none>'}\n")
        for m in mounts:
            flags = ["ro" if m.get("readOnly") else "rw"]
            if m.get("subPath"):
                flags.append(f'path="{m["subPath"]}"')
            w.write(3, f"{m.get('mountPath')} from {m.get('name')} ({','.join(flags)})\n")


_VOLUME_TYPES = {
    "emptyDir": ("EmptyDir (a temporary directory that shares a pod's lifetime)",
                 (("Medium", "medium", ""), ("SizeLimit", "sizeLimit", "<unset>"))),
    "hostPath": ("HostPath (bare host directory volume)", (("Path", "path", ""), ("HostPathType", "type", "<none>"))),
    "configMap": ("ConfigMap (a volume populated by a ConfigMap)",
                  (("Name", "name", ""), ("Optional", "optional", "false"))),
    "secret": ("Secret (a volume populated by a Secret)",
               (("SecretName", "secretName", ""), ("Optional", "optional", "false"))),
    "persistentVolumeClaim": ("PersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)",
                              (("ClaimName", "claimName", ""), ("ReadOnly", "readOnly", "false"))),
}


def _optional(value: object) -> str:
    """A *bool as Go's %v prints it."""
    return "<nil>" if value is None else str(value).lower()


def _describe_projected(w: PrefixWriter, source: Obj) -> None:
    """printProjectedVolumeSource (e.g. the kube-api-access-* token volume)."""
    w.write(2, "Type:\tProjected (a volume that contains injected data from multiple sources)\n")
    for part in source.get("sources") or []:
        if part.get("secret") is not None:
            ref = part["secret"]
            w.write(2, f"SecretName:\t{ref.get('name') or ''}\n    SecretOptionalName:\t{_optional(ref.get('optional'))}\n")
        elif part.get("downwardAPI") is not None:
            w.write(2, "DownwardAPI:\ttrue\n")
        elif part.get("configMap") is not None:
            ref = part["configMap"]
            w.write(2, f"ConfigMapName:\t{ref.get('name') or ''}\n    ConfigMapOptional:\t{_optional(ref.get('optional'))}\n")
        elif part.get("serviceAccountToken") is not None:
            w.write(2, f"TokenExpirationSeconds:\t{part['serviceAccountToken'].get('expirationSeconds', 3600)}\n")


def describe_volumes(w: PrefixWriter, volumes: list[Obj] | None, space: str = "") -> None:
    if not volumes:
        w.write(0, f"{space}Volumes:\t<none>\n")
        return
    w.write(0, f"{space}Volumes:\n")
    for v in volumes:
        w.write(1, f"{' ' if space else ''}{v.get('name')}:\n")
        if isinstance(v.get("projected"), dict):
            _describe_projected(w, v["projected"])
            continue
        for key, (title, fields) in _VOLUME_TYPES.items():
            if key in v:
                w.write(2, f"Type:\t{title}\n")
                for label, field, default in fields:
                    value = (v[key] or {}).get(field)
                    text = default if value is None else str(value).lower() if isinstance(value, bool) \
                        else str(value)
                    w.write(2, f"{label}:\t{text}\n")
                break
        else:
            w.write(2, "<unknown>\n")


def describe_pod_template(w: PrefixWriter, template: Obj | None) -> None:
    w.write(0, "Pod Template:\n")
    if template is None:
        w.write(1, "<unset>")
        return
    meta = metadata(template)
    spec = template.get("spec") or {}
    labels_multiline(w, "Labels", meta.get("labels"), indent="  ")
    if meta.get("annotations"):
        annotations_multiline(w, "  Annotations", meta.get("annotations"))
    if spec.get("serviceAccountName"):
        w.write(1, f"Service Account:\t{spec['serviceAccountName']}\n")
    if spec.get("initContainers"):
        describe_containers(w, "Init Containers", spec["initContainers"], None, None, "  ")
    describe_containers(w, "Containers", spec.get("containers") or [], None, None, "  ")
    describe_volumes(w, spec.get("volumes"), "  ")
    if spec.get("priorityClassName"):
        w.write(1, f"Priority Class Name:\t{spec['priorityClassName']}\n")
    labels_multiline(w, "Node-Selectors", spec.get("nodeSelector"), indent="  ")
    tolerations_multiline(w, "Tolerations", spec.get("tolerations"), indent="  ")
