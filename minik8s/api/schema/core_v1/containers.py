"""core/v1: Container and what it is made of: ports, env, resources, probes, security.

Field numbers are those of k8s.io/api/core/v1/generated.proto; descriptions are
minik8s's own.
"""
from __future__ import annotations

from minik8s.api.schema import dsl
from minik8s.api.schema.core_v1 import common

RESOURCE_CLAIM = dsl.Message(
    "io.k8s.api.core.v1.ResourceClaim",
    "A resource claim of the pod that a container uses.",
    (
        dsl.Field("name", 1, dsl.STRING, "The name of an entry of the pod's spec.resourceClaims.", required=True),
        dsl.Field("request", 2, dsl.STRING, "One request of that claim to use; empty uses all of it."),
    ),
)


RESOURCE_REQUIREMENTS = dsl.Message(
    "io.k8s.api.core.v1.ResourceRequirements",
    "The compute resources a container (or pod) asks for and is limited to.",
    (
        dsl.Field("limits", 1, dsl.QUANTITY, "The most of each resource it may use, such as cpu: 500m or memory: "
                  "128Mi.", map=True),
        dsl.Field("requests", 2, dsl.QUANTITY, "The least of each resource it needs; the scheduler places pods by "
                  "requests. Defaults to limits where those are set.", map=True),
        dsl.Field("claims", 3, RESOURCE_CLAIM, "Which of the pod's resource claims the container uses (dynamic "
                  "resource allocation).", repeated=True, list_type="map", list_map_keys=("name",)),
    ),
)


APP_ARMOR_PROFILE = dsl.Message(
    "io.k8s.api.core.v1.AppArmorProfile",
    "The AppArmor profile to confine processes with.",
    (
        dsl.Field("type", 1, dsl.STRING, "Localhost (a profile loaded on the node), RuntimeDefault (the runtime's "
                  "default) or Unconfined.", required=True, enum=("Unconfined", "RuntimeDefault", "Localhost")),
        dsl.Field("localhostProfile", 2, dsl.STRING, "With type Localhost: the name of the profile loaded on the "
                  "node.", pointer=True),
    ),
)


SECCOMP_PROFILE = dsl.Message(
    "io.k8s.api.core.v1.SeccompProfile",
    "The seccomp profile to filter system calls with.",
    (
        dsl.Field("type", 1, dsl.STRING, "Localhost (a profile file on the node), RuntimeDefault (the runtime's "
                  "default) or Unconfined.", required=True, enum=("Unconfined", "RuntimeDefault", "Localhost")),
        dsl.Field("localhostProfile", 2, dsl.STRING, "With type Localhost: the profile's path, relative to the "
                  "kubelet's seccomp directory.", pointer=True),
    ),
)


WINDOWS_SECURITY_CONTEXT_OPTIONS = dsl.Message(
    "io.k8s.api.core.v1.WindowsSecurityContextOptions",
    "Windows-only security settings.",
    (
        dsl.Field("gmsaCredentialSpecName", 1, dsl.STRING, "The name of the GMSA credential spec to use.",
                  pointer=True),
        dsl.Field("gmsaCredentialSpec", 2, dsl.STRING, "The GMSA credential spec's contents, filled in by the GMSA "
                  "admission webhook.", pointer=True),
        dsl.Field("runAsUserName", 3, dsl.STRING, "The Windows user name to run the entrypoint as. Defaults to the "
                  "image's user.", pointer=True),
        dsl.Field("hostProcess", 4, dsl.BOOL, "Run as a Windows host process container; all containers of the pod "
                  "must agree, and hostNetwork must be true.", pointer=True),
    ),
)


SE_LINUX_OPTIONS = dsl.Message(
    "io.k8s.api.core.v1.SELinuxOptions",
    "SELinux labels to apply.",
    (
        dsl.Field("user", 1, dsl.STRING, "The SELinux user label."),
        dsl.Field("role", 2, dsl.STRING, "The SELinux role label."),
        dsl.Field("type", 3, dsl.STRING, "The SELinux type label."),
        dsl.Field("level", 4, dsl.STRING, "The SELinux level label."),
    ),
)


