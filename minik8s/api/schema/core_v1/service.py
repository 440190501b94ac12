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
    "One address of an Endpoints object.",
    (
        dsl.Field("ip", 1, dsl.STRING, "The address; may not be loopback, link-local or multicast.", required=True),
        dsl.Field("hostname", 3, dsl.STRING, "The host name of the endpoint."),
        dsl.Field("nodeName", 4, dsl.STRING, "The node the endpoint runs on.", pointer=True),
        dsl.Field("targetRef", 2, common.OBJECT_REFERENCE, "The object behind the address, usually a pod.",
                  pointer=True),
    ),
    map_type="atomic",
)


ENDPOINT_PORT = dsl.Message(
    "io.k8s.api.core.v1.EndpointPort",
    "One port of an Endpoints object.",
    (
        dsl.Field("name", 1, dsl.STRING, "The name of the matching service port; needed when there are several."),
        dsl.Field("port", 2, dsl.INT32, "The port number.", required=True),
        dsl.Field("protocol", 3, dsl.STRING, "TCP (the default), UDP or SCTP.", enum=("TCP", "UDP", "SCTP")),
        dsl.Field("appProtocol", 4, dsl.STRING, "The application protocol, such as http or kubernetes.io/h2c, a hint "
                  "for proxies.", pointer=True),
    ),
    map_type="atomic",
)


ENDPOINT_SUBSET = dsl.Message(
    "io.k8s.api.core.v1.EndpointSubset",
    "Addresses sharing the same ports; every address serves every port.",
    (
        dsl.Field("addresses", 1, ENDPOINT_ADDRESS, "Addresses that are ready to receive traffic.", repeated=True,
                  list_type="atomic"),
        dsl.Field("notReadyAddresses", 2, ENDPOINT_ADDRESS, "Addresses that are not ready (starting, failing "
                  "readiness, or terminating).", repeated=True, list_type="atomic"),
        dsl.Field("ports", 3, ENDPOINT_PORT, "The ports.", repeated=True, list_type="atomic"),
    ),
)


ENDPOINTS = dsl.kind(
    "io.k8s.api.core.v1.Endpoints",
    "The addresses and ports behind a Service, kept by the endpoints controller (deprecated in favour of "
    "EndpointSlice).",
    dsl.GVK("", "v1", "Endpoints"),
    (
        dsl.Field("metadata", 1, meta_v1.OBJECT_META, "Standard object metadata; the name is the Service's."),
        dsl.Field("subsets", 2, ENDPOINT_SUBSET, "Groups of addresses with their ports.", repeated=True,
                  list_type="atomic"),
    ),
)


ENDPOINTS_LIST = meta_v1.list_of(ENDPOINTS)


SERVICE_PORT = dsl.Message(
    "io.k8s.api.core.v1.ServicePort",
    "One port of a Service.",
    (
        dsl.Field("name", 1, dsl.STRING, "The port's name, a DNS label unique in the service; required when there "
                  "are several ports."),
        dsl.Field("protocol", 2, dsl.STRING, "TCP (the default), UDP or SCTP.", enum=("TCP", "UDP", "SCTP"),
                  default="TCP"),
        dsl.Field("appProtocol", 6, dsl.STRING, "The application protocol, such as http or kubernetes.io/h2c, a hint "
                  "for proxies.", pointer=True),
        dsl.Field("port", 3, dsl.INT32, "The port the Service exposes.", required=True),
        dsl.Field("targetPort", 4, dsl.INT_OR_STRING, "The pods' port to send to, by number or by container port "
                  "name. Defaults to port."),
        dsl.Field("nodePort", 5, dsl.INT32, "The port opened on every node for NodePort and LoadBalancer services "
                  "(30000-32767 by default); allocated when unset."),
    ),
)


CLIENT_IP_CONFIG = dsl.Message(
    "io.k8s.api.core.v1.ClientIPConfig",
    "Settings of client-IP session affinity.",
    (
        dsl.Field("timeoutSeconds", 1, dsl.INT32, "How long a client sticks to the same pod, 1 to 86400 seconds. "
                  "Defaults to 10800.", pointer=True),
    ),
)


SESSION_AFFINITY_CONFIG = dsl.Message(
    "io.k8s.api.core.v1.SessionAffinityConfig",
    "Settings of session affinity.",
    (
        dsl.Field("clientIP", 1, CLIENT_IP_CONFIG, "Settings of client-IP affinity.", pointer=True),
    ),
)


