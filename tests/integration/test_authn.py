"""Authentication at the API server, through its real HTTPS port: who gets in, who gets a 401.

Every deny is checked for its status *and* for having changed nothing: the write
it attempted is not there afterwards.
"""
from __future__ import annotations

import datetime
import json
import pathlib
import ssl
import subprocess
import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest

from minik8s.api import errors
from minik8s.api import identities
from minik8s.api import resources
from minik8s.apiserver.authn import serviceaccount
from minik8s.client import kubeconfig
from minik8s.client import rest
from minik8s.client import tls as tls_mod
from minik8s.cluster import bootstrap
from minik8s.util import pki
from minik8s.util import procs
from tests.conftest import ApiServerProcess, http, test_pki

KUBECTLS = ["1.27", "1.29", "1.32"]


def request(server: ApiServerProcess, method: str, path: str, *, ctx: ssl.SSLContext,
            token: str | None = None, body: Any = None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(server.url + path, method=method, headers=headers,
                                 data=json.dumps(body).encode() if body is not None else None)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=ctx))
    try:
        with opener.open(req, timeout=30) as resp:
            raw = resp.read()
            return resp.status, json.loads(raw) if resp.headers.get_content_type() == "application/json" else raw
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw.decode(errors="replace")


def anonymous_ctx() -> ssl.SSLContext:
    return test_pki().ssl_context(None)


def cert_ctx(cert: bytes, key: bytes, ca: bytes | None = None) -> ssl.SSLContext:
    return tls_mod.client_context(tls_mod.TLSConfig(ca=ca or test_pki().ca.cert_pem, cert=cert, key=key))


def whoami(server: ApiServerProcess, ctx: ssl.SSLContext, token: str | None = None) -> tuple[int, Any]:
    return request(server, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", ctx=ctx, token=token,
                   body={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})


def cm_body(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}}


def assert_denied_and_nothing_written(server: ApiServerProcess, namespace: str, ctx: ssl.SSLContext,
                                      token: str | None = None) -> dict[str, Any]:
    name = "deny-" + uuid.uuid4().hex[:6]
    status, body = request(server, "POST", f"/api/v1/namespaces/{namespace}/configmaps", ctx=ctx, token=token,
                           body=cm_body(name))
    assert status == 401, body
    assert body["kind"] == "Status" and body["status"] == "Failure" and body["reason"] == "Unauthorized", body
    code, _ = http(server, "GET", f"/api/v1/namespaces/{namespace}/configmaps/{name}", check=False)
    assert code == 404, "a denied write changed something"
    return body


# --- anonymous ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/healthz", "/livez", "/readyz", "/version", "/version/"])
def test_health_and_version_are_public(apiserver: ApiServerProcess, path: str) -> None:
    status, _ = request(apiserver, "GET", path, ctx=anonymous_ctx())
    assert status == 200


@pytest.mark.parametrize("path", ["/api", "/apis", "/api/v1/namespaces/default/pods", "/api/v1/nodes",
                                  "/openapi/v3", "/apis/apps/v1/deployments", "/no/such/path",
                                  "/api/v1/namespaces/kube-system/secrets"])
def test_anonymous_gets_401_with_a_status(apiserver: ApiServerProcess, path: str) -> None:
    status, body = request(apiserver, "GET", path, ctx=anonymous_ctx())
    assert status == 401
    assert body == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                    "message": "Unauthorized", "reason": "Unauthorized", "code": 401}


def test_anonymous_write_is_401_and_writes_nothing(apiserver: ApiServerProcess, namespace: str) -> None:
    assert_denied_and_nothing_written(apiserver, namespace, anonymous_ctx())


def test_anonymous_may_read_cluster_info_only(apiserver: ApiServerProcess) -> None:
    status, _ = request(apiserver, "GET", "/api/v1/namespaces/kube-public/configmaps/cluster-info",
                        ctx=anonymous_ctx())
    assert status in (200, 404)  # readable (whether or not `token create` published it yet)
    for method, path in (("GET", "/api/v1/namespaces/kube-public/configmaps"),
                         ("GET", "/api/v1/namespaces/kube-public/configmaps/other"),
                         ("DELETE", "/api/v1/namespaces/kube-public/configmaps/cluster-info")):
        assert request(apiserver, method, path, ctx=anonymous_ctx())[0] == 401, (method, path)


