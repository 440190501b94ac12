"""The nftables mode's two real seams (libnftables in-process, nft(8) as the fallback)
keep one contract against the kernel, each in a network namespace of the test's own:
a transaction applies whole or not at all, the table check and the counter reads see
what is there. The proxy uses the library wherever it loads, so the fallback would
otherwise run only on a machine without it."""
from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import uuid
from typing import Iterator

import pytest

from minik8s.proxy import nft as nft_mod
from minik8s.proxy import nftables
from minik8s.proxy import rules
from minik8s.proxy import servicemap

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("nft") is None or not nft_mod.Lib.available(),
                                reason="needs root, nft(8) and libnftables")

CONFIG = rules.Config(cluster_cidr="10.244.0.0/16")
SEED = servicemap.ServicePortName("default", "vdata-imp-service", "", "TCP")
PORT = servicemap.ServicePort(SEED, "10.96.0.20", 80, 30001)
EPS = (servicemap.Endpoint("10.244.1.5", 80), servicemap.Endpoint("10.244.2.5", 80))


@pytest.fixture
def netns() -> Iterator[str]:
    name = f"minik8s-nftseam-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "delete", name], check=True)


def _seam(kind: str, netns: str) -> nft_mod.Lib | nft_mod.Real:
    if kind == "lib":
        return nft_mod.Lib(netns=f"/run/netns/{netns}")
    return nft_mod.Real(command_prefix=["ip", "netns", "exec", netns])


def _kernel_tables(netns: str) -> str:
    return subprocess.run(["ip", "netns", "exec", netns, "nft", "list", "tables"],
                          check=True, capture_output=True, text=True).stdout


@pytest.mark.parametrize("kind", ["lib", "nft"])
def test_apply_check_count_and_remove_in_the_kernel(kind: str, netns: str) -> None:
    seam = _seam(kind, netns)

    async def run() -> None:
        assert await seam.table_exists() is False
        assert await seam.counters() == {}
        full = nftables.build_full(nftables.desired([PORT], {SEED: EPS}, CONFIG), CONFIG, recreate=True)
        await seam.apply(full)
        assert await seam.table_exists() is True
        assert f"table {nftables.FAMILY} {nftables.TABLE}" in _kernel_tables(netns)
        # Every endpoint element has a counter, zero until traffic flows.
        assert await seam.counters() == {
            ("cluster-ip-endpoints-tcp", "10.96.0.20 . 80 . 0"): (0, 0),
            ("cluster-ip-endpoints-tcp", "10.96.0.20 . 80 . 1"): (0, 0),
            ("nodeport-endpoints-tcp", "30001 . 0"): (0, 0),
            ("nodeport-endpoints-tcp", "30001 . 1"): (0, 0),
        }
        # A transaction with a bad line applies nothing, not even its good lines first.
        bad = (f"add element {nftables.FAMILY} {nftables.TABLE} {nftables.SERVICE_NODEPORTS}"
               " { tcp . 30002 : goto nodeport-spread-2 }\nadd chain ip no-such-table c\n")
        with pytest.raises(nft_mod.NftError):
            await seam.apply(bad)
        listed = subprocess.run(["ip", "netns", "exec", netns, "nft", "list", "map", nftables.FAMILY,
                                 nftables.TABLE, nftables.SERVICE_NODEPORTS],
                                check=True, capture_output=True, text=True).stdout
        assert "30001" in listed and "30002" not in listed
        await seam.apply(nftables.build_cleanup())
        assert await seam.table_exists() is False
        assert await seam.counters() == {}
        assert nftables.TABLE not in _kernel_tables(netns)

    try:
        asyncio.run(run())
    finally:
        if isinstance(seam, nft_mod.Lib):
            seam.close()