SERVICE_SPEC = dsl.Message(
    "io.k8s.api.core.v1.ServiceSpec",
    "The desired state of a Service.",
    (
        dsl.Field("ports", 1, SERVICE_PORT, "The ports the Service exposes.", repeated=True, patch_strategy="merge",
                  merge_key="port", list_type="map", list_map_keys=("port", "protocol")),
        dsl.Field("selector", 2, dsl.STRING, "Labels of the pods traffic goes to; without a selector, the Endpoints "
                  "are managed by hand.", map=True, map_type="atomic"),
        dsl.Field("clusterIP", 3, dsl.STRING, "The Service's virtual IP, allocated when empty; None makes a headless "
                  "Service (DNS only). Can only change to or from ExternalName."),
        dsl.Field("clusterIPs", 18, dsl.STRING, "The Service's virtual IPs (one per family); the first is clusterIP.",
                  repeated=True, list_type="atomic"),
        dsl.Field("type", 4, dsl.STRING, "ClusterIP (the default: a virtual IP in the cluster), NodePort (also a "
                  "port on every node), LoadBalancer (also an external load balancer) or ExternalName (a DNS alias).",
                  enum=("ClusterIP", "NodePort", "LoadBalancer", "ExternalName")),
        dsl.Field("externalIPs", 5, dsl.STRING, "Extra addresses, not managed by Kubernetes, on which nodes accept "
                  "traffic for the Service.", repeated=True, list_type="atomic"),
        dsl.Field("sessionAffinity", 7, dsl.STRING, "None (the default) or ClientIP to send a client's traffic to "
                  "the same pod.", enum=("ClientIP", "None")),
        dsl.Field("loadBalancerIP", 8, dsl.STRING, "Deprecated: the address to ask the cloud load balancer for."),
        dsl.Field("loadBalancerSourceRanges", 9, dsl.STRING, "Client address ranges the load balancer accepts.",
                  repeated=True, list_type="atomic"),
        dsl.Field("externalName", 10, dsl.STRING, "For type ExternalName: the DNS name the Service is an alias "
                  "(CNAME) of."),
        dsl.Field("externalTrafficPolicy", 11, dsl.STRING, "Cluster (the default) spreads external traffic over all "
                  "endpoints; Local keeps it on the receiving node's endpoints and the client's address.",
                  enum=("Cluster", "Local")),
        dsl.Field("healthCheckNodePort", 12, dsl.INT32, "For LoadBalancer with externalTrafficPolicy Local: the node "
                  "port that answers health checks. Allocated when unset."),
        dsl.Field("publishNotReadyAddresses", 13, dsl.BOOL, "Publish the addresses of pods that are not ready (for "
                  "peer discovery of stateful sets)."),
        dsl.Field("sessionAffinityConfig", 14, SESSION_AFFINITY_CONFIG, "Settings of session affinity.",
                  pointer=True),
        dsl.Field("ipFamilies", 19, dsl.STRING, "The address families (IPv4, IPv6) of the Service, in order.",
                  repeated=True, enum=("IPv4", "IPv6", ""), list_type="atomic"),
        dsl.Field("ipFamilyPolicy", 17, dsl.STRING, "SingleStack (the default), PreferDualStack or RequireDualStack.",
                  pointer=True, enum=("SingleStack", "PreferDualStack", "RequireDualStack")),
        dsl.Field("allocateLoadBalancerNodePorts", 20, dsl.BOOL, "Whether a LoadBalancer service gets node ports. "
                  "Defaults to true.", pointer=True),
        dsl.Field("loadBalancerClass", 21, dsl.STRING, "Which load balancer implementation handles the Service (type "
                  "LoadBalancer). Cannot be changed.", pointer=True),
        dsl.Field("internalTrafficPolicy", 22, dsl.STRING, "Cluster (the default) or Local: whether traffic to the "
                  "cluster IP may go to endpoints on other nodes.", pointer=True, enum=("Cluster", "Local")),
        dsl.Field("trafficDistribution", 23, dsl.STRING, "A preference for how traffic is spread over endpoints, "
                  "such as PreferClose.", pointer=True),
    ),
)


PORT_STATUS = dsl.Message(
    "io.k8s.api.core.v1.PortStatus",
    "The state of one port of a load balancer.",
    (
        dsl.Field("port", 1, dsl.INT32, "The port.", required=True),
        dsl.Field("protocol", 2, dsl.STRING, "TCP, UDP or SCTP.", required=True, enum=("TCP", "UDP", "SCTP")),
        dsl.Field("error", 3, dsl.STRING, "What went wrong with the port, if anything.", pointer=True),
    ),
)


LOAD_BALANCER_INGRESS = dsl.Message(
    "io.k8s.api.core.v1.LoadBalancerIngress",
    "One entry point of a load balancer.",
    (
        dsl.Field("ip", 1, dsl.STRING, "The entry point's address, for IP-based load balancers."),
        dsl.Field("hostname", 2, dsl.STRING, "The entry point's host name, for DNS-based load balancers."),
        dsl.Field("ipMode", 3, dsl.STRING, "VIP (traffic arrives for the address, the default) or Proxy (arrives "
                  "from the load balancer).", pointer=True),
        dsl.Field("ports", 4, PORT_STATUS, "The state of each port.", repeated=True, list_type="atomic"),
    ),
)


LOAD_BALANCER_STATUS = dsl.Message(
    "io.k8s.api.core.v1.LoadBalancerStatus",
    "The state of a load balancer.",
    (
        dsl.Field("ingress", 1, LOAD_BALANCER_INGRESS, "Its entry points.", repeated=True, list_type="atomic"),
    ),
)


SERVICE_STATUS = dsl.Message(
    "io.k8s.api.core.v1.ServiceStatus",
    "The observed state of a Service.",
    (
        dsl.Field("loadBalancer", 1, LOAD_BALANCER_STATUS, "The state of its load balancer, if it has one."),
        dsl.Field("conditions", 2, meta_v1.CONDITION, "The Service's conditions.", repeated=True,
                  patch_strategy="merge", merge_key="type", list_type="map", list_map_keys=("type",)),
    ),
)


SERVICE = dsl.kind(
    "io.k8s.api.core.v1.Service",
    "A stable virtual address and DNS name for a set of pods, with load balancing over them.",
    dsl.GVK("", "v1", "Service"),
    (
        dsl.Field("metadata", 1, meta_v1.OBJECT_META, "Standard object metadata."),
        dsl.Field("spec", 2, SERVICE_SPEC, "The desired state: ports, selector and type."),
        dsl.Field("status", 3, SERVICE_STATUS, "The observed state. Read-only."),
    ),
)


SERVICE_LIST = meta_v1.list_of(SERVICE)
