"""/readyz reflects etcd: a check named etcd, failing within its deadline when etcd does not
answer (stopped, or frozen), listed with ?verbose as kube-apiserver lists its checks."""
from __future__ import annotations

import pathlib
import urllib.error

from minik8s.api import identities
from minik8s.util import procs
from tests import conftest
from tests.conftest import ApiServerProcess, start_apiserver


def get(server: ApiServerProcess, path: str, user: str | None = None) -> tuple[int, str]:
    # The client's own timeout is only a backstop: a hung check would fail the test here.
    try:
        # Anonymous by default: /readyz, /livez and /healthz themselves are readable without
        # credentials (system:public-info-viewer; HTTPS, the test CA). A single check
        # (/readyz/etcd) is not: like kube-apiserver, only system:monitoring's paths cover it.
        with conftest.opener(user).open(server.url + path, timeout=15) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


ADMIN = identities.ADMIN


def test_readyz_follows_etcd(tmp_path: pathlib.Path) -> None:
    etcd = procs.EtcdProcess(str(tmp_path / "etcd")).start()
    server = start_apiserver(tmp_path, etcd, extra=["--etcd-readycheck-timeout", "1"])
    try:
        assert get(server, "/readyz") == (200, "ok")
        status, body = get(server, "/readyz?verbose")
        assert status == 200
        assert body.splitlines() == ["[+]ping ok", "[+]etcd ok", "[+]shutdown ok", "readyz check passed"]
        assert get(server, "/readyz/etcd")[0] == 403
        assert get(server, "/readyz/etcd", ADMIN) == (200, "ok")
        assert get(server, "/readyz/nosuchcheck", ADMIN)[0] == 404
        assert get(server, "/livez") == (200, "ok")

        # Frozen etcd: the connection is open but nothing answers; the check's deadline fails it.
        assert etcd.proc is not None
        etcd.pause()
        try:
            status, body = get(server, "/readyz")
            assert status == 500
            assert "[-]etcd failed: reason withheld" in body and "[+]ping ok" in body
            assert body.endswith("readyz check failed\n")
            status, body = get(server, "/readyz/etcd", ADMIN)
            assert status == 500 and "etcd did not answer within 1s" in body
            # Excluding the etcd check leaves the others, which pass.
            status, body = get(server, "/readyz?exclude=etcd&verbose")
            assert status == 200 and "[+]etcd excluded: ok" in body, body
            assert get(server, "/livez") == (200, "ok")  # alive, just not ready
        finally:
            etcd.resume()
        procs.wait_for(lambda: get(server, "/readyz") == (200, "ok"), 30, what="ready again after SIGCONT")

        # Stopped etcd: connection refused.
        etcd.stop()
        procs.wait_for(lambda: get(server, "/readyz")[0] == 500, 30, what="not ready without etcd")
        assert "[-]etcd failed" in get(server, "/readyz?verbose")[1]
        etcd.start()
        procs.wait_for(lambda: get(server, "/readyz") == (200, "ok"), 60, what="ready again with etcd back")
    finally:
        server.stop()
        etcd.stop()