CONTAINER_PORT = dsl.Message(
    "io.k8s.api.core.v1.ContainerPort",
    "A port a container listens on.",
    (
        dsl.Field("name", 1, dsl.STRING, "A name for the port (an IANA service name, unique in the pod) that "
                  "services can refer to."),
        dsl.Field("hostPort", 2, dsl.INT32, "A port of the node to forward to this port; rarely needed. With "
                  "hostNetwork it must equal containerPort."),
        dsl.Field("containerPort", 3, dsl.INT32, "The port number on the pod's IP (1 to 65535).", required=True),
        dsl.Field("protocol", 4, dsl.STRING, "TCP (the default), UDP or SCTP.", enum=("TCP", "UDP", "SCTP"),
                  default="TCP"),
        dsl.Field("hostIP", 5, dsl.STRING, "The node address to bind hostPort on."),
    ),
)


CONFIG_MAP_ENV_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.ConfigMapEnvSource",
    "A ConfigMap whose keys all become environment variables.",
    (
        dsl.Field("", 1, common.LOCAL_OBJECT_REFERENCE, "", inline=True),
        dsl.Field("optional", 2, dsl.BOOL, "When true, a missing ConfigMap is not an error.", pointer=True),
    ),
)


SECRET_ENV_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.SecretEnvSource",
    "A Secret whose keys all become environment variables.",
    (
        dsl.Field("", 1, common.LOCAL_OBJECT_REFERENCE, "", inline=True),
        dsl.Field("optional", 2, dsl.BOOL, "When true, a missing Secret is not an error.", pointer=True),
    ),
)


ENV_FROM_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.EnvFromSource",
    "A ConfigMap or Secret whose keys all become environment variables.",
    (
        dsl.Field("prefix", 1, dsl.STRING, "A prefix added to every variable name."),
        dsl.Field("configMapRef", 2, CONFIG_MAP_ENV_SOURCE, "The ConfigMap to read.", pointer=True),
        dsl.Field("secretRef", 3, SECRET_ENV_SOURCE, "The Secret to read.", pointer=True),
    ),
)


ENV_VAR_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.EnvVarSource",
    "Where an environment variable's value comes from; set exactly one field.",
    (
        dsl.Field("fieldRef", 1, common.OBJECT_FIELD_SELECTOR, "A field of the pod: metadata.name, "
                  "metadata.namespace, metadata.uid, metadata.labels['k'], metadata.annotations['k'], spec.nodeName, "
                  "spec.serviceAccountName, status.hostIP(s), status.podIP(s).", pointer=True),
        dsl.Field("resourceFieldRef", 2, common.RESOURCE_FIELD_SELECTOR, "A resource limit or request of the "
                  "container, such as limits.memory.", pointer=True),
        dsl.Field("configMapKeyRef", 3, common.CONFIG_MAP_KEY_SELECTOR, "A key of a ConfigMap.", pointer=True),
        dsl.Field("secretKeyRef", 4, common.SECRET_KEY_SELECTOR, "A key of a Secret.", pointer=True),
        dsl.Field("fileKeyRef", 5, common.FILE_KEY_SELECTOR, "A variable from an env file in a volume (alpha).",
                  pointer=True),
    ),
)


ENV_VAR = dsl.Message(
    "io.k8s.api.core.v1.EnvVar",
    "An environment variable of a container.",
    (
        dsl.Field("name", 1, dsl.STRING, "The variable's name.", required=True),
        dsl.Field("value", 2, dsl.STRING, "The variable's value; $(VAR) references to earlier variables are "
                  "expanded, $$(VAR) escapes them. Defaults to \"\"."),
        dsl.Field("valueFrom", 3, ENV_VAR_SOURCE, "Where to read the value from, instead of value.", pointer=True),
    ),
)


