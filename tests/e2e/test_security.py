"""Secure by default, as seen from a node of the local cluster (a non-loopback address).

Every request here comes from node1's network namespace to the master's bridge
address, with curl and the credentials under test, as an attacker on the node
network would send it; each deny checks that nothing was written. Then a join
from that namespace (token, CA hash, CSRs), kubectl 1.27/1.29/1.32 with the
kubeconfig `cluster up` wrote, and etcd's reachability.
"""
from __future__ import annotations

import datetime
import json
import os
import pathlib
import stat
import subprocess
from typing import Any

import psutil
import pytest
import yaml

from minik8s.api import identities
from minik8s.apiserver.authn import serviceaccount
from minik8s.client import kubeconfig
from minik8s.cluster import pki as cluster_pki
from minik8s.util import pki
from tests.e2e.conftest import MINIK8S, Cluster, LocalOps, run, wait_until

KUBECTLS = ["1.27", "1.29", "1.32"]
NODE = "node1"

# The issue's example: root on every node, if the API server let it in.
ROOT_POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "owned"},
            "spec": {"hostNetwork": True, "containers": [{"name": "c", "image": "minik8s/busybox:1",
                                                           "securityContext": {"privileged": True}}]}}


def ops_of(cluster: Cluster) -> LocalOps:
    assert isinstance(cluster.ops, LocalOps)
    return cluster.ops


def master_etc(cluster: Cluster) -> pathlib.Path:
    return pathlib.Path(ops_of(cluster).state_dir) / "etc"


def in_node(cluster: Cluster, argv: list[str], *, check: bool = False,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
    ns = f"/run/netns/mk8s-{cluster.name}-{NODE}"
    return run(["nsenter", f"--net={ns}", "--", *argv], check=check, timeout=timeout)


class Reply:
    def __init__(self, done: subprocess.CompletedProcess[str]) -> None:
        self.curl_rc = done.returncode
        self.stderr = done.stderr
        body, _, code = done.stdout.rpartition("\n")
        self.code = int(code) if code.isdigit() else 0
        self.text = body
        try:
            self.json: Any = json.loads(body)
        except ValueError:
            self.json = None

    def __repr__(self) -> str:
        return f"Reply(curl={self.curl_rc}, code={self.code}, body={self.text[:300]!r}, err={self.stderr[:300]!r})"


def curl(cluster: Cluster, path: str, *, method: str = "GET", body: Any = None, ca: pathlib.Path | None = None,
         cert: tuple[pathlib.Path, pathlib.Path] | None = None, token: str | None = None,
         server: str | None = None, extra: tuple[str, ...] = (), content_type: str = "application/json") -> Reply:
    argv = ["curl", "-sS", "-m", "10", "-o", "-", "-w", "\n%{http_code}", "-X", method,
            "--cacert", str(ca or master_etc(cluster) / "pki" / "ca.crt"), *extra]
    if cert is not None:
        argv += ["--cert", str(cert[0]), "--key", str(cert[1])]
    if token is not None:
        argv += ["-H", f"Authorization: Bearer {token}"]
    if body is not None:
        argv += ["-H", f"Content-Type: {content_type}", "--data-binary", json.dumps(body)]
    return Reply(in_node(cluster, [*argv, (server or cluster.server) + path]))


def write_credentials(tmp: pathlib.Path, name: str, cert: bytes, key: bytes) -> tuple[pathlib.Path, pathlib.Path]:
    c, k = tmp / f"{name}.crt", tmp / f"{name}.key"
    pki.write_public(c, cert)
    pki.write_private(k, key)
    return c, k


def assert_401_and_not_created(cluster: Cluster, reply: Reply, namespace: str, name: str = "owned") -> None:
    assert reply.code == 401, reply
    assert reply.json == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                          "message": reply.json["message"], "reason": "Unauthorized", "code": 401}, reply
    gone = cluster.kubectl("get", "pod", name, "-n", namespace, "--ignore-not-found", "-o", "name")
    assert gone.stdout == "", f"a denied request created {gone.stdout}"


@pytest.fixture
def ns_local(local_cluster: Cluster, namespace: str) -> str:
    return namespace


