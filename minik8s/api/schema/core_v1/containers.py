"""core/v1: Container and what it is made of: ports, env, resources, probes, security.

Field numbers are those of k8s.io/api/core/v1/generated.proto; descriptions are
minik8s's own.
"""
from __future__ import annotations

from minik8s.api.schema import dsl
from minik8s.api.schema.core_v1 import common

RESOURCE_CLAIM = dsl.Message(
    "io.k8s.api.core.v1.ResourceClaim",
    "TODO",
    (
        dsl.Field("name", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("request", 2, dsl.STRING, "TODO"),
    ),
)


RESOURCE_REQUIREMENTS = dsl.Message(
    "io.k8s.api.core.v1.ResourceRequirements",
    "TODO",
    (
        dsl.Field("limits", 1, dsl.QUANTITY, "TODO", map=True),
        dsl.Field("requests", 2, dsl.QUANTITY, "TODO", map=True),
        dsl.Field("claims", 3, RESOURCE_CLAIM, "TODO", repeated=True, list_type="map", list_map_keys=("name",)),
    ),
)


APP_ARMOR_PROFILE = dsl.Message(
    "io.k8s.api.core.v1.AppArmorProfile",
    "TODO",
    (
        dsl.Field("type", 1, dsl.STRING, "TODO", required=True, enum=("Unconfined", "RuntimeDefault", "Localhost")),
        dsl.Field("localhostProfile", 2, dsl.STRING, "TODO", pointer=True),
    ),
)


SECCOMP_PROFILE = dsl.Message(
    "io.k8s.api.core.v1.SeccompProfile",
    "TODO",
    (
        dsl.Field("type", 1, dsl.STRING, "TODO", required=True, enum=("Unconfined", "RuntimeDefault", "Localhost")),
        dsl.Field("localhostProfile", 2, dsl.STRING, "TODO", pointer=True),
    ),
)


WINDOWS_SECURITY_CONTEXT_OPTIONS = dsl.Message(
    "io.k8s.api.core.v1.WindowsSecurityContextOptions",
    "TODO",
    (
        dsl.Field("gmsaCredentialSpecName", 1, dsl.STRING, "TODO", pointer=True),
        dsl.Field("gmsaCredentialSpec", 2, dsl.STRING, "TODO", pointer=True),
        dsl.Field("runAsUserName", 3, dsl.STRING, "TODO", pointer=True),
        dsl.Field("hostProcess", 4, dsl.BOOL, "TODO", pointer=True),
    ),
)


SE_LINUX_OPTIONS = dsl.Message(
    "io.k8s.api.core.v1.SELinuxOptions",
    "TODO",
    (
        dsl.Field("user", 1, dsl.STRING, "TODO"),
        dsl.Field("role", 2, dsl.STRING, "TODO"),
        dsl.Field("type", 3, dsl.STRING, "TODO"),
        dsl.Field("level", 4, dsl.STRING, "TODO"),
    ),
)


CONTAINER_PORT = dsl.Message(
    "io.k8s.api.core.v1.ContainerPort",
    "TODO",
    (
        dsl.Field("name", 1, dsl.STRING, "TODO"),
        dsl.Field("hostPort", 2, dsl.INT32, "TODO"),
        dsl.Field("containerPort", 3, dsl.INT32, "TODO", required=True),
        dsl.Field("protocol", 4, dsl.STRING, "TODO", enum=("TCP", "UDP", "SCTP")),
        dsl.Field("hostIP", 5, dsl.STRING, "TODO"),
    ),
)


CONFIG_MAP_ENV_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.ConfigMapEnvSource",
    "TODO",
    (
        dsl.Field("", 1, common.LOCAL_OBJECT_REFERENCE, "", inline=True),
        dsl.Field("optional", 2, dsl.BOOL, "TODO", pointer=True),
    ),
)


SECRET_ENV_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.SecretEnvSource",
    "TODO",
    (
        dsl.Field("", 1, common.LOCAL_OBJECT_REFERENCE, "", inline=True),
        dsl.Field("optional", 2, dsl.BOOL, "TODO", pointer=True),
    ),
)


ENV_FROM_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.EnvFromSource",
    "TODO",
    (
        dsl.Field("prefix", 1, dsl.STRING, "TODO"),
        dsl.Field("configMapRef", 2, CONFIG_MAP_ENV_SOURCE, "TODO", pointer=True),
        dsl.Field("secretRef", 3, SECRET_ENV_SOURCE, "TODO", pointer=True),
    ),
)