CONTAINER_RESIZE_POLICY = dsl.Message(
    "io.k8s.api.core.v1.ContainerResizePolicy",
    "What happens to a container when one of its resources is resized in place.",
    (
        dsl.Field("resourceName", 1, dsl.STRING, "The resource: cpu or memory.", required=True),
        dsl.Field("restartPolicy", 2, dsl.STRING, "NotRequired (resize while running, the default) or "
                  "RestartContainer.", required=True),
    ),
)


CONTAINER_RESTART_RULE_ON_EXIT_CODES = dsl.Message(
    "io.k8s.api.core.v1.ContainerRestartRuleOnExitCodes",
    "Exit codes a container restart rule matches.",
    (
        dsl.Field("operator", 1, dsl.STRING, "In (the exit code is one of values) or NotIn (it is none of them)."),
        dsl.Field("values", 2, dsl.INT32, "The exit codes, at most 255.", repeated=True, list_type="set"),
    ),
)


CONTAINER_RESTART_RULE = dsl.Message(
    "io.k8s.api.core.v1.ContainerRestartRule",
    "A rule on how to handle a container's exit.",
    (
        dsl.Field("action", 1, dsl.STRING, "What to do when the rule matches; only Restart."),
        dsl.Field("exitCodes", 2, CONTAINER_RESTART_RULE_ON_EXIT_CODES, "The exit codes the rule matches.",
                  pointer=True),
    ),
)


VOLUME_MOUNT = dsl.Message(
    "io.k8s.api.core.v1.VolumeMount",
    "Where a volume appears in a container.",
    (
        dsl.Field("name", 1, dsl.STRING, "The name of one of the pod's volumes.", required=True),
        dsl.Field("readOnly", 2, dsl.BOOL, "Mount read-only. Defaults to false."),
        dsl.Field("recursiveReadOnly", 7, dsl.STRING, "With readOnly: Disabled (the default), IfPossible or Enabled, "
                  "to make sub-mounts read-only too.", pointer=True),
        dsl.Field("mountPath", 3, dsl.STRING, "The path in the container to mount at; may not contain ':'.",
                  required=True),
        dsl.Field("subPath", 4, dsl.STRING, "A path inside the volume to mount instead of its root. Defaults to "
                  "\"\"."),
        dsl.Field("mountPropagation", 5, dsl.STRING, "How mounts propagate between host and container: None (the "
                  "default), HostToContainer or Bidirectional.", pointer=True,
                  enum=("None", "HostToContainer", "Bidirectional")),
        dsl.Field("subPathExpr", 6, dsl.STRING, "Like subPath, with $(VAR) references to the container's environment "
                  "expanded; excludes subPath."),
        dsl.Field("bindMountOptions", 8, dsl.STRING, "Extra bind mount options: noexec, nodev, nosuid (alpha).",
                  repeated=True, list_type="set"),
    ),
)


VOLUME_DEVICE = dsl.Message(
    "io.k8s.api.core.v1.VolumeDevice",
    "Where a raw block volume appears in a container.",
    (
        dsl.Field("name", 1, dsl.STRING, "The name of one of the pod's persistentVolumeClaim volumes.",
                  required=True),
        dsl.Field("devicePath", 2, dsl.STRING, "The device path in the container.", required=True),
    ),
)


EXEC_ACTION = dsl.Message(
    "io.k8s.api.core.v1.ExecAction",
    "Runs a command in the container; exit status 0 means success.",
    (
        dsl.Field("command", 1, dsl.STRING, "The command and its arguments, run directly (not in a shell) from '/'.",
                  repeated=True, list_type="atomic"),
    ),
)


HTTP_HEADER = dsl.Message(
    "io.k8s.api.core.v1.HTTPHeader",
    "An HTTP header to send with a probe.",
    (
        dsl.Field("name", 1, dsl.STRING, "The header's name.", required=True),
        dsl.Field("value", 2, dsl.STRING, "The header's value.", required=True),
    ),
)


