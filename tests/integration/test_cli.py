"""The `minik8s` kubectl verbs against the real API server, side by side with the real kubectl.

Most commands run in-process (click's CliRunner, in a worker thread so that their
asyncio.run stays away from the session's event loop); the watch and the
"never a traceback" checks run `python -m minik8s` as a subprocess.
"""
from __future__ import annotations

import concurrent.futures
import json
import os
import pathlib
import queue
import re
import subprocess
import sys
import threading
import uuid
from typing import Any, Iterator

import pytest
import yaml
from click.testing import CliRunner, Result

import minik8s.cli.kubectl.verbs  # noqa: F401  (registers the verbs on `cli`)
from minik8s.cli.main import cli
from tests.conftest import REPO, ApiServerProcess, http, kubectl, test_pki

POD = """
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  labels: {{app: {app}}}
spec:
  containers:
  - name: main
    image: minik8s/busybox:1
    command: ["sleep", "3600"]
"""

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {{app: web, tier: {tier}}}
spec:
  replicas: 2
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
      - name: web
        image: {image}
        ports:
        - containerPort: 80
"""

SERVICE = """
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - port: 80
    targetPort: 8080
"""

AGE = re.compile(r"(?<!\S)(\d+[smhdy])+(?!\S)")


def run(apiserver: ApiServerProcess, *args: str, input: str | None = None, env: dict[str, str] | None = None
        ) -> Result:
    """`minik8s ARGS` in-process; fails the test on a traceback."""
    def invoke() -> Result:
        return CliRunner().invoke(cli, list(args), input=input,
                                  env={"KUBECONFIG": apiserver.kubeconfig, **(env or {})})

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        result = pool.submit(invoke).result(timeout=120)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"minik8s {' '.join(args)} raised") from result.exception
    return result


def ok(apiserver: ApiServerProcess, *args: str, input: str | None = None) -> str:
    result = run(apiserver, *args, input=input)
    assert result.exit_code == 0, f"minik8s {' '.join(args)}: {result.stdout}{result.stderr}"
    return result.stdout


def write(tmp_path: pathlib.Path, name: str, text: str) -> str:
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def same_output(ours: str, theirs: str) -> None:
    """Identical text, except that an AGE may have ticked between the two commands."""
    if ours == theirs:
        return
    assert [AGE.sub("<age>", re.sub(r" +", " ", line)) for line in ours.splitlines()] == \
        [AGE.sub("<age>", re.sub(r" +", " ", line)) for line in theirs.splitlines()], f"ours:\n{ours}\nkubectl:\n{theirs}"


@pytest.fixture
def twin(apiserver: ApiServerProcess) -> Iterator[str]:
    """A second fresh namespace, where the real kubectl does the same as we do."""
    name = "t-" + uuid.uuid4().hex[:8]
    http(apiserver, "POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    yield name
    http(apiserver, "DELETE", f"/api/v1/namespaces/{name}", check=False)


# ---------------------------------------------------------------------------
# get
# ---------------------------------------------------------------------------


def test_get_prints_what_kubectl_prints(apiserver: ApiServerProcess, namespace: str, tmp_path: pathlib.Path) -> None:
    for name, app in (("alpha", "a"), ("beta-with-a-longer-name", "b")):
        assert ok(apiserver, "create", "-n", namespace, "-f", write(tmp_path, f"{name}.yaml", POD.format(name=name, app=app))) \
            == f"pod/{name} created\n"
    assert ok(apiserver, "create", "-n", namespace, "-f", write(tmp_path, "svc.yaml", SERVICE)) == "service/web created\n"
    for args in (["get", "pods"], ["get", "pods", "-o", "wide"], ["get", "po", "--show-labels"],
                 ["get", "pods", "--no-headers"], ["get", "pods", "-o", "name"], ["get", "pods", "-o", "yaml"],
                 ["get", "pods", "-o", "json"], ["get", "pod", "alpha", "-o", "yaml"], ["get", "pod/alpha", "-o", "json"],
                 ["get", "pods", "alpha", "beta-with-a-longer-name"], ["get", "pods,svc"], ["get", "svc", "-o", "wide"],
                 ["get", "all"], ["get", "all", "-o", "name"], ["get", "pods", "-l", "app=a"],
                 ["get", "pods", "-l", "app in (a,b),app!=b", "-o", "name"],
                 ["get", "pods", "--field-selector", "metadata.name=beta-with-a-longer-name"],
                 ["get", "pods", "-l", "app=nothing", "-o", "yaml"], ["get", "ns", namespace]):
        ours = run(apiserver, *args, "-n", namespace)
        theirs = kubectl(apiserver, *args, "-n", namespace, check=False)
        assert ours.exit_code == theirs.returncode == 0, args
        same_output(ours.stdout, theirs.stdout)
        assert ours.stderr == theirs.stderr


def test_get_all_namespaces_adds_the_namespace_column(apiserver: ApiServerProcess, namespace: str,
                                                      tmp_path: pathlib.Path) -> None:
    ok(apiserver, "create", "-n", namespace, "-f", write(tmp_path, "p.yaml", POD.format(name="x", app="a")))
    ours = ok(apiserver, "get", "pods", "-A", "-o", "wide", "--show-labels").splitlines()
    assert ours[0].split() == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED",
                               "NODE", "READINESS", "GATES", "LABELS"]
    assert [line.split()[:4] for line in ours if line.split()[1] == "x" and line.startswith(namespace)] == \
        [[namespace, "x", "0/1", "Pending"]]
    assert ours[1:] and all(line.split()[-1] for line in ours[1:])


def test_get_nothing_and_missing_objects(apiserver: ApiServerProcess, namespace: str) -> None:
    for args in (["get", "pods"], ["get", "all"], ["get", "pods", "zz"], ["get", "pods", "zz", "-o", "json"],
                 ["get", "pods", "zz", "--ignore-not-found"], ["get", "pods", "zz", "-o", "yaml", "--ignore-not-found"],
                 ["get", "nodes", "-l", "nothing=here"]):
        ours = run(apiserver, *args, "-n", namespace)
        theirs = kubectl(apiserver, *args, "-n", namespace, check=False)
        assert (ours.exit_code, ours.stdout, ours.stderr) == (theirs.returncode, theirs.stdout, theirs.stderr), args
    missing = run(apiserver, "get", "pods", "zz", "-n", namespace)
    assert (missing.exit_code, missing.stderr) == (1, 'Error from server (NotFound): pods "zz" not found\n')


def test_watch_prints_a_row_per_change_aligned_with_the_first_table(apiserver: ApiServerProcess, namespace: str,
                                                                   tmp_path: pathlib.Path) -> None:
    http(apiserver, "POST", f"/api/v1/namespaces/{namespace}/pods", yaml.safe_load(POD.format(name="a", app="a")))
    proc = subprocess.Popen([sys.executable, "-m", "minik8s", "get", "pods", "-w", "-n", namespace],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(REPO),
                            env={**os.environ, "KUBECONFIG": apiserver.kubeconfig})
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout or []], daemon=True).start()
    try:
        header = lines.get(timeout=30)
        assert header.split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
        assert lines.get(timeout=30).split()[:3] == ["a", "0/1", "Pending"]
        # Changes after the listed resourceVersion come as rows, even before the watch connects.
        long_name = "b-pod-with-a-much-longer-name"
        http(apiserver, "POST", f"/api/v1/namespaces/{namespace}/pods",
             yaml.safe_load(POD.format(name=long_name, app="b")))
        added = lines.get(timeout=30)
        assert added.split()[:3] == [long_name, "0/1", "Pending"]
        http(apiserver, "PATCH", f"/api/v1/namespaces/{namespace}/pods/a", {"metadata": {"labels": {"x": "y"}}},
             content_type="application/merge-patch+json")
        modified = lines.get(timeout=30)
        assert modified.split()[:3] == ["a", "0/1", "Pending"]
        # The first table set the widths; the long name widened the first column for later rows.
        assert header.index("READY") == 7
        assert added.index("0/1") == len(long_name) + 3 == modified.index("0/1")
    finally:
        proc.kill()
        proc.wait(timeout=10)
    assert "Traceback" not in (proc.stderr.read() if proc.stderr else "")


# ---------------------------------------------------------------------------
# describe
# ---------------------------------------------------------------------------


def test_describe_matches_kubectl(apiserver: ApiServerProcess, namespace: str, tmp_path: pathlib.Path) -> None:
    ok(apiserver, "create", "-n", namespace, "-f", write(tmp_path, "p.yaml", POD.format(name="x", app="a")),
       "-f", write(tmp_path, "d.yaml", DEPLOYMENT.format(image="minik8s/web:1", tier="fe")),
       "-f", write(tmp_path, "s.yaml", SERVICE))
    pod = http(apiserver, "GET", f"/api/v1/namespaces/{namespace}/pods/x")[1]
    http(apiserver, "POST", f"/api/v1/namespaces/{namespace}/events", {
        "apiVersion": "v1", "kind": "Event", "metadata": {"name": "x.1"}, "type": "Warning",
        "reason": "FailedScheduling", "message": "0/0 nodes are available", "count": 1,
        "involvedObject": {"kind": "Pod", "name": "x", "namespace": namespace, "uid": pod["metadata"]["uid"]},
        "firstTimestamp": pod["metadata"]["creationTimestamp"], "lastTimestamp": pod["metadata"]["creationTimestamp"],
        "source": {"component": "default-scheduler"}})
    # One key: kubectl 1.32 lists a ConfigMap's data in Go's random map order (minik8s sorts).
    ok(apiserver, "apply", "-n", namespace, "-f", "-", input=(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {mode: fast}\n---\n"
        "apiVersion: v1\nkind: Secret\nmetadata: {name: creds}\ntype: Opaque\ndata: {password: aHVudGVyMg==}\n"))
    for args in (["describe", "pod", "x"], ["describe", "pods"], ["describe", "deployment", "web"],
                 ["describe", "svc", "web"], ["describe", "ns", namespace], ["describe", "pod", "zz"],
                 ["describe", "cm,secret"]):
        ours = run(apiserver, *args, "-n", namespace)
        theirs = kubectl(apiserver, *args, "-n", namespace, check=False)
        assert ours.exit_code == theirs.returncode, args
        same_output(ours.stdout, theirs.stdout)
        assert ours.stderr == theirs.stderr
    text = ok(apiserver, "describe", "pod", "x", "-n", namespace)
    assert "Events:\n  Type     Reason            Age" in text and "0/0 nodes are available" in text


# ---------------------------------------------------------------------------
# apply / create
# ---------------------------------------------------------------------------


def last_applied(apiserver: ApiServerProcess, namespace: str, path: str) -> dict[str, Any]:
    obj = http(apiserver, "GET", path.format(ns=namespace))[1]
    return json.loads(obj["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"])


def test_apply_creates_configures_and_leaves_unchanged(apiserver: ApiServerProcess, namespace: str, twin: str,
                                                       tmp_path: pathlib.Path) -> None:
    path = "/apis/apps/v1/namespaces/{ns}/deployments/web"
    v1 = write(tmp_path, "v1.yaml", DEPLOYMENT.format(image="minik8s/web:1", tier="fe"))
    assert ok(apiserver, "apply", "-n", namespace, "-f", v1) == "deployment.apps/web created\n"
    assert ok(apiserver, "apply", "-n", namespace, "-f", v1) == "deployment.apps/web unchanged\n"
    kubectl(apiserver, "apply", "-n", twin, "-f", v1)
    raw = http(apiserver, "GET", path.format(ns=namespace))[1]["metadata"]["annotations"]
    twin_raw = http(apiserver, "GET", path.format(ns=twin))[1]["metadata"]["annotations"]
    key = "kubectl.kubernetes.io/last-applied-configuration"
    assert raw[key] == twin_raw[key].replace(f'"namespace":"{twin}"', f'"namespace":"{namespace}"')

    v2 = write(tmp_path, "v2.yaml", DEPLOYMENT.format(image="minik8s/web:2", tier="fe").replace(
        "labels: {app: web, tier: fe}", "labels: {app: web}"))
    assert ok(apiserver, "apply", "-n", namespace, "-f", v2) == "deployment.apps/web configured\n"
    kubectl(apiserver, "apply", "-n", twin, "-f", v2)
    ours = http(apiserver, "GET", path.format(ns=namespace))[1]
    theirs = http(apiserver, "GET", path.format(ns=twin))[1]
    assert ours["spec"]["template"]["spec"]["containers"][0]["image"] == "minik8s/web:2"
    assert ours["metadata"]["labels"] == {"app": "web"}  # dropped from the file → removed
    assert ours["spec"] == theirs["spec"]
    assert last_applied(apiserver, namespace, path)["metadata"]["labels"] == {"app": "web"}
    assert ok(apiserver, "apply", "-n", namespace, "-f", v2) == "deployment.apps/web unchanged\n"


def test_apply_takes_directories_stdin_and_lists(apiserver: ApiServerProcess, namespace: str,
                                                 tmp_path: pathlib.Path) -> None:
    d = tmp_path / "dir"
    d.mkdir()
    write(d, "1-pods.yaml", POD.format(name="a", app="a") + "---\n" + POD.format(name="b", app="b"))
    write(d, "2-svc.json", json.dumps({"apiVersion": "v1", "kind": "List", "items": [yaml.safe_load(SERVICE)]}))
    write(d, "README.md", "not a manifest")
    assert ok(apiserver, "apply", "-n", namespace, "-f", str(d)) == "pod/a created\npod/b created\nservice/web created\n"
    assert ok(apiserver, "apply", "-n", namespace, "-f", "-", input=POD.format(name="a", app="a")) == "pod/a unchanged\n"
    changed = POD.format(name="a", app="a").replace("minik8s/busybox:1", "minik8s/busybox:2")
    assert ok(apiserver, "apply", "-n", namespace, "-f", "-", input=changed) == "pod/a configured\n"
    assert http(apiserver, "GET", f"/api/v1/namespaces/{namespace}/pods/a")[1]["spec"]["containers"][0]["image"] == \
        "minik8s/busybox:2"


def test_apply_to_an_object_made_by_create_warns_once(apiserver: ApiServerProcess, namespace: str,
                                                      tmp_path: pathlib.Path) -> None:
    f = write(tmp_path, "p.yaml", POD.format(name="x", app="a"))
    ok(apiserver, "create", "-n", namespace, "-f", f)
    first = run(apiserver, "apply", "-n", namespace, "-f", f)
    assert first.exit_code == 0 and first.stdout == "pod/x configured\n"
    assert first.stderr.startswith("Warning: resource pods/x is missing the "
                                   "kubectl.kubernetes.io/last-applied-configuration annotation")
    second = run(apiserver, "apply", "-n", namespace, "-f", f)
    assert (second.stdout, second.stderr) == ("pod/x unchanged\n", "")


def test_create_reports_existing_objects_and_goes_on(apiserver: ApiServerProcess, namespace: str,
                                                     tmp_path: pathlib.Path) -> None:
    ok(apiserver, "create", "-n", namespace, "-f", write(tmp_path, "a.yaml", POD.format(name="a", app="a")))
    both = write(tmp_path, "both.yaml", POD.format(name="a", app="a") + "---\n" + POD.format(name="b", app="b"))
    result = run(apiserver, "create", "-n", namespace, "-f", both)
    assert result.exit_code == 1
    assert result.stderr == f'Error from server (AlreadyExists): error when creating "{both}": pods "a" already exists\n'
    assert result.stdout == "pod/b created\n"
    theirs = kubectl(apiserver, "create", "-n", namespace, "-f", both, check=False)
    assert theirs.stderr.splitlines()[0] == result.stderr.splitlines()[0]


def test_namespace_in_the_file_must_match_an_explicit_one(apiserver: ApiServerProcess, namespace: str,
                                                         tmp_path: pathlib.Path) -> None:
    f = write(tmp_path, "p.yaml", POD.format(name="a", app="a").replace("name: a\n", "name: a\n  namespace: elsewhere\n"))
    result = run(apiserver, "apply", "-n", namespace, "-f", f)
    assert result.exit_code == 1
    assert result.stderr == ('error: the namespace from the provided object "elsewhere" does not match the namespace '
                             f'"{namespace}". You must pass \'--namespace=elsewhere\' to perform this operation.\n')


# ---------------------------------------------------------------------------
# delete, label, scale
# ---------------------------------------------------------------------------


def pod_names(apiserver: ApiServerProcess, namespace: str) -> list[str]:
    return sorted(p["metadata"]["name"] for p in http(apiserver, "GET", f"/api/v1/namespaces/{namespace}/pods")[1]["items"])


def test_delete_by_name_file_and_selector(apiserver: ApiServerProcess, namespace: str, tmp_path: pathlib.Path) -> None:
    files = {n: write(tmp_path, f"{n}.yaml", POD.format(name=n, app=app))
             for n, app in (("a", "x"), ("b", "x"), ("c", "y"), ("d", "y"))}
    for f in files.values():
        ok(apiserver, "create", "-n", namespace, "-f", f)
    assert ok(apiserver, "delete", "-n", namespace, "pod", "a") == 'pod "a" deleted\n'
    assert ok(apiserver, "delete", "-n", namespace, "-f", files["b"]) == 'pod "b" deleted\n'
    assert pod_names(apiserver, namespace) == ["c", "d"]
    assert ok(apiserver, "delete", "-n", namespace, "pods", "-l", "app=y") == 'pod "c" deleted\npod "d" deleted\n'
    assert pod_names(apiserver, namespace) == []
    assert ok(apiserver, "delete", "-n", namespace, "pods", "-l", "app=y") == "No resources found\n"
    missing = run(apiserver, "delete", "-n", namespace, "pod", "zz")
    assert (missing.exit_code, missing.stderr) == (1, 'Error from server (NotFound): pods "zz" not found\n')
    assert run(apiserver, "delete", "-n", namespace, "pod", "zz", "--ignore-not-found").exit_code == 0
    gone = run(apiserver, "delete", "-n", namespace, "-f", files["a"])
    assert gone.stderr == f'Error from server (NotFound): error when deleting "{files["a"]}": pods "a" not found\n'


def test_delete_cascade_sends_the_propagation_policy(apiserver: ApiServerProcess, namespace: str,
                                                     tmp_path: pathlib.Path) -> None:
    ok(apiserver, "create", "-n", namespace, "-f", write(tmp_path, "d.yaml", DEPLOYMENT.format(image="i:1", tier="a")))
    # No garbage collector runs here, so the orphan finalizer the server adds stays visible.
    assert ok(apiserver, "delete", "-n", namespace, "deploy", "web", "--cascade=orphan", "--wait=false") == \
        'deployment.apps "web" deleted\n'
    path = f"/apis/apps/v1/namespaces/{namespace}/deployments/web"
    assert http(apiserver, "GET", path)[1]["metadata"]["finalizers"] == ["orphan"]
    http(apiserver, "PATCH", path, {"metadata": {"finalizers": None}}, content_type="application/merge-patch+json")


def test_delete_waits_for_finalizers(apiserver: ApiServerProcess, namespace: str) -> None:
    pod = yaml.safe_load(POD.format(name="held", app="a"))
    pod["metadata"]["finalizers"] = ["example.com/hold"]
    http(apiserver, "POST", f"/api/v1/namespaces/{namespace}/pods", pod)
    timed_out = run(apiserver, "delete", "-n", namespace, "pod", "held", "--timeout=0.5")
    assert timed_out.exit_code == 1
    assert timed_out.stdout == 'pod "held" deleted\n'
    assert timed_out.stderr == "error: timed out waiting for the condition on pods/held\n"
    http(apiserver, "PATCH", f"/api/v1/namespaces/{namespace}/pods/held", {"metadata": {"finalizers": None}},
         content_type="application/merge-patch+json")
    assert pod_names(apiserver, namespace) == []


def test_label_add_overwrite_and_remove(apiserver: ApiServerProcess, namespace: str, tmp_path: pathlib.Path) -> None:
    ok(apiserver, "create", "-n", namespace, "-f", write(tmp_path, "p.yaml", POD.format(name="x", app="a")))

    def labels() -> dict[str, str]:
        return http(apiserver, "GET", f"/api/v1/namespaces/{namespace}/pods/x")[1]["metadata"]["labels"]

    assert ok(apiserver, "label", "-n", namespace, "pod", "x", "env=dev") == "pod/x labeled\n"
    assert labels() == {"app": "a", "env": "dev"}
    refused = run(apiserver, "label", "-n", namespace, "pod", "x", "env=prod")
    assert (refused.exit_code, refused.stderr) == (1, "error: 'env' already has a value (dev), and --overwrite is false\n")
    assert labels()["env"] == "dev"
    assert ok(apiserver, "label", "-n", namespace, "pod/x", "env=prod", "--overwrite") == "pod/x labeled\n"
    assert labels()["env"] == "prod"
    assert ok(apiserver, "label", "-n", namespace, "pods", "x", "env-") == "pod/x unlabeled\n"
    assert labels() == {"app": "a"}
    assert ok(apiserver, "label", "-n", namespace, "pods", "x", "nope-") == 'label "nope" not found.\npod/x not labeled\n'
    assert ok(apiserver, "label", "-n", namespace, "pods", "-l", "app=a", "sel=1") == "pod/x labeled\n"


def test_scale(apiserver: ApiServerProcess, namespace: str, tmp_path: pathlib.Path) -> None:
    ok(apiserver, "apply", "-n", namespace, "-f", write(tmp_path, "d.yaml", DEPLOYMENT.format(image="i:1", tier="a")),
       "-f", write(tmp_path, "p.yaml", POD.format(name="x", app="a")))
    assert ok(apiserver, "scale", "-n", namespace, "deploy/web", "--replicas=5") == "deployment.apps/web scaled\n"
    path = f"/apis/apps/v1/namespaces/{namespace}/deployments/web"
    assert http(apiserver, "GET", path)[1]["spec"]["replicas"] == 5
    stale = run(apiserver, "scale", "-n", namespace, "deployment", "web", "--replicas=1", "--current-replicas=2")
    assert (stale.exit_code, stale.stderr) == (1, "error: Expected replicas to be 2, was 5\n")
    assert http(apiserver, "GET", path)[1]["spec"]["replicas"] == 5
    pod = run(apiserver, "scale", "-n", namespace, "pod/x", "--replicas=2")
    assert pod.exit_code == 1 and pod.stderr.startswith('error: cannot scale pods "x"')


# ---------------------------------------------------------------------------
# Errors, configuration
# ---------------------------------------------------------------------------


def cli_subprocess(apiserver: ApiServerProcess, *args: str, env: dict[str, str] | None = None
                   ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "minik8s", *args], capture_output=True, text=True, timeout=60,
                          cwd=str(REPO), env={**os.environ, "KUBECONFIG": apiserver.kubeconfig, **(env or {})})


def test_errors_are_one_line_with_exit_code_1(apiserver: ApiServerProcess, namespace: str,
                                              tmp_path: pathlib.Path) -> None:
    bad = write(tmp_path, "bad.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: [x\n")
    cases = [
        (["apply", "-f", bad], f"error: error parsing {bad}: error converting YAML to JSON: yaml: line "),
        (["get", "foo"], 'error: the server doesn\'t have a resource type "foo"'),
        (["get", "pods", "zz", "-n", namespace], 'Error from server (NotFound): pods "zz" not found'),
        (["describe", "deploy", "zz", "-n", namespace], 'Error from server (NotFound): deployments.apps "zz" not found'),
        (["get", "pods", "--field-selector", "spec.bogus=1", "-n", namespace], "Error from server (BadRequest): "),
        (["get", "pods", "-s", "http://127.0.0.1:1"], "Error from server (ServiceUnavailable): cannot reach the API "
                                                     "server at http://127.0.0.1:1"),
    ]
    for args, start in cases:
        proc = cli_subprocess(apiserver, *args)
        assert proc.returncode == 1, (args, proc.stderr)
        assert proc.stderr.startswith(start), (args, proc.stderr)
        assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, (args, proc.stderr)
        assert proc.stdout == ""
    assert pod_names(apiserver, namespace) == []


def test_options_come_from_environment_and_config_file(apiserver: ApiServerProcess, namespace: str,
                                                       tmp_path: pathlib.Path) -> None:
    ok(apiserver, "create", "-n", namespace, "-f", write(tmp_path, "p.yaml", POD.format(name="x", app="a")))
    by_env = cli_subprocess(apiserver, "get", "pods", "-o", "name", env={"MINIK8S_GET_NAMESPACE": namespace})
    assert (by_env.returncode, by_env.stdout) == (0, "pod/x\n")
    config = write(tmp_path, "minik8s.yaml", yaml.safe_dump({"get": {"namespace": namespace, "output": "name"}}))
    by_file = cli_subprocess(apiserver, "--config", config, "get", "pods")
    assert (by_file.returncode, by_file.stdout) == (0, "pod/x\n")
    # --server replaces the kubeconfig's server; the CA and credentials still come from the kubeconfig.
    elsewhere = test_pki().write_kubeconfig(tmp_path / "elsewhere.conf", "https://127.0.0.1:1")
    by_server_flag = cli_subprocess(apiserver, "get", "pods", "-o", "name", "-n", namespace, "--server", apiserver.url,
                                    env={"KUBECONFIG": elsewhere})
    assert (by_server_flag.returncode, by_server_flag.stdout) == (0, "pod/x\n")
    # Without a kubeconfig there is no CA to trust the server with: refused, not trusted blindly.
    no_ca = cli_subprocess(apiserver, "get", "pods", "-n", namespace, "--server", apiserver.url,
                           env={"KUBECONFIG": str(tmp_path / "absent")})
    assert no_ca.returncode == 1 and "certificate verify failed" in no_ca.stderr, no_ca.stderr