# --- client certificates ---------------------------------------------------------------------------


def test_certificate_user_and_groups(apiserver: ApiServerProcess) -> None:
    cert, key = test_pki().credentials("jane", ("dev", "ops"))
    status, body = whoami(apiserver, cert_ctx(cert, key))
    assert status == 201
    assert body["status"]["userInfo"] == {"username": "jane", "groups": ["dev", "ops", "system:authenticated"]}


def test_expired_certificate_is_401(apiserver: ApiServerProcess, namespace: str) -> None:
    ca = test_pki().ca
    key = pki.new_key()
    past = pki.utcnow() - datetime.timedelta(days=30)
    cert = pki.issue(ca.key, ca.cert, key.public_key(), pki.CertSpec(identities.ADMIN, (identities.MASTERS,),
                                                                     days=1), past)
    body = assert_denied_and_nothing_written(apiserver, namespace, cert_ctx(pki.cert_pem(cert), pki.key_pem(key)))
    assert "expired" in body["message"]


def test_not_yet_valid_certificate_is_401(apiserver: ApiServerProcess, namespace: str) -> None:
    ca = test_pki().ca
    key = pki.new_key()
    future = pki.utcnow() + datetime.timedelta(days=2)
    cert = pki.issue(ca.key, ca.cert, key.public_key(), pki.CertSpec(identities.ADMIN, (identities.MASTERS,)),
                     future)
    assert_denied_and_nothing_written(apiserver, namespace, cert_ctx(pki.cert_pem(cert), pki.key_pem(key)))


def assert_refused_in_tls_and_nothing_written(server: ApiServerProcess, namespace: str,
                                              ctx: ssl.SSLContext) -> None:
    """OpenSSL checks the chain and the purpose of a client certificate in the handshake (Python's
    ssl cannot let such a certificate through to a 401): the connection ends before any request."""
    import http.client as http_client

    name = "deny-" + uuid.uuid4().hex[:6]
    with pytest.raises((ssl.SSLError, urllib.error.URLError, http_client.RemoteDisconnected, ConnectionError)):
        request(server, "POST", f"/api/v1/namespaces/{namespace}/configmaps", ctx=ctx, body=cm_body(name))
    assert http(server, "GET", f"/api/v1/namespaces/{namespace}/configmaps/{name}", check=False)[0] == 404


def test_certificate_from_an_unknown_ca_never_gets_in(apiserver: ApiServerProcess, namespace: str) -> None:
    other_key, other_ca = pki.make_ca("impostor")
    key = pki.new_key()
    cert = pki.issue(other_key, other_ca, key.public_key(), pki.CertSpec(identities.ADMIN, (identities.MASTERS,)))
    assert_refused_in_tls_and_nothing_written(apiserver, namespace, cert_ctx(pki.cert_pem(cert), pki.key_pem(key)))


def test_a_serving_certificate_is_no_client_certificate(apiserver: ApiServerProcess, namespace: str) -> None:
    """A certificate from the cluster CA but for the wrong use: the API server's own (serverAuth,
    CN kube-apiserver). Refused in the handshake; the x509 authenticator would say 401 too."""
    cert_file, key_file = test_pki().serving("127.0.0.1")
    cert, key = pathlib.Path(cert_file).read_bytes(), pathlib.Path(key_file).read_bytes()
    assert_refused_in_tls_and_nothing_written(apiserver, namespace, cert_ctx(cert, key))


def test_a_certificate_without_a_user_is_401(apiserver: ApiServerProcess, namespace: str) -> None:
    ca = test_pki().ca
    key = pki.new_key()
    cert = pki.issue(ca.key, ca.cert, key.public_key(), pki.CertSpec("", (identities.MASTERS,)))
    assert_denied_and_nothing_written(apiserver, namespace, cert_ctx(pki.cert_pem(cert), pki.key_pem(key)))