HTTP_GET_ACTION = dsl.Message(
    "io.k8s.api.core.v1.HTTPGetAction",
    "An HTTP GET request; a status from 200 to 399 means success.",
    (
        dsl.Field("path", 1, dsl.STRING, "The path to request."),
        dsl.Field("port", 2, dsl.INT_OR_STRING, "The container port to connect to, by number or by name.",
                  required=True),
        dsl.Field("host", 3, dsl.STRING, "The host to connect to. Defaults to the pod's IP; set a Host header "
                  "instead to name a virtual host."),
        dsl.Field("scheme", 4, dsl.STRING, "HTTP (the default) or HTTPS (without certificate verification).",
                  enum=("HTTP", "HTTPS")),
        dsl.Field("httpHeaders", 5, HTTP_HEADER, "Extra headers to send.", repeated=True, list_type="atomic"),
        dsl.Field("protocol", 6, dsl.STRING, "The HTTP version to probe with. Defaults to HTTP/1.1 (alpha).",
                  pointer=True, enum=("HTTP1", "HTTP2")),
    ),
)


TCP_SOCKET_ACTION = dsl.Message(
    "io.k8s.api.core.v1.TCPSocketAction",
    "Opens a TCP connection; success if it connects.",
    (
        dsl.Field("port", 1, dsl.INT_OR_STRING, "The container port to connect to, by number or by name.",
                  required=True),
        dsl.Field("host", 2, dsl.STRING, "The host to connect to. Defaults to the pod's IP."),
    ),
)


GRPC_ACTION = dsl.Message(
    "io.k8s.api.core.v1.GRPCAction",
    "Calls the standard gRPC health check service.",
    (
        dsl.Field("port", 1, dsl.INT32, "The port of the gRPC server.", required=True),
        dsl.Field("service", 2, dsl.STRING, "The service name to put in the health check request. Defaults to \"\".",
                  pointer=True),
        dsl.Field("mode", 3, dsl.STRING, "How to connect: Plaintext (the default) or TLS without certificate "
                  "verification (alpha).", pointer=True, enum=("Plaintext", "TLS")),
    ),
)


PROBE_HANDLER = dsl.Message(
    "io.k8s.api.core.v1.ProbeHandler",
    "What a probe does; set exactly one field.",
    (
        dsl.Field("exec", 1, EXEC_ACTION, "Run a command in the container.", pointer=True),
        dsl.Field("httpGet", 2, HTTP_GET_ACTION, "Send an HTTP GET request.", pointer=True),
        dsl.Field("tcpSocket", 3, TCP_SOCKET_ACTION, "Open a TCP connection.", pointer=True),
        dsl.Field("grpc", 4, GRPC_ACTION, "Call a gRPC health check.", pointer=True),
    ),
)


PROBE = dsl.Message(
    "io.k8s.api.core.v1.Probe",
    "A periodic health check of a container.",
    (
        dsl.Field("", 1, PROBE_HANDLER, "", inline=True),
        dsl.Field("initialDelaySeconds", 2, dsl.INT32, "Seconds after the container starts before the first probe."),
        dsl.Field("timeoutSeconds", 3, dsl.INT32, "Seconds before a probe times out. Defaults to 1."),
        dsl.Field("periodSeconds", 4, dsl.INT32, "Seconds between probes. Defaults to 10."),
        dsl.Field("successThreshold", 5, dsl.INT32, "Consecutive successes to count as passing after a failure. "
                  "Defaults to 1 (must be 1 for liveness and startup probes)."),
        dsl.Field("failureThreshold", 6, dsl.INT32, "Consecutive failures to count as failing. Defaults to 3."),
        dsl.Field("terminationGracePeriodSeconds", 7, dsl.INT64, "The grace period when a failed liveness or startup "
                  "probe kills the container, instead of the pod's.", pointer=True),
    ),
)