ENV_VAR_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.EnvVarSource",
    "TODO",
    (
        dsl.Field("fieldRef", 1, common.OBJECT_FIELD_SELECTOR, "TODO", pointer=True),
        dsl.Field("resourceFieldRef", 2, common.RESOURCE_FIELD_SELECTOR, "TODO", pointer=True),
        dsl.Field("configMapKeyRef", 3, common.CONFIG_MAP_KEY_SELECTOR, "TODO", pointer=True),
        dsl.Field("secretKeyRef", 4, common.SECRET_KEY_SELECTOR, "TODO", pointer=True),
        dsl.Field("fileKeyRef", 5, common.FILE_KEY_SELECTOR, "TODO", pointer=True),
    ),
)


ENV_VAR = dsl.Message(
    "io.k8s.api.core.v1.EnvVar",
    "TODO",
    (
        dsl.Field("name", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("value", 2, dsl.STRING, "TODO"),
        dsl.Field("valueFrom", 3, ENV_VAR_SOURCE, "TODO", pointer=True),
    ),
)


CONTAINER_RESIZE_POLICY = dsl.Message(
    "io.k8s.api.core.v1.ContainerResizePolicy",
    "TODO",
    (
        dsl.Field("resourceName", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("restartPolicy", 2, dsl.STRING, "TODO", required=True),
    ),
)


CONTAINER_RESTART_RULE_ON_EXIT_CODES = dsl.Message(
    "io.k8s.api.core.v1.ContainerRestartRuleOnExitCodes",
    "TODO",
    (
        dsl.Field("operator", 1, dsl.STRING, "TODO"),
        dsl.Field("values", 2, dsl.INT32, "TODO", repeated=True, list_type="set"),
    ),
)


CONTAINER_RESTART_RULE = dsl.Message(
    "io.k8s.api.core.v1.ContainerRestartRule",
    "TODO",
    (
        dsl.Field("action", 1, dsl.STRING, "TODO"),
        dsl.Field("exitCodes", 2, CONTAINER_RESTART_RULE_ON_EXIT_CODES, "TODO", pointer=True),
    ),
)


VOLUME_MOUNT = dsl.Message(
    "io.k8s.api.core.v1.VolumeMount",
    "TODO",
    (
        dsl.Field("name", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("readOnly", 2, dsl.BOOL, "TODO"),
        dsl.Field("recursiveReadOnly", 7, dsl.STRING, "TODO", pointer=True),
        dsl.Field("mountPath", 3, dsl.STRING, "TODO", required=True),
        dsl.Field("subPath", 4, dsl.STRING, "TODO"),
        dsl.Field("mountPropagation", 5, dsl.STRING, "TODO", pointer=True,
                  enum=("None", "HostToContainer", "Bidirectional")),
        dsl.Field("subPathExpr", 6, dsl.STRING, "TODO"),
        dsl.Field("bindMountOptions", 8, dsl.STRING, "TODO", repeated=True, list_type="set"),
    ),
)


VOLUME_DEVICE = dsl.Message(
    "io.k8s.api.core.v1.VolumeDevice",
    "TODO",
    (
        dsl.Field("name", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("devicePath", 2, dsl.STRING, "TODO", required=True),
    ),
)


EXEC_ACTION = dsl.Message(
    "io.k8s.api.core.v1.ExecAction",
    "TODO",
    (
        dsl.Field("command", 1, dsl.STRING, "TODO", repeated=True, list_type="atomic"),
    ),
)


HTTP_HEADER = dsl.Message(
    "io.k8s.api.core.v1.HTTPHeader",
    "TODO",
    (
        dsl.Field("name", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("value", 2, dsl.STRING, "TODO", required=True),
    ),
)


HTTP_GET_ACTION = dsl.Message(
    "io.k8s.api.core.v1.HTTPGetAction",
    "TODO",
    (
        dsl.Field("path", 1, dsl.STRING, "TODO"),
        dsl.Field("port", 2, dsl.INT_OR_STRING, "TODO", required=True),
        dsl.Field("host", 3, dsl.STRING, "TODO"),
        dsl.Field("scheme", 4, dsl.STRING, "TODO", enum=("HTTP", "HTTPS")),
        dsl.Field("httpHeaders", 5, HTTP_HEADER, "TODO", repeated=True, list_type="atomic"),
        dsl.Field("protocol", 6, dsl.STRING, "TODO", pointer=True, enum=("HTTP1", "HTTP2")),
    ),
)


TCP_SOCKET_ACTION = dsl.Message(
    "io.k8s.api.core.v1.TCPSocketAction",
    "TODO",
    (
        dsl.Field("port", 1, dsl.INT_OR_STRING, "TODO", required=True),
        dsl.Field("host", 2, dsl.STRING, "TODO"),
    ),
)


GRPC_ACTION = dsl.Message(
    "io.k8s.api.core.v1.GRPCAction",
    "TODO",
    (
        dsl.Field("port", 1, dsl.INT32, "TODO", required=True),
        dsl.Field("service", 2, dsl.STRING, "TODO", pointer=True),
        dsl.Field("mode", 3, dsl.STRING, "TODO", pointer=True, enum=("Plaintext", "TLS")),
    ),
)


PROBE_HANDLER = dsl.Message(
    "io.k8s.api.core.v1.ProbeHandler",
    "TODO",
    (
        dsl.Field("exec", 1, EXEC_ACTION, "TODO", pointer=True),
        dsl.Field("httpGet", 2, HTTP_GET_ACTION, "TODO", pointer=True),
        dsl.Field("tcpSocket", 3, TCP_SOCKET_ACTION, "TODO", pointer=True),
        dsl.Field("grpc", 4, GRPC_ACTION, "TODO", pointer=True),
    ),
)


PROBE = dsl.Message(
    "io.k8s.api.core.v1.Probe",
    "TODO",
    (
        dsl.Field("", 1, PROBE_HANDLER, "", inline=True),
        dsl.Field("initialDelaySeconds", 2, dsl.INT32, "TODO"),
        dsl.Field("timeoutSeconds", 3, dsl.INT32, "TODO"),
        dsl.Field("periodSeconds", 4, dsl.INT32, "TODO"),
        dsl.Field("successThreshold", 5, dsl.INT32, "TODO"),
        dsl.Field("failureThreshold", 6, dsl.INT32, "TODO"),
        dsl.Field("terminationGracePeriodSeconds", 7, dsl.INT64, "TODO", pointer=True),
    ),
)


SLEEP_ACTION = dsl.Message(
    "io.k8s.api.core.v1.SleepAction",
    "TODO",
    (
        dsl.Field("seconds", 1, dsl.INT64, "TODO", required=True),
    ),
)


LIFECYCLE_HANDLER = dsl.Message(
    "io.k8s.api.core.v1.LifecycleHandler",
    "TODO",
    (
        dsl.Field("exec", 1, EXEC_ACTION, "TODO", pointer=True),
        dsl.Field("httpGet", 2, HTTP_GET_ACTION, "TODO", pointer=True),
        dsl.Field("tcpSocket", 3, TCP_SOCKET_ACTION, "TODO", pointer=True),
        dsl.Field("sleep", 4, SLEEP_ACTION, "TODO", pointer=True),
    ),
)


LIFECYCLE = dsl.Message(
    "io.k8s.api.core.v1.Lifecycle",
    "TODO",
    (
        dsl.Field("postStart", 1, LIFECYCLE_HANDLER, "TODO", pointer=True),
        dsl.Field("preStop", 2, LIFECYCLE_HANDLER, "TODO", pointer=True),
        dsl.Field("stopSignal", 3, dsl.STRING, "TODO", pointer=True,
                  enum=("SIGABRT", "SIGALRM", "SIGBUS", "SIGCHLD", "SIGCLD", "SIGCONT", "SIGFPE", "SIGHUP", "SIGILL", "SIGINT", "SIGIO", "SIGIOT", "SIGKILL", "SIGPIPE", "SIGPOLL", "SIGPROF", "SIGPWR", "SIGQUIT", "SIGSEGV", "SIGSTKFLT", "SIGSTOP", "SIGSYS", "SIGTERM", "SIGTRAP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGUSR1", "SIGUSR2", "SIGVTALRM", "SIGWINCH", "SIGXCPU", "SIGXFSZ", "SIGRTMIN", "SIGRTMIN+1", "SIGRTMIN+2", "SIGRTMIN+3", "SIGRTMIN+4", "SIGRTMIN+5", "SIGRTMIN+6", "SIGRTMIN+7", "SIGRTMIN+8", "SIGRTMIN+9", "SIGRTMIN+10", "SIGRTMIN+11", "SIGRTMIN+12", "SIGRTMIN+13", "SIGRTMIN+14", "SIGRTMIN+15", "SIGRTMAX-14", "SIGRTMAX-13", "SIGRTMAX-12", "SIGRTMAX-11", "SIGRTMAX-10", "SIGRTMAX-9", "SIGRTMAX-8", "SIGRTMAX-7", "SIGRTMAX-6", "SIGRTMAX-5", "SIGRTMAX-4", "SIGRTMAX-3", "SIGRTMAX-2", "SIGRTMAX-1", "SIGRTMAX")),
    ),
)


CAPABILITIES = dsl.Message(
    "io.k8s.api.core.v1.Capabilities",
    "TODO",
    (
        dsl.Field("add", 1, dsl.STRING, "TODO", repeated=True, list_type="atomic"),
        dsl.Field("drop", 2, dsl.STRING, "TODO", repeated=True, list_type="atomic"),
    ),
)


SECURITY_CONTEXT = dsl.Message(
    "io.k8s.api.core.v1.SecurityContext",
    "TODO",
    (
        dsl.Field("capabilities", 1, CAPABILITIES, "TODO", pointer=True),
        dsl.Field("privileged", 2, dsl.BOOL, "TODO", pointer=True),
        dsl.Field("seLinuxOptions", 3, SE_LINUX_OPTIONS, "TODO", pointer=True),
        dsl.Field("windowsOptions", 10, WINDOWS_SECURITY_CONTEXT_OPTIONS, "TODO", pointer=True),
        dsl.Field("runAsUser", 4, dsl.INT64, "TODO", pointer=True),
        dsl.Field("runAsGroup", 8, dsl.INT64, "TODO", pointer=True),
        dsl.Field("runAsNonRoot", 5, dsl.BOOL, "TODO", pointer=True),
        dsl.Field("readOnlyRootFilesystem", 6, dsl.BOOL, "TODO", pointer=True),
        dsl.Field("allowPrivilegeEscalation", 7, dsl.BOOL, "TODO", pointer=True),
        dsl.Field("procMount", 9, dsl.STRING, "TODO", pointer=True, enum=("Default", "Unmasked")),
        dsl.Field("seccompProfile", 11, SECCOMP_PROFILE, "TODO", pointer=True),
        dsl.Field("appArmorProfile", 12, APP_ARMOR_PROFILE, "TODO", pointer=True),
    ),
)


EPHEMERAL_CONTAINER_COMMON = dsl.Message(
    "io.k8s.api.core.v1.EphemeralContainerCommon",
    "TODO",
    (
        dsl.Field("name", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("image", 2, dsl.STRING, "TODO"),
        dsl.Field("command", 3, dsl.STRING, "TODO", repeated=True, list_type="atomic"),
        dsl.Field("args", 4, dsl.STRING, "TODO", repeated=True, list_type="atomic"),
        dsl.Field("workingDir", 5, dsl.STRING, "TODO"),
        dsl.Field("ports", 6, CONTAINER_PORT, "TODO", repeated=True, patch_strategy="merge",
                  merge_key="containerPort", list_type="map", list_map_keys=("containerPort", "protocol")),
        dsl.Field("envFrom", 19, ENV_FROM_SOURCE, "TODO", repeated=True, list_type="atomic"),
        dsl.Field("env", 7, ENV_VAR, "TODO", repeated=True, patch_strategy="merge", merge_key="name",
                  list_type="map", list_map_keys=("name",)),
        dsl.Field("resources", 8, RESOURCE_REQUIREMENTS, "TODO"),
        dsl.Field("resizePolicy", 23, CONTAINER_RESIZE_POLICY, "TODO", repeated=True, list_type="atomic"),
        dsl.Field("restartPolicy", 24, dsl.STRING, "TODO", pointer=True),
        dsl.Field("restartPolicyRules", 25, CONTAINER_RESTART_RULE, "TODO", repeated=True, list_type="atomic"),
        dsl.Field("volumeMounts", 9, VOLUME_MOUNT, "TODO", repeated=True, patch_strategy="merge",
                  merge_key="mountPath", list_type="map", list_map_keys=("mountPath",)),
        dsl.Field("volumeDevices", 21, VOLUME_DEVICE, "TODO", repeated=True, patch_strategy="merge",
                  merge_key="devicePath", list_type="map", list_map_keys=("devicePath",)),
        dsl.Field("livenessProbe", 10, PROBE, "TODO", pointer=True),
        dsl.Field("readinessProbe", 11, PROBE, "TODO", pointer=True),
        dsl.Field("startupProbe", 22, PROBE, "TODO", pointer=True),
        dsl.Field("lifecycle", 12, LIFECYCLE, "TODO", pointer=True),
        dsl.Field("terminationMessagePath", 13, dsl.STRING, "TODO"),
        dsl.Field("terminationMessagePolicy", 20, dsl.STRING, "TODO", enum=("File", "FallbackToLogsOnError")),
        dsl.Field("imagePullPolicy", 14, dsl.STRING, "TODO", enum=("Always", "Never", "IfNotPresent")),
        dsl.Field("securityContext", 15, SECURITY_CONTEXT, "TODO", pointer=True),
        dsl.Field("stdin", 16, dsl.BOOL, "TODO"),
        dsl.Field("stdinOnce", 17, dsl.BOOL, "TODO"),
        dsl.Field("tty", 18, dsl.BOOL, "TODO"),
    ),
)


EPHEMERAL_CONTAINER = dsl.Message(
    "io.k8s.api.core.v1.EphemeralContainer",
    "TODO",
    (
        dsl.Field("", 1, EPHEMERAL_CONTAINER_COMMON, "", inline=True),
        dsl.Field("targetContainerName", 2, dsl.STRING, "TODO"),
    ),
)


CONTAINER = dsl.Message(
    "io.k8s.api.core.v1.Container",
    "TODO",
    (
        dsl.Field("name", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("image", 2, dsl.STRING, "TODO"),
        dsl.Field("command", 3, dsl.STRING, "TODO", repeated=True, list_type="atomic"),
        dsl.Field("args", 4, dsl.STRING, "TODO", repeated=True, list_type="atomic"),
        dsl.Field("workingDir", 5, dsl.STRING, "TODO"),
        dsl.Field("ports", 6, CONTAINER_PORT, "TODO", repeated=True, patch_strategy="merge",
                  merge_key="containerPort", list_type="map", list_map_keys=("containerPort", "protocol")),
        dsl.Field("envFrom", 19, ENV_FROM_SOURCE, "TODO", repeated=True, list_type="atomic"),
        dsl.Field("env", 7, ENV_VAR, "TODO", repeated=True, patch_strategy="merge", merge_key="name",
                  list_type="map", list_map_keys=("name",)),
        dsl.Field("resources", 8, RESOURCE_REQUIREMENTS, "TODO"),
        dsl.Field("resizePolicy", 23, CONTAINER_RESIZE_POLICY, "TODO", repeated=True, list_type="atomic"),
        dsl.Field("restartPolicy", 24, dsl.STRING, "TODO", pointer=True),
        dsl.Field("restartPolicyRules", 25, CONTAINER_RESTART_RULE, "TODO", repeated=True, list_type="atomic"),
        dsl.Field("volumeMounts", 9, VOLUME_MOUNT, "TODO", repeated=True, patch_strategy="merge",
                  merge_key="mountPath", list_type="map", list_map_keys=("mountPath",)),
        dsl.Field("volumeDevices", 21, VOLUME_DEVICE, "TODO", repeated=True, patch_strategy="merge",
                  merge_key="devicePath", list_type="map", list_map_keys=("devicePath",)),
        dsl.Field("livenessProbe", 10, PROBE, "TODO", pointer=True),
        dsl.Field("readinessProbe", 11, PROBE, "TODO", pointer=True),
        dsl.Field("startupProbe", 22, PROBE, "TODO", pointer=True),
        dsl.Field("lifecycle", 12, LIFECYCLE, "TODO", pointer=True),
        dsl.Field("terminationMessagePath", 13, dsl.STRING, "TODO"),
        dsl.Field("terminationMessagePolicy", 20, dsl.STRING, "TODO", enum=("File", "FallbackToLogsOnError")),
        dsl.Field("imagePullPolicy", 14, dsl.STRING, "TODO", enum=("Always", "Never", "IfNotPresent")),
        dsl.Field("securityContext", 15, SECURITY_CONTEXT, "TODO", pointer=True),
        dsl.Field("stdin", 16, dsl.BOOL, "TODO"),
        dsl.Field("stdinOnce", 17, dsl.BOOL, "TODO"),
        dsl.Field("tty", 18, dsl.BOOL, "TODO"),
    ),
)