async def test_client_refuses_a_server_whose_certificate_names_another_host(apiserver: ApiServerProcess) -> None:
    """The client side of a wrong-name certificate: the server's certificate, from the right CA,
    does not name the host the client expects, so our client refuses it (as kubectl would)."""
    good = apiserver.tls
    async with rest.Client(apiserver.url, tls=good) as client:
        assert (await client.request("GET", "/version"))["major"] == "1"
    wrong = tls_mod.TLSConfig(ca=good.ca, cert=good.cert, key=good.key, server_name="not-the-apiserver.example")
    async with rest.Client(apiserver.url, tls=wrong) as client:
        with pytest.raises(errors.ServiceUnavailable, match="certificate verify failed"):
            await client.request("GET", "/version")


async def test_client_fails_closed_on_a_bad_ca(apiserver: ApiServerProcess, tmp_path: pathlib.Path) -> None:
    _, other_ca = pki.make_ca("other")
    cert, key = test_pki().credentials(identities.ADMIN, (identities.MASTERS,))
    async with rest.Client(apiserver.url, tls=tls_mod.TLSConfig(ca=pki.cert_pem(other_ca), cert=cert,
                                                                key=key)) as client:
        with pytest.raises(errors.ServiceUnavailable, match="certificate verify failed"):
            await client.request("GET", "/version")
    with pytest.raises(tls_mod.TLSError):
        rest.Client(apiserver.url, tls=tls_mod.TLSConfig(ca=b"not a certificate"))
    kc = tmp_path / "insecure.conf"
    kc.write_text(f"apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {apiserver.url}\n"
                  "    insecure-skip-tls-verify: true\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\n"
                  "users:\n- name: u\n  user: {}\ncurrent-context: c\n")
    with pytest.raises(kubeconfig.KubeconfigError, match="insecure-skip-tls-verify"):
        kubeconfig.load(kc)


# --- bearer tokens -------------------------------------------------------------------------------------


_SERVER: list[ApiServerProcess] = []


@pytest.fixture(autouse=True)
def _server_for_tokens(apiserver: ApiServerProcess) -> None:
    _SERVER[:] = [apiserver]


def robot(namespace: str = "default") -> dict[str, Any]:
    """The ServiceAccount the tokens name (a token of a ServiceAccount that does not exist is refused)."""
    path = f"/api/v1/namespaces/{namespace}/serviceaccounts"
    http(_SERVER[0], "POST", path, {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "robot"}},
         check=False)
    return http(_SERVER[0], "GET", f"{path}/robot")[1]


def sa_token(**kw: Any) -> str:
    key = pki.load_key(test_pki().paths.sa_key.read_bytes())
    namespace = kw.get("namespace", "default")
    args: dict[str, Any] = {"namespace": namespace, "name": "robot", "uid": robot(namespace)["metadata"]["uid"],
                            "audiences": [serviceaccount.DEFAULT_ISSUER]}
    args.update(kw)
    return serviceaccount.issue(key, **args)


def test_service_account_token_authenticates(apiserver: ApiServerProcess) -> None:
    status, body = whoami(apiserver, anonymous_ctx(), sa_token())
    assert status == 201
    info = body["status"]["userInfo"]
    assert info["username"] == "system:serviceaccount:default:robot" and info["uid"] == robot()["metadata"]["uid"]
    assert info["groups"] == ["system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"]
    assert info["extra"]["authentication.kubernetes.io/credential-id"][0].startswith("JTI=")


def test_expired_service_account_token_is_401(apiserver: ApiServerProcess, namespace: str) -> None:
    old = sa_token(now=pki.utcnow() - datetime.timedelta(hours=2), expiration_seconds=600)
    assert_denied_and_nothing_written(apiserver, namespace, anonymous_ctx(), old)