SLEEP_ACTION = dsl.Message(
    "io.k8s.api.core.v1.SleepAction",
    "Waits a number of seconds.",
    (
        dsl.Field("seconds", 1, dsl.INT64, "How many seconds to wait.", required=True),
    ),
)


LIFECYCLE_HANDLER = dsl.Message(
    "io.k8s.api.core.v1.LifecycleHandler",
    "What a lifecycle hook does; set exactly one field.",
    (
        dsl.Field("exec", 1, EXEC_ACTION, "Run a command in the container.", pointer=True),
        dsl.Field("httpGet", 2, HTTP_GET_ACTION, "Send an HTTP GET request.", pointer=True),
        dsl.Field("tcpSocket", 3, TCP_SOCKET_ACTION, "Deprecated and not run; kept for compatibility.", pointer=True),
        dsl.Field("sleep", 4, SLEEP_ACTION, "Wait a number of seconds.", pointer=True),
    ),
)


LIFECYCLE = dsl.Message(
    "io.k8s.api.core.v1.Lifecycle",
    "Actions run when a container starts and before it stops.",
    (
        dsl.Field("postStart", 1, LIFECYCLE_HANDLER, "Runs right after the container is created; if it fails, the "
                  "container is killed and restarted per the restart policy.", pointer=True),
        dsl.Field("preStop", 2, LIFECYCLE_HANDLER, "Runs before the container is stopped (not on crash); the stop "
                  "signal follows when it ends or the grace period runs out.", pointer=True),
        dsl.Field("stopSignal", 3, dsl.STRING, "The signal that stops the container, such as SIGTERM. Defaults to "
                  "the image's or the runtime's.", pointer=True,
                  enum=("SIGABRT", "SIGALRM", "SIGBUS", "SIGCHLD", "SIGCLD", "SIGCONT", "SIGFPE", "SIGHUP", "SIGILL",
                        "SIGINT", "SIGIO", "SIGIOT", "SIGKILL", "SIGPIPE", "SIGPOLL", "SIGPROF", "SIGPWR", "SIGQUIT",
                        "SIGSEGV", "SIGSTKFLT", "SIGSTOP", "SIGSYS", "SIGTERM", "SIGTRAP", "SIGTSTP", "SIGTTIN",
                        "SIGTTOU", "SIGURG", "SIGUSR1", "SIGUSR2", "SIGVTALRM", "SIGWINCH", "SIGXCPU", "SIGXFSZ",
                        "SIGRTMIN", "SIGRTMIN+1", "SIGRTMIN+2", "SIGRTMIN+3", "SIGRTMIN+4", "SIGRTMIN+5",
                        "SIGRTMIN+6", "SIGRTMIN+7", "SIGRTMIN+8", "SIGRTMIN+9", "SIGRTMIN+10", "SIGRTMIN+11",
                        "SIGRTMIN+12", "SIGRTMIN+13", "SIGRTMIN+14", "SIGRTMIN+15", "SIGRTMAX-14", "SIGRTMAX-13",
                        "SIGRTMAX-12", "SIGRTMAX-11", "SIGRTMAX-10", "SIGRTMAX-9", "SIGRTMAX-8", "SIGRTMAX-7",
                        "SIGRTMAX-6", "SIGRTMAX-5", "SIGRTMAX-4", "SIGRTMAX-3", "SIGRTMAX-2", "SIGRTMAX-1",
                        "SIGRTMAX")),
    ),
)


CAPABILITIES = dsl.Message(
    "io.k8s.api.core.v1.Capabilities",
    "Linux capabilities to add to or drop from the default set.",
    (
        dsl.Field("add", 1, dsl.STRING, "Capabilities to add, such as NET_ADMIN.", repeated=True, list_type="atomic"),
        dsl.Field("drop", 2, dsl.STRING, "Capabilities to drop, such as ALL.", repeated=True, list_type="atomic"),
    ),
)


