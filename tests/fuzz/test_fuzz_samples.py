"""The seeds are valid: each kind's sample is accepted as it is and passes the oracle on re-read.

Without this, a seed that the server refuses would turn every mutation of it into a
rejected request, and the fuzzing would never reach the code behind validation.
"""
from __future__ import annotations

import orjson
import pytest

from minik8s.api import resources
from tests.fuzz import harness
from tests.fuzz import samples


@pytest.mark.parametrize("res", samples.kinds(), ids=lambda r: f"{r.group or 'core'}/{r.version}/{r.kind}")
async def test_sample_is_accepted_and_valid_on_reread(api: harness.Api, namespace: str,
                                                      res: resources.Resource) -> None:
    name = f"fz-sample-{res.plural[:12]}-{res.version}"
    body = samples.sample(res, name, namespace)
    created = await api.send("POST", harness.path_of(res, namespace), body=orjson.dumps(body),
                             content_type=harness.JSON)
    assert created.status == 201, str(created)
    if res.kind in samples.REVIEWS:
        assert "status" in created.body
        return
    try:
        assert await harness.reread(api, res, namespace, name, f"{res.kind} sample") is not None
    finally:
        await harness.purge(api, res, namespace, name)