def test_anonymous_from_a_node_gets_401_and_creates_nothing(local_cluster: Cluster, ns_local: str) -> None:
    cluster = local_cluster
    for path in ("/healthz", "/readyz", "/livez"):
        r = curl(cluster, path)
        assert (r.code, r.text) == (200, "ok"), r
    assert curl(cluster, "/version").json["major"] == "1"
    assert_401_and_not_created(cluster, curl(cluster, f"/api/v1/namespaces/{ns_local}/pods", method="POST",
                                             body=ROOT_POD), ns_local)
    for path in ("/api/v1/nodes", "/api/v1/namespaces/kube-system/secrets", "/apis"):
        r = curl(cluster, path)
        assert r.code == 401 and r.json["reason"] == "Unauthorized", (path, r)
    # The plain HTTP port is gone: the API port speaks TLS only.
    plain = Reply(in_node(cluster, ["curl", "-sS", "-m", "5", "-o", "-", "-w", "\n%{http_code}",
                                    cluster.server.replace("https://", "http://") + "/api/v1/nodes"]))
    assert plain.code in (0, 400) and "nodes" not in plain.text, plain


def test_bad_certificates_from_a_node(local_cluster: Cluster, ns_local: str, tmp_path: pathlib.Path) -> None:
    cluster = local_cluster
    ca = cluster_pki.load_ca(master_etc(cluster))
    # Expired: a real admin certificate from the cluster CA, past its date.
    key = pki.new_key()
    expired = pki.issue(ca.key, ca.cert, key.public_key(), pki.CertSpec(identities.ADMIN, (identities.MASTERS,),
                                                                        days=1),
                        pki.utcnow() - datetime.timedelta(days=10))
    r = curl(cluster, f"/api/v1/namespaces/{ns_local}/pods", method="POST", body=ROOT_POD,
             cert=write_credentials(tmp_path, "expired", pki.cert_pem(expired), pki.key_pem(key)))
    assert_401_and_not_created(cluster, r, ns_local)
    assert "expired" in r.json["message"]
    # Unknown CA: the same subject from another CA is refused in the TLS handshake.
    other_key, other_ca = pki.make_ca("impostor")
    key = pki.new_key()
    forged = pki.issue(other_key, other_ca, key.public_key(), pki.CertSpec(identities.ADMIN, (identities.MASTERS,)))
    r = curl(cluster, f"/api/v1/namespaces/{ns_local}/pods", method="POST", body=ROOT_POD,
             cert=write_credentials(tmp_path, "forged", pki.cert_pem(forged), pki.key_pem(key)))
    assert r.curl_rc != 0 and r.code in (0, 401), r
    assert cluster.kubectl("get", "pod", "owned", "-n", ns_local, "--ignore-not-found", "-o", "name").stdout == ""
    # Wrong use: the API server's own certificate (CN kube-apiserver, serverAuth) as a client certificate.
    p = cluster_pki.paths(master_etc(cluster))
    r = curl(cluster, f"/api/v1/namespaces/{ns_local}/pods", method="POST", body=ROOT_POD,
             cert=(p.apiserver_crt, p.apiserver_key))
    assert r.curl_rc != 0 or r.code == 401, r
    assert cluster.kubectl("get", "pod", "owned", "-n", ns_local, "--ignore-not-found", "-o", "name").stdout == ""
    # The client side of a wrong name: the server's certificate does not name the host asked for.
    host, port = cluster.server.removeprefix("https://").rsplit(":", 1)
    r = curl(cluster, "/healthz", server=f"https://not-the-apiserver:{port}",
             extra=("--resolve", f"not-the-apiserver:{port}:{host}"))
    assert r.curl_rc == 60 and r.code == 0, r  # curl: peer certificate cannot be authenticated
    # And the good one, to show the others failed for their reason only.
    cert, key_pem = ca.issue(cluster_pki.Identity("e2e-user", ("e2e",)))
    r = curl(cluster, "/apis/authentication.k8s.io/v1/selfsubjectreviews", method="POST",
             body={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
             cert=write_credentials(tmp_path, "good", cert, key_pem))
    assert r.code == 201 and r.json["status"]["userInfo"]["username"] == "e2e-user", r


def test_bad_tokens_from_a_node(local_cluster: Cluster, ns_local: str) -> None:
    cluster = local_cluster
    sa_key = pki.load_key(cluster_pki.paths(master_etc(cluster)).sa_key.read_bytes())
    aud = [serviceaccount.DEFAULT_ISSUER]
    # A token names a ServiceAccount that exists (by uid): one of a missing one is refused too.
    cluster.kubectl("create", "serviceaccount", "robot", "-n", ns_local)
    uid = cluster.get_json("serviceaccount", "robot", "-n", ns_local)["metadata"]["uid"]
    good = serviceaccount.issue(sa_key, namespace=ns_local, name="robot", uid=uid, audiences=aud)
    r = curl(cluster, "/apis/authentication.k8s.io/v1/selfsubjectreviews", method="POST", token=good,
             body={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
    assert r.code == 201 and r.json["status"]["userInfo"]["username"] == f"system:serviceaccount:{ns_local}:robot"
    expired = serviceaccount.issue(sa_key, namespace=ns_local, name="robot", uid=uid, audiences=aud,
                                   expiration_seconds=600, now=pki.utcnow() - datetime.timedelta(hours=1))
    forged = serviceaccount.issue(pki.new_rsa_key(), namespace=ns_local, name="robot", uid=uid, audiences=aud)
    ghost = serviceaccount.issue(sa_key, namespace=ns_local, name="ghost", uid="u", audiences=aud)
    for token in (expired, forged, ghost, "abcdef.0123456789abcdef", "not-a-token"):
        assert_401_and_not_created(cluster, curl(cluster, f"/api/v1/namespaces/{ns_local}/pods", method="POST",
                                                 body=ROOT_POD, token=token), ns_local)


def test_join_from_a_node_and_the_token_afterwards(local_cluster: Cluster, ns_local: str,
                                                   tmp_path: pathlib.Path) -> None:
    """`token create` on the master, `join` from node1's namespace: the CA is checked against the
    hash, the node gets its own certificates through CSRs and keeps no token; the kubelet.yaml it
    renders is the one the local node runs with. Once deleted, the token is refused."""
    cluster = local_cluster
    etc = master_etc(cluster)
    words = run([*MINIK8S, "token", "create", "--config-dir", str(etc), "--ttl", "10m"]).stdout.split()
    assert words[:3] == ["minik8s", "join", cluster.server], words
    token, ca_hash = words[4], words[6]
    assert ca_hash == cluster_pki.load_ca(etc).hash
    node_dir = pathlib.Path(ops_of(cluster).state_dir) / "nodes" / NODE
    local = yaml.safe_load((node_dir / "etc" / "kubelet.yaml").read_text())["kubelet"]
    sets = [a for k, v in local.items() if k not in _JOIN_FLAGS for a in ("--set", f"kubelet.{k}={v}")]
    out = tmp_path / "etc"
    try:
        joined = in_node(cluster, [*MINIK8S, "join", cluster.server, "--token", token,
                                   "--discovery-token-ca-cert-hash", ca_hash, "--node-name", NODE,
                                   "--node-ip", cluster.nodes[NODE], "--pod-cidr", local["pod-cidr"],
                                   "--docker-host", local["docker-host"], "--root-dir", local["root-dir"],
                                   "--config-dir", str(out), "--no-start", *sets], timeout=180)
        assert joined.returncode == 0, joined.stderr
        rendered = yaml.safe_load((out / "kubelet.yaml").read_text())["kubelet"]
        assert rendered.pop("kubeconfig") == str(out / "kubelet.conf")
        # The kubelet's serving certificate, from the kubelet-serving signer, for node1's address.
        assert rendered.pop("tls-cert-file") == str(out / "pki" / "kubelet.crt")
        assert rendered.pop("tls-private-key-file") == str(out / "pki" / "kubelet.key")
        assert rendered.pop("client-ca-file") == str(out / "pki" / "ca.crt")
        serving = pki.load_cert((out / "pki" / "kubelet.crt").read_bytes())
        assert pki.sans(serving) == ({NODE}, {cluster.nodes[NODE]})
        assert pki.signed_by(serving, cluster_pki.load_ca_cert(etc))
        assert {k: v for k, v in local.items() if k not in _PER_DIRECTORY} == rendered
        for name in ("kubelet.conf", "proxy.conf", "network-agent.conf"):
            assert stat.S_IMODE(os.stat(out / name).st_mode) == 0o600
        secret = token.split(".")[1]
        assert not [p for p in out.rglob("*") if p.is_file() and secret in p.read_text(errors="replace")]
        conf = kubeconfig.load(out / "kubelet.conf")
        assert conf.cert is not None and conf.key is not None
        cert = write_credentials(tmp_path, "kubelet", conf.cert, conf.key)
        r = curl(cluster, "/apis/authentication.k8s.io/v1/selfsubjectreviews", method="POST", cert=cert,
                 body={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
        assert r.json["status"]["userInfo"]["username"] == f"system:node:{NODE}", r
        # A wrong CA hash from the same namespace: nothing trusted, nothing written.
        _, other = pki.make_ca("other")
        refused = in_node(cluster, [*MINIK8S, "join", cluster.server, "--token", token,
                                    "--discovery-token-ca-cert-hash", pki.spki_sha256(other),
                                    "--config-dir", str(tmp_path / "refused"), "--no-start"], timeout=120)
        assert refused.returncode == 1 and "refusing to trust it" in refused.stderr, refused.stderr
        assert not (tmp_path / "refused").exists()
    finally:
        run([*MINIK8S, "token", "delete", "--config-dir", str(etc), token])
    # The token is no longer accepted, neither as a bearer token nor for discovery.
    wait_until(lambda: curl(cluster, "/api/v1/namespaces/default/pods", token=token).code == 401, 10,
               "the deleted bootstrap token to be refused")
    assert_401_and_not_created(cluster, curl(cluster, f"/api/v1/namespaces/{ns_local}/pods", method="POST",
                                             body=ROOT_POD, token=token), ns_local)
    gone = in_node(cluster, [*MINIK8S, "join", cluster.server, "--token", token, "--discovery-token-ca-cert-hash",
                             ca_hash, "--config-dir", str(tmp_path / "x"), "--no-start", "--timeout", "3"])
    assert gone.returncode == 1 and "not signed for token" in gone.stderr, gone.stderr


def test_a_node_credential_reaches_only_its_own(local_cluster: Cluster, ns_local: str,
                                                tmp_path: pathlib.Path) -> None:
    """node1's kubelet certificate, from node1's address: another node's pod, a Secret no pod
    of node1 uses and another Node are 403 (Node authorizer, NodeRestriction), and unchanged."""
    cluster = local_cluster
    other = next(n for n in sorted(cluster.nodes) if n != NODE)
    node_etc = pathlib.Path(ops_of(cluster).state_dir) / "nodes" / NODE / "etc"
    conf = kubeconfig.load(node_etc / "kubelet.conf")
    assert conf.cert is not None and conf.key is not None
    cert = write_credentials(tmp_path, "node1-kubelet", conf.cert, conf.key)
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "elsewhere", "namespace": ns_local},
           "spec": {"nodeName": other, "containers": [{"name": "c", "image": "minik8s/busybox:1",
                                                       "command": ["sleep", "3600"]}]}}
    cluster.kubectl("apply", "-f", "-", input=json.dumps(pod))
    cluster.kubectl("create", "secret", "generic", "not-yours", "-n", ns_local, "--from-literal=k=v")
    # Its own Node it may read; that the certificate works at all.
    assert curl(cluster, f"/api/v1/nodes/{NODE}", cert=cert).code == 200
    r = curl(cluster, f"/api/v1/namespaces/{ns_local}/pods/elsewhere/status", method="PATCH", cert=cert,
             body={"status": {"phase": "Failed"}}, content_type="application/merge-patch+json")
    assert r.code == 403 and r.json["reason"] == "Forbidden", r
    phase = cluster.kubectl("get", "pod", "elsewhere", "-n", ns_local, "-o", "jsonpath={.status.phase}").stdout
    assert phase != "Failed", "a denied status write changed the pod"
    r = curl(cluster, f"/api/v1/namespaces/{ns_local}/secrets/not-yours", cert=cert)
    assert r.code == 403 and r.json["reason"] == "Forbidden", r
    r = curl(cluster, f"/api/v1/nodes/{other}", method="DELETE", cert=cert)
    assert r.code == 403 and r.json["reason"] == "Forbidden", r
    assert cluster.kubectl("get", "node", other, "-o", "name").stdout.strip() == f"node/{other}"
    # The issue's root pod, as a node: refused too.
    r = curl(cluster, f"/api/v1/namespaces/{ns_local}/pods", method="POST", cert=cert, body=ROOT_POD)
    assert r.code == 403, r
    assert cluster.kubectl("get", "pod", "owned", "-n", ns_local, "--ignore-not-found", "-o", "name").stdout == ""


# kubelet.yaml keys `minik8s join` sets from its own flags and the cluster info, and those
# naming files in its --config-dir.
_PER_DIRECTORY = {"kubeconfig", "tls-cert-file", "tls-private-key-file", "client-ca-file"}
_JOIN_FLAGS = {*_PER_DIRECTORY, "node-name", "node-ip", "pod-cidr", "docker-host", "root-dir", "port"}


def test_the_kubelet_api_serves_only_the_api_server(local_cluster: Cluster, ns_local: str,
                                                    tmp_path: pathlib.Path) -> None:
    """From node1's address, another node's kubelet (pods, exec, logs): no certificate is
    401, node1's own kubelet certificate 403, plain HTTP nothing; the API server's kubelet
    client certificate gets in, and `kubectl logs` through the API server works."""
    cluster = local_cluster
    other = next(n for n in sorted(cluster.nodes) if n != NODE)
    cluster.kubectl("run", "talker", "-n", ns_local, "--image=minik8s/busybox:1", "--image-pull-policy=Never",
                    f"--overrides={json.dumps({'spec': {'nodeName': other}})}", "--",
                    "sh", "-c", "echo hello-from-the-pod; sleep 3600")
    wait_until(lambda: cluster.kubectl("get", "pod", "talker", "-n", ns_local, "-o",
                                       "jsonpath={.status.phase}").stdout == "Running", 120, "talker to run")
    kubelet = f"https://{cluster.nodes[other]}:10250"
    paths = ["/pods", f"/containerLogs/{ns_local}/talker/talker",
             f"/exec/{ns_local}/talker/talker?command=id&stdout=true"]
    node_conf = kubeconfig.load(pathlib.Path(ops_of(cluster).state_dir) / "nodes" / NODE / "etc" / "kubelet.conf")
    assert node_conf.cert is not None and node_conf.key is not None
    node_cert = write_credentials(tmp_path, "node1-kubelet", node_conf.cert, node_conf.key)
    etc = master_etc(cluster)
    apiserver_cert = (etc / "pki" / "apiserver-kubelet-client.crt", etc / "pki" / "apiserver-kubelet-client.key")
    for path in paths:
        r = curl(cluster, path, server=kubelet, method="POST" if path.startswith("/exec") else "GET")
        assert r.code == 401 and r.json["reason"] == "Unauthorized", (path, r)
        r = curl(cluster, path, server=kubelet, cert=node_cert, method="POST" if path.startswith("/exec") else "GET")
        assert r.code == 403 and r.json["reason"] == "Forbidden", (path, r)
    plain = in_node(cluster, ["curl", "-sS", "-m", "5", "-o", "/dev/null", "-w", "%{http_code}",
                              kubelet.replace("https://", "http://") + "/pods"])
    assert plain.stdout == "000", plain  # no HTTP answer at all, not even a 401
    # The kubelet's certificate is from the cluster CA, for its own address and name only.
    assert curl(cluster, "/healthz", server=kubelet).code == 200
    r = curl(cluster, "/healthz", server="https://elsewhere:10250",
             extra=("--resolve", f"elsewhere:10250:{cluster.nodes[other]}"))
    assert r.curl_rc == 60 and r.code == 0, r  # curl: the certificate does not name "elsewhere"
    r = curl(cluster, f"/containerLogs/{ns_local}/talker/talker", server=kubelet, cert=apiserver_cert)
    assert r.code == 200 and "hello-from-the-pod" in r.text, r
    assert "hello-from-the-pod" in cluster.kubectl("logs", "talker", "-n", ns_local).stdout


@pytest.mark.parametrize("version", KUBECTLS)
def test_kubectl_with_the_generated_kubeconfig(local_cluster: Cluster, version: str,
                                               tmp_path: pathlib.Path) -> None:
    cluster = local_cluster
    assert stat.S_IMODE(os.stat(cluster.kubeconfig).st_mode) == 0o600
    doc = yaml.safe_load(pathlib.Path(cluster.kubeconfig).read_text())
    user = next(u["user"] for u in doc["users"] if u["name"] == f"minik8s-{cluster.name}")
    entry = next(c["cluster"] for c in doc["clusters"] if c["name"] == f"minik8s-{cluster.name}")
    assert {"client-certificate-data", "client-key-data"} <= set(user)
    assert "certificate-authority-data" in entry and entry["server"].startswith("https://")
    binary = f"/usr/lib/google-cloud-sdk/bin/kubectl.{version}"
    env = {**os.environ, "KUBECONFIG": cluster.kubeconfig, "KUBECACHEDIR": str(tmp_path / "cache"),
           "HOME": str(tmp_path)}
    nodes = run([binary, "get", "nodes", "-o", "name"], env=env).stdout.split()
    assert sorted(nodes) == sorted(f"node/{n}" for n in cluster.nodes)
    who = json.loads(run([binary, "auth", "whoami", "-o", "json"], env=env).stdout)
    assert who["status"]["userInfo"] == {"username": identities.ADMIN,
                                         "groups": [identities.MASTERS, identities.AUTHENTICATED]}


def test_etcd_listens_on_loopback_only(local_cluster: Cluster) -> None:
    cluster = local_cluster
    pid = ops_of(cluster).status()["master"]["etcd"]
    assert pid, "etcd is not running"
    listening = {(c.laddr.ip, c.laddr.port) for c in psutil.Process(pid).net_connections(kind="inet")
                 if c.status == psutil.CONN_LISTEN}
    assert listening and all(ip == "127.0.0.1" for ip, _ in listening), listening
    host = cluster.server.removeprefix("https://").rsplit(":", 1)[0]
    for _, port in listening:
        probe = in_node(cluster, ["curl", "-sS", "-m", "3", f"http://{host}:{port}/version"])
        assert probe.returncode == 7, probe  # connection refused from the node network


def test_every_component_has_its_own_identity(local_cluster: Cluster) -> None:
    """The kubeconfigs each process runs with, and whom they say the process is."""
    cluster = local_cluster
    etc = master_etc(cluster)
    want = {"controller-manager.yaml": identities.CONTROLLER_MANAGER, "scheduler.yaml": identities.SCHEDULER,
            "dns.yaml": identities.DNS}
    node_etc = pathlib.Path(ops_of(cluster).state_dir) / "nodes" / NODE / "etc"
    node_want = {"kubelet.yaml": identities.node_user(NODE), "proxy.yaml": identities.PROXY,
                 "network-agent.yaml": identities.NETWORK_AGENT}
    for directory, expected in ((etc, want), (node_etc, node_want)):
        for file_name, user in expected.items():
            command = file_name.removesuffix(".yaml")
            path = yaml.safe_load((directory / file_name).read_text())[command]["kubeconfig"]
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
            access = kubeconfig.load(path)
            assert access.cert is not None
            assert pki.subject(pki.load_cert(access.cert).subject)[0] == user, (file_name, path)
    for key in ("ca.key", "apiserver.key", "sa.key"):
        assert stat.S_IMODE(os.stat(etc / "pki" / key).st_mode) == 0o600, key
    assert not (node_etc / "pki" / "ca.key").exists(), "the CA key never leaves the master"