@pytest.mark.parametrize("forgery", ["other-key", "tampered", "alg-none", "wrong-audience", "wrong-issuer",
                                     "garbage-jwt"])
def test_forged_service_account_tokens_are_401(apiserver: ApiServerProcess, namespace: str, forgery: str) -> None:
    import base64

    import jwt as pyjwt

    if forgery == "other-key":
        token = serviceaccount.issue(pki.new_rsa_key(), namespace="default", name="robot", uid="u",
                                     audiences=[serviceaccount.DEFAULT_ISSUER])
    elif forgery == "tampered":
        header, payload, sig = sa_token().split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
        claims["sub"] = "system:serviceaccount:kube-system:admin"
        claims["kubernetes.io"]["namespace"] = "kube-system"
        forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
        token = f"{header}.{forged}.{sig}"
    elif forgery == "alg-none":
        token = pyjwt.encode({"iss": serviceaccount.DEFAULT_ISSUER, "sub": "system:serviceaccount:default:x",
                              "aud": [serviceaccount.DEFAULT_ISSUER], "exp": 4102444800, "iat": 0},
                             None, algorithm="none")  # type: ignore[arg-type]
    elif forgery == "wrong-audience":
        token = sa_token(audiences=["https://elsewhere"])
    elif forgery == "wrong-issuer":
        token = sa_token(issuer="https://elsewhere")
    else:
        token = "eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln"
    assert_denied_and_nothing_written(apiserver, namespace, anonymous_ctx(), token)


async def test_token_bound_to_a_deleted_pod_stops_working(apiserver: ApiServerProcess, client: rest.Client,
                                                          namespace: str) -> None:
    pods = resources.must("", "v1", "pods")
    pod = await client.create(pods, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                                     "spec": {"containers": [{"name": "c", "image": "minik8s/busybox:1"}]}},
                              namespace)
    token = sa_token(namespace=namespace, pod=("p", pod["metadata"]["uid"]))
    status, body = whoami(apiserver, anonymous_ctx(), token)
    assert status == 201 and body["status"]["userInfo"]["extra"]["authentication.kubernetes.io/pod-name"] == ["p"]
    await client.delete(pods, "p", namespace, grace_period=0)

    def gone() -> bool:
        return whoami(apiserver, anonymous_ctx(), token)[0] == 401
    procs.wait_for(gone, 30, what="the bound token to stop working")


@pytest.mark.parametrize("header", ["Basic YWRtaW46YWRtaW4=", "Bearer", "Bearer not-a-known-token"])
def test_other_authorization_headers_are_401(apiserver: ApiServerProcess, namespace: str, header: str) -> None:
    name = "deny-" + uuid.uuid4().hex[:6]
    req = urllib.request.Request(apiserver.url + f"/api/v1/namespaces/{namespace}/configmaps", method="POST",
                                 data=json.dumps(cm_body(name)).encode(),
                                 headers={"Content-Type": "application/json", "Authorization": header})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                         urllib.request.HTTPSHandler(context=anonymous_ctx()))
    with pytest.raises(urllib.error.HTTPError) as e:
        opener.open(req, timeout=10)
    assert e.value.code == 401 and json.loads(e.value.read())["reason"] == "Unauthorized"
    assert http(apiserver, "GET", f"/api/v1/namespaces/{namespace}/configmaps/{name}", check=False)[0] == 404


