"""Fixtures and Hypothesis profiles of the fuzz suite.

Profiles (MINIK8S_FUZZ_PROFILE):
- `ci` (the default): derandomized (the examples are a fixed function of the
  code, so every run sends the same requests), no example database, sized so
  the whole suite sends well over 2,000 requests in about two minutes on two cores;
- `explore`: random seeds (`--hypothesis-seed=N` repeats one) and ten times the
  examples, for hunting; a failure prints the seed and the shrunk example.
`MINIK8S_FUZZ_SCALE` multiplies the examples of either profile.
"""
from __future__ import annotations

import collections
import os
import time
from typing import Any, AsyncIterator, Iterator

import pytest
from hypothesis import HealthCheck
from hypothesis import settings

from tests.conftest import ApiServerProcess, http
from tests.fuzz import harness

SCALE = float(os.environ.get("MINIK8S_FUZZ_SCALE", "1"))
_COMMON: dict[str, Any] = dict(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
                           HealthCheck.function_scoped_fixture, HealthCheck.large_base_example],
    print_blob=True,
)
settings.register_profile("ci", derandomize=True, database=None, **_COMMON)
settings.register_profile("explore", derandomize=False, **_COMMON)
PROFILE = os.environ.get("MINIK8S_FUZZ_PROFILE", "ci")


_ELAPSED = [0.0]


@pytest.fixture(autouse=True)
def _timed() -> Iterator[None]:
    start = time.monotonic()
    yield
    _ELAPSED[0] += time.monotonic() - start


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The run's size: what the issue asks of it is at least 2,000 generated requests."""
    sent = harness.SESSION
    if not sent:
        return
    generated = sum(n for key, n in sent.items() if key != ("-", "-"))
    kinds = {kind for kind, _ in sent if kind != "-"}
    verbs: collections.Counter[str] = collections.Counter()
    for (_, verb), n in sent.items():
        if verb != "-":
            verbs[verb] += n
    terminalreporter.write_line(
        f"fuzz ({PROFILE} profile): {generated} generated requests ({sum(sent.values())} with seeds, re-reads "
        f"and clean-up) over {len(kinds)} kinds in {_ELAPSED[0]:.0f}s; by verb: "
        + ", ".join(f"{v} {n}" for v, n in sorted(verbs.items())))


def examples(n: int) -> int:
    """The number of examples a test runs under the current profile."""
    return max(1, int(n * SCALE * (10 if PROFILE == "explore" else 1)))


def fuzz_settings(n: int) -> settings:
    return settings(settings.get_profile(PROFILE), max_examples=examples(n))


@pytest.fixture
async def api(apiserver: ApiServerProcess, client: Any) -> AsyncIterator[harness.Api]:
    """The fuzz client; afterwards the server must still be up, ready and have logged no traceback."""
    a = harness.Api(client, apiserver.log_file)
    yield a
    assert apiserver.proc.poll() is None, f"the API server exited:\n{a.new_log()[-4000:]}"
    status, body = http(apiserver, "GET", "/readyz", check=False)
    assert status == 200, f"/readyz: {status} {body}"
    logged = a.new_log()
    assert "Traceback" not in logged, logged[-6000:]
    print(f"\n{a.total} requests: " + ", ".join(f"{k} {v} {n}" for (k, v), n in sorted(a.counts.items())))