SECURITY_CONTEXT = dsl.Message(
    "io.k8s.api.core.v1.SecurityContext",
    "Security settings of one container; they override the pod's where both are set.",
    (
        dsl.Field("capabilities", 1, CAPABILITIES, "Linux capabilities to add or drop.", pointer=True),
        dsl.Field("privileged", 2, dsl.BOOL, "Run privileged, with nearly the host's root powers. Defaults to false.",
                  pointer=True),
        dsl.Field("seLinuxOptions", 3, SE_LINUX_OPTIONS, "The container's SELinux context. Defaults to one chosen by "
                  "the runtime.", pointer=True),
        dsl.Field("windowsOptions", 10, WINDOWS_SECURITY_CONTEXT_OPTIONS, "Windows-only settings.", pointer=True),
        dsl.Field("runAsUser", 4, dsl.INT64, "The UID to run the entrypoint as. Defaults to the image's user.",
                  pointer=True),
        dsl.Field("runAsGroup", 8, dsl.INT64, "The primary GID to run the entrypoint as. Defaults to the runtime's.",
                  pointer=True),
        dsl.Field("runAsNonRoot", 5, dsl.BOOL, "When true, the kubelet refuses to start the container if it would "
                  "run as UID 0.", pointer=True),
        dsl.Field("readOnlyRootFilesystem", 6, dsl.BOOL, "Mount the container's root filesystem read-only. Defaults "
                  "to false.", pointer=True),
        dsl.Field("allowPrivilegeEscalation", 7, dsl.BOOL, "Whether a process may gain more privileges than its "
                  "parent (no_new_privs). True when privileged or with CAP_SYS_ADMIN.", pointer=True),
        dsl.Field("procMount", 9, dsl.STRING, "Default (masked /proc paths) or Unmasked.", pointer=True,
                  enum=("Default", "Unmasked")),
        dsl.Field("seccompProfile", 11, SECCOMP_PROFILE, "The container's seccomp profile.", pointer=True),
        dsl.Field("appArmorProfile", 12, APP_ARMOR_PROFILE, "The container's AppArmor profile.", pointer=True),
    ),
)