async def test_bootstrap_token_until_deleted_or_expired(apiserver: ApiServerProcess, client: rest.Client,
                                                        namespace: str) -> None:
    info = bootstrap.ClusterInfo(apiserver.url, "10.244.0.0/16")
    token = await bootstrap.create_token(client, info, test_pki().ca.cert_pem, ttl=3600)
    token_id = token.split(".")[0]
    status, body = whoami(apiserver, anonymous_ctx(), token)
    assert status == 201
    assert body["status"]["userInfo"] == {"username": f"system:bootstrap:{token_id}",
                                          "groups": ["system:bootstrappers", "system:authenticated"]}
    wrong = token[:-1] + ("0" if token[-1] != "0" else "1")
    assert_denied_and_nothing_written(apiserver, namespace, anonymous_ctx(), wrong)
    # Expired (the API server checks the date itself; the cleaner deletes the Secret later).
    expired = await bootstrap.create_token(client, info, test_pki().ca.cert_pem, ttl=1)
    procs.wait_for(lambda: whoami(apiserver, anonymous_ctx(), expired)[0] == 401, 10,
                   what="the 1-second token to expire")
    assert_denied_and_nothing_written(apiserver, namespace, anonymous_ctx(), expired)
    await bootstrap.delete_token(client, token_id)
    procs.wait_for(lambda: whoami(apiserver, anonymous_ctx(), token)[0] == 401, 10,
                   what="the deleted token to stop working")
    await bootstrap.delete_token(client, expired.split(".")[0])


# --- kubectl -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", KUBECTLS)
def test_kubectl_auth_whoami(apiserver: ApiServerProcess, version: str, tmp_path: pathlib.Path) -> None:
    binary = f"/usr/lib/google-cloud-sdk/bin/kubectl.{version}"
    kc = test_pki().write_kubeconfig(tmp_path / "kc", apiserver.url, "alice", ("team-a",))
    env = {"KUBECONFIG": kc, "HOME": str(tmp_path), "KUBECACHEDIR": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([binary, "auth", "whoami", "-o", "json"], capture_output=True, text=True, env=env,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    review = json.loads(done.stdout)
    assert review["kind"] == "SelfSubjectReview"
    assert review["status"]["userInfo"] == {"username": "alice", "groups": ["team-a", "system:authenticated"]}
    table = subprocess.run([binary, "auth", "whoami"], capture_output=True, text=True, env=env, timeout=60)
    assert table.returncode == 0 and "alice" in table.stdout and "team-a" in table.stdout, table


@pytest.mark.parametrize("version", KUBECTLS)
def test_kubectl_with_the_admin_kubeconfig_and_without(apiserver: ApiServerProcess, version: str,
                                                       tmp_path: pathlib.Path) -> None:
    binary = f"/usr/lib/google-cloud-sdk/bin/kubectl.{version}"
    env = {"KUBECONFIG": apiserver.kubeconfig, "HOME": str(tmp_path), "KUBECACHEDIR": str(tmp_path / "cache"),
           "PATH": "/usr/bin:/bin"}
    done = subprocess.run([binary, "get", "ns", "kube-system", "-o", "name"], capture_output=True, text=True,
                          env=env, timeout=60)
    assert (done.returncode, done.stdout) == (0, "namespace/kube-system\n"), done.stderr
    # The same server with the CA but a token nobody issued: kubectl's own 401 message.
    anon = test_pki().dir / f"anon-{version}.conf"
    kubeconfig.write_context(anon, "anon", apiserver.url, ca=test_pki().ca.cert_pem, token="not-a-token")
    denied = subprocess.run([binary, "get", "ns"], capture_output=True, text=True,
                            env={**env, "KUBECONFIG": str(anon)}, timeout=60)
    assert denied.returncode != 0
    assert "Unauthorized" in denied.stderr or "must be logged in" in denied.stderr, denied.stderr


def test_a_failed_certificate_falls_through_to_a_token(apiserver: ApiServerProcess, namespace: str) -> None:
    """As Kubernetes' union of authenticators: an expired certificate with a good token is the token's user."""
    ca = test_pki().ca
    key = pki.new_key()
    expired = pki.issue(ca.key, ca.cert, key.public_key(), pki.CertSpec("old", days=1),
                        pki.utcnow() - datetime.timedelta(days=10))
    ctx = cert_ctx(pki.cert_pem(expired), pki.key_pem(key))
    status, body = whoami(apiserver, ctx, sa_token())
    assert status == 201 and body["status"]["userInfo"]["username"] == "system:serviceaccount:default:robot"
    assert_denied_and_nothing_written(apiserver, namespace, ctx, "not-a-token")
