"""core/v1: Service and Endpoints.

Field numbers are those of k8s.io/api/core/v1/generated.proto; descriptions are
minik8s's own.
"""
from __future__ import annotations

from minik8s.api.schema import dsl
from minik8s.api.schema import meta_v1
from minik8s.api.schema.core_v1 import common

ENDPOINT_ADDRESS = dsl.Message(
    "io.k8s.api.core.v1.EndpointAddress",
    "TODO",
    (
        dsl.Field("ip", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("hostname", 3, dsl.STRING, "TODO"),
        dsl.Field("nodeName", 4, dsl.STRING, "TODO", pointer=True),
        dsl.Field("targetRef", 2, common.OBJECT_REFERENCE, "TODO", pointer=True),
    ),
    map_type="atomic",
)


ENDPOINT_PORT = dsl.Message(
    "io.k8s.api.core.v1.EndpointPort",
    "TODO",
    (
        dsl.Field("name", 1, dsl.STRING, "TODO"),
        dsl.Field("port", 2, dsl.INT32, "TODO", required=True),
        dsl.Field("protocol", 3, dsl.STRING, "TODO", enum=("TCP", "UDP", "SCTP")),
        dsl.Field("appProtocol", 4, dsl.STRING, "TODO", pointer=True),
    ),
    map_type="atomic",
)


ENDPOINT_SUBSET = dsl.Message(
    "io.k8s.api.core.v1.EndpointSubset",
    "TODO",
    (
        dsl.Field("addresses", 1, ENDPOINT_ADDRESS, "TODO", repeated=True, list_type="atomic"),
        dsl.Field("notReadyAddresses", 2, ENDPOINT_ADDRESS, "TODO", repeated=True, list_type="atomic"),
        dsl.Field("ports", 3, ENDPOINT_PORT, "TODO", repeated=True, list_type="atomic"),
    ),
)


ENDPOINTS = dsl.kind(
    "io.k8s.api.core.v1.Endpoints",
    "TODO",
    dsl.GVK("", "v1", "Endpoints"),
    (
        dsl.Field("metadata", 1, meta_v1.OBJECT_META, "TODO"),
        dsl.Field("subsets", 2, ENDPOINT_SUBSET, "TODO", repeated=True, list_type="atomic"),
    ),
)


ENDPOINTS_LIST = meta_v1.list_of(ENDPOINTS)


SERVICE_PORT = dsl.Message(
    "io.k8s.api.core.v1.ServicePort",
    "TODO",
    (
        dsl.Field("name", 1, dsl.STRING, "TODO"),
        dsl.Field("protocol", 2, dsl.STRING, "TODO", enum=("TCP", "UDP", "SCTP")),
        dsl.Field("appProtocol", 6, dsl.STRING, "TODO", pointer=True),
        dsl.Field("port", 3, dsl.INT32, "TODO", required=True),
        dsl.Field("targetPort", 4, dsl.INT_OR_STRING, "TODO"),
        dsl.Field("nodePort", 5, dsl.INT32, "TODO"),
    ),
)


CLIENT_IP_CONFIG = dsl.Message(
    "io.k8s.api.core.v1.ClientIPConfig",
    "TODO",
    (
        dsl.Field("timeoutSeconds", 1, dsl.INT32, "TODO", pointer=True),
    ),
)


SESSION_AFFINITY_CONFIG = dsl.Message(
    "io.k8s.api.core.v1.SessionAffinityConfig",
    "TODO",
    (
        dsl.Field("clientIP", 1, CLIENT_IP_CONFIG, "TODO", pointer=True),
    ),
)


SERVICE_SPEC = dsl.Message(
    "io.k8s.api.core.v1.ServiceSpec",
    "TODO",
    (
        dsl.Field("ports", 1, SERVICE_PORT, "TODO", repeated=True, patch_strategy="merge", merge_key="port",
                  list_type="map", list_map_keys=("port", "protocol")),
        dsl.Field("selector", 2, dsl.STRING, "TODO", map=True, map_type="atomic"),
        dsl.Field("clusterIP", 3, dsl.STRING, "TODO"),
        dsl.Field("clusterIPs", 18, dsl.STRING, "TODO", repeated=True, list_type="atomic"),
        dsl.Field("type", 4, dsl.STRING, "TODO", enum=("ClusterIP", "NodePort", "LoadBalancer", "ExternalName")),
        dsl.Field("externalIPs", 5, dsl.STRING, "TODO", repeated=True, list_type="atomic"),
        dsl.Field("sessionAffinity", 7, dsl.STRING, "TODO", enum=("ClientIP", "None")),
        dsl.Field("loadBalancerIP", 8, dsl.STRING, "TODO"),
        dsl.Field("loadBalancerSourceRanges", 9, dsl.STRING, "TODO", repeated=True, list_type="atomic"),
        dsl.Field("externalName", 10, dsl.STRING, "TODO"),
        dsl.Field("externalTrafficPolicy", 11, dsl.STRING, "TODO", enum=("Cluster", "Local")),
        dsl.Field("healthCheckNodePort", 12, dsl.INT32, "TODO"),
        dsl.Field("publishNotReadyAddresses", 13, dsl.BOOL, "TODO"),
        dsl.Field("sessionAffinityConfig", 14, SESSION_AFFINITY_CONFIG, "TODO", pointer=True),
        dsl.Field("ipFamilies", 19, dsl.STRING, "TODO", repeated=True, enum=("IPv4", "IPv6", ""), list_type="atomic"),
        dsl.Field("ipFamilyPolicy", 17, dsl.STRING, "TODO", pointer=True,
                  enum=("SingleStack", "PreferDualStack", "RequireDualStack")),
        dsl.Field("allocateLoadBalancerNodePorts", 20, dsl.BOOL, "TODO", pointer=True),
        dsl.Field("loadBalancerClass", 21, dsl.STRING, "TODO", pointer=True),
        dsl.Field("internalTrafficPolicy", 22, dsl.STRING, "TODO", pointer=True, enum=("Cluster", "Local")),
        dsl.Field("trafficDistribution", 23, dsl.STRING, "TODO", pointer=True),
    ),
)


PORT_STATUS = dsl.Message(
    "io.k8s.api.core.v1.PortStatus",
    "TODO",
    (
        dsl.Field("port", 1, dsl.INT32, "TODO", required=True),
        dsl.Field("protocol", 2, dsl.STRING, "TODO", required=True, enum=("TCP", "UDP", "SCTP")),
        dsl.Field("error", 3, dsl.STRING, "TODO", pointer=True),
    ),
)


LOAD_BALANCER_INGRESS = dsl.Message(
    "io.k8s.api.core.v1.LoadBalancerIngress",
    "TODO",
    (
        dsl.Field("ip", 1, dsl.STRING, "TODO"),
        dsl.Field("hostname", 2, dsl.STRING, "TODO"),
        dsl.Field("ipMode", 3, dsl.STRING, "TODO", pointer=True),
        dsl.Field("ports", 4, PORT_STATUS, "TODO", repeated=True, list_type="atomic"),
    ),
)


LOAD_BALANCER_STATUS = dsl.Message(
    "io.k8s.api.core.v1.LoadBalancerStatus",
    "TODO",
    (
        dsl.Field("ingress", 1, LOAD_BALANCER_INGRESS, "TODO", repeated=True, list_type="atomic"),
    ),
)


SERVICE_STATUS = dsl.Message(
    "io.k8s.api.core.v1.ServiceStatus",
    "TODO",
    (
        dsl.Field("loadBalancer", 1, LOAD_BALANCER_STATUS, "TODO"),
        dsl.Field("conditions", 2, meta_v1.CONDITION, "TODO", repeated=True, patch_strategy="merge",
                  merge_key="type", list_type="map", list_map_keys=("type",)),
    ),
)


SERVICE = dsl.kind(
    "io.k8s.api.core.v1.Service",
    "TODO",
    dsl.GVK("", "v1", "Service"),
    (
        dsl.Field("metadata", 1, meta_v1.OBJECT_META, "TODO"),
        dsl.Field("spec", 2, SERVICE_SPEC, "TODO"),
        dsl.Field("status", 3, SERVICE_STATUS, "TODO"),
    ),
)


SERVICE_LIST = meta_v1.list_of(SERVICE)