EPHEMERAL_CONTAINER_COMMON = dsl.Message(
    "io.k8s.api.core.v1.EphemeralContainerCommon",
    "The fields an ephemeral container shares with Container.",
    (
        dsl.Field("name", 1, dsl.STRING, "The container's name, a DNS label unique among all containers of the pod.",
                  required=True),
        dsl.Field("image", 2, dsl.STRING, "The image to run, such as nginx:1.25."),
        dsl.Field("command", 3, dsl.STRING, "The entrypoint, replacing the image's ENTRYPOINT; run directly, not in "
                  "a shell. $(VAR) references are expanded. Cannot be updated.", repeated=True, list_type="atomic"),
        dsl.Field("args", 4, dsl.STRING, "The arguments, replacing the image's CMD. $(VAR) references are expanded. "
                  "Cannot be updated.", repeated=True, list_type="atomic"),
        dsl.Field("workingDir", 5, dsl.STRING, "The working directory. Defaults to the image's. Cannot be updated."),
        dsl.Field("ports", 6, CONTAINER_PORT, "Not allowed for ephemeral containers.", repeated=True,
                  patch_strategy="merge", merge_key="containerPort", list_type="map",
                  list_map_keys=("containerPort", "protocol")),
        dsl.Field("envFrom", 19, ENV_FROM_SOURCE, "ConfigMaps and Secrets whose keys all become environment "
                  "variables; env wins on clashes. Cannot be updated.", repeated=True, list_type="atomic"),
        dsl.Field("env", 7, ENV_VAR, "Environment variables. Cannot be updated.", repeated=True,
                  patch_strategy="merge", merge_key="name", list_type="map", list_map_keys=("name",)),
        dsl.Field("resources", 8, RESOURCE_REQUIREMENTS, "Not allowed: ephemeral containers use resources the pod "
                  "already has."),
        dsl.Field("resizePolicy", 23, CONTAINER_RESIZE_POLICY, "Not allowed for ephemeral containers.", repeated=True,
                  list_type="atomic"),
        dsl.Field("restartPolicy", 24, dsl.STRING, "Not allowed for ephemeral containers.", pointer=True),
        dsl.Field("restartPolicyRules", 25, CONTAINER_RESTART_RULE, "Not allowed for ephemeral containers.",
                  repeated=True, list_type="atomic"),
        dsl.Field("volumeMounts", 9, VOLUME_MOUNT, "The pod's volumes to mount; subPath is not allowed. Cannot be "
                  "updated.", repeated=True, patch_strategy="merge", merge_key="mountPath", list_type="map",
                  list_map_keys=("mountPath",)),
        dsl.Field("volumeDevices", 21, VOLUME_DEVICE, "The pod's raw block volumes to map into the container.",
                  repeated=True, patch_strategy="merge", merge_key="devicePath", list_type="map",
                  list_map_keys=("devicePath",)),
        dsl.Field("livenessProbe", 10, PROBE, "Not allowed for ephemeral containers.", pointer=True),
        dsl.Field("readinessProbe", 11, PROBE, "Not allowed for ephemeral containers.", pointer=True),
        dsl.Field("startupProbe", 22, PROBE, "Not allowed for ephemeral containers.", pointer=True),
        dsl.Field("lifecycle", 12, LIFECYCLE, "Not allowed for ephemeral containers.", pointer=True),
        dsl.Field("terminationMessagePath", 13, dsl.STRING, "The file whose contents become the container's "
                  "termination message (at most 4096 bytes). Defaults to /dev/termination-log. Cannot be updated."),
        dsl.Field("terminationMessagePolicy", 20, dsl.STRING, "File (the default) reads the message file; "
                  "FallbackToLogsOnError uses the log's tail when the file is empty and the container failed.",
                  enum=("File", "FallbackToLogsOnError")),
        dsl.Field("imagePullPolicy", 14, dsl.STRING, "Always, Never or IfNotPresent. Defaults to Always for :latest "
                  "or no tag, else IfNotPresent. Cannot be updated.", enum=("Always", "Never", "IfNotPresent")),
        dsl.Field("securityContext", 15, SECURITY_CONTEXT, "Security settings of the container.", pointer=True),
        dsl.Field("stdin", 16, dsl.BOOL, "Keep a stdin buffer open for attach. Defaults to false."),
        dsl.Field("stdinOnce", 17, dsl.BOOL, "Close stdin after the first attach ends. Defaults to false."),
        dsl.Field("tty", 18, dsl.BOOL, "Allocate a terminal; needs stdin. Defaults to false."),
    ),
)


EPHEMERAL_CONTAINER = dsl.Message(
    "io.k8s.api.core.v1.EphemeralContainer",
    "A temporary container added to a running pod for debugging (kubectl debug); never restarted, no ports or "
    "probes.",
    (
        dsl.Field("", 1, EPHEMERAL_CONTAINER_COMMON, "", inline=True),
        dsl.Field("targetContainerName", 2, dsl.STRING, "A container of the pod whose namespaces (IPC, PID, ...) the "
                  "ephemeral container joins."),
    ),
)


CONTAINER = dsl.Message(
    "io.k8s.api.core.v1.Container",
    "A container of a pod: the image to run and how.",
    (
        dsl.Field("name", 1, dsl.STRING, "The container's name, a DNS label unique in the pod. Cannot be updated.",
                  required=True),
        dsl.Field("image", 2, dsl.STRING, "The image to run, such as nginx:1.25."),
        dsl.Field("command", 3, dsl.STRING, "The entrypoint, replacing the image's ENTRYPOINT; run directly, not in "
                  "a shell. $(VAR) references are expanded. Cannot be updated.", repeated=True, list_type="atomic"),
        dsl.Field("args", 4, dsl.STRING, "The arguments, replacing the image's CMD. $(VAR) references are expanded. "
                  "Cannot be updated.", repeated=True, list_type="atomic"),
        dsl.Field("workingDir", 5, dsl.STRING, "The working directory. Defaults to the image's. Cannot be updated."),
        dsl.Field("ports", 6, CONTAINER_PORT, "Ports the container listens on, for information and for named ports; "
                  "unlisted ports are still reachable. Cannot be updated.", repeated=True, patch_strategy="merge",
                  merge_key="containerPort", list_type="map", list_map_keys=("containerPort", "protocol")),
        dsl.Field("envFrom", 19, ENV_FROM_SOURCE, "ConfigMaps and Secrets whose keys all become environment "
                  "variables; env wins on clashes. Cannot be updated.", repeated=True, list_type="atomic"),
        dsl.Field("env", 7, ENV_VAR, "Environment variables. Cannot be updated.", repeated=True,
                  patch_strategy="merge", merge_key="name", list_type="map", list_map_keys=("name",)),
        dsl.Field("resources", 8, RESOURCE_REQUIREMENTS, "The CPU, memory and other resources requested and the "
                  "limits."),
        dsl.Field("resizePolicy", 23, CONTAINER_RESIZE_POLICY, "How a change of each resource is applied to the "
                  "running container.", repeated=True, list_type="atomic"),
        dsl.Field("restartPolicy", 24, dsl.STRING, "For init containers only: Always makes it a sidecar that keeps "
                  "running beside the app containers.", pointer=True),
        dsl.Field("restartPolicyRules", 25, CONTAINER_RESTART_RULE, "Rules, checked in order, deciding whether the "
                  "container is restarted when it exits (alpha).", repeated=True, list_type="atomic"),
        dsl.Field("volumeMounts", 9, VOLUME_MOUNT, "The pod's volumes to mount in the container. Cannot be updated.",
                  repeated=True, patch_strategy="merge", merge_key="mountPath", list_type="map",
                  list_map_keys=("mountPath",)),
        dsl.Field("volumeDevices", 21, VOLUME_DEVICE, "The pod's raw block volumes to map into the container.",
                  repeated=True, patch_strategy="merge", merge_key="devicePath", list_type="map",
                  list_map_keys=("devicePath",)),
        dsl.Field("livenessProbe", 10, PROBE, "A check that restarts the container when it fails. Cannot be updated.",
                  pointer=True),
        dsl.Field("readinessProbe", 11, PROBE, "A check that takes the pod out of service endpoints while it fails. "
                  "Cannot be updated.", pointer=True),
        dsl.Field("startupProbe", 22, PROBE, "A check that must pass before the other probes start; the container is "
                  "restarted if it fails. Cannot be updated.", pointer=True),
        dsl.Field("lifecycle", 12, LIFECYCLE, "Actions to run after start and before stop. Cannot be updated.",
                  pointer=True),
        dsl.Field("terminationMessagePath", 13, dsl.STRING, "The file whose contents become the container's "
                  "termination message (at most 4096 bytes). Defaults to /dev/termination-log. Cannot be updated."),
        dsl.Field("terminationMessagePolicy", 20, dsl.STRING, "File (the default) reads the message file; "
                  "FallbackToLogsOnError uses the log's tail when the file is empty and the container failed.",
                  enum=("File", "FallbackToLogsOnError")),
        dsl.Field("imagePullPolicy", 14, dsl.STRING, "Always, Never or IfNotPresent. Defaults to Always for :latest "
                  "or no tag, else IfNotPresent. Cannot be updated.", enum=("Always", "Never", "IfNotPresent")),
        dsl.Field("securityContext", 15, SECURITY_CONTEXT, "Security settings of the container.", pointer=True),
        dsl.Field("stdin", 16, dsl.BOOL, "Keep a stdin buffer open for attach. Defaults to false."),
        dsl.Field("stdinOnce", 17, dsl.BOOL, "Close stdin after the first attach ends. Defaults to false."),
        dsl.Field("tty", 18, dsl.BOOL, "Allocate a terminal; needs stdin. Defaults to false."),
    ),
)
