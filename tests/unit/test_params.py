"""Strict query parameters and continue tokens (minik8s/apiserver/params.py), as kube-apiserver reads them."""
from __future__ import annotations

import base64
import json

import pytest

from minik8s.api import errors
from minik8s.apiserver import params


def bad(fn: object, *args: object, **kw: object) -> errors.StatusError:
    with pytest.raises(errors.StatusError) as info:
        fn(*args, **kw)  # type: ignore[operator]
    return info.value


@pytest.mark.parametrize("value, expected", [
    ("true", True), ("True", True), ("TRUE", True), ("1", True), ("t", True), ("", True),
    ("false", False), ("False", False), ("0", False), ("f", False)])
def test_booleans_as_strconv_parsebool(value: str, expected: bool) -> None:
    assert params.parse_bool({"watch": value}, "watch") is expected


@pytest.mark.parametrize("value", ["maybe", "yes", "2", "tru", " true"])
def test_a_malformed_boolean_is_a_400_naming_the_parameter(value: str) -> None:
    err = bad(params.parse_bool, {"allowWatchBookmarks": value}, "allowWatchBookmarks")
    assert err.code == 400 and err.message.startswith("allowWatchBookmarks: Invalid value")
    assert err.details["causes"][0]["field"] == "allowWatchBookmarks"


def test_integers() -> None:
    assert params.parse_int({"limit": "500"}, "limit") == 500
    assert params.parse_int({"limit": " 7 "}, "limit") == 7
    assert params.parse_int({"limit": ""}, "limit") is None
    assert params.parse_int({}, "limit") is None
    assert params.parse_int({"gracePeriodSeconds": "-3"}, "gracePeriodSeconds") == -3
    for value in ("abc", "1.5", "1e3", "1_000", "٣", str(2 ** 63)):
        err = bad(params.parse_int, {"limit": value}, "limit")
        assert err.code == 400 and "limit" in err.message


def test_resource_versions_are_unsigned_integers() -> None:
    assert params.parse_resource_version({"resourceVersion": "42"}) == "42"
    assert params.parse_resource_version({}) == ""
    for value in ("abc", "-1", "+1", "1.0", str(2 ** 64)):
        assert bad(params.parse_resource_version, {"resourceVersion": value}).code == 400


@pytest.mark.parametrize("value", ["32s", "1m30s", "500ms", "1h", "0", "1.5s", "2us", "2µs"])
def test_go_durations_for_timeout(value: str) -> None:
    params.parse_common({"timeout": value})


@pytest.mark.parametrize("value", ["abc", "32", "s", "1d", "1 s"])
def test_a_timeout_that_is_no_duration_is_a_400(value: str) -> None:
    assert bad(params.parse_common, {"timeout": value}).code == 400


def test_pretty() -> None:
    assert params.parse_common({"pretty": "true"}) is True
    assert params.parse_common({}) is False
    assert bad(params.parse_common, {"pretty": "very"}).code == 400


# -- ListOptions validation (ValidateListOptions) ------------------------------------------


def list_opts(**query: str) -> params.ListOptions:
    return params.parse_list_options(query, "pods")


def test_list_options_defaults() -> None:
    opts = list_opts()
    assert not opts.watch and opts.limit == 0 and opts.resource_version == "" and not opts.paging


def test_resource_version_match_rules_for_lists() -> None:
    assert list_opts(resourceVersion="5", resourceVersionMatch="Exact").resource_version_match == "Exact"
    assert list_opts(resourceVersion="0", resourceVersionMatch="NotOlderThan").resource_version == "0"
    err = bad(list_opts, resourceVersionMatch="NotOlderThan")
    assert err.code == 422 and err.details["kind"] == "ListOptions" and err.details["group"] == "meta.k8s.io"
    assert "forbidden unless resourceVersion is provided" in err.message
    err = bad(list_opts, resourceVersion="5", resourceVersionMatch="Bogus")
    assert err.message == ('ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Unsupported value: '
                           '"Bogus": supported values: "Exact", "NotOlderThan", ""')
    assert "is forbidden for resourceVersion" in bad(list_opts, resourceVersion="0",
                                                       resourceVersionMatch="Exact").message
    assert "forbidden when continue is provided" in bad(list_opts, resourceVersion="1",
                                                          resourceVersionMatch="Exact", **{"continue": "x"}).message
    assert "sendInitialEvents is forbidden for list" in bad(list_opts, sendInitialEvents="true").message


def test_resource_version_match_rules_for_watches() -> None:
    opts = list_opts(watch="true", sendInitialEvents="true", resourceVersionMatch="NotOlderThan",
                     allowWatchBookmarks="true")
    assert opts.watch and opts.send_initial_events is True and opts.allow_watch_bookmarks
    assert "forbidden for watch unless sendInitialEvents" in bad(
        list_opts, watch="true", resourceVersionMatch="NotOlderThan").message
    assert "requires setting resourceVersionMatch to NotOlderThan" in bad(
        list_opts, watch="true", sendInitialEvents="true").message
    err = bad(list_opts, watch="1", sendInitialEvents="false", resourceVersionMatch="Exact")
    assert 'Unsupported value: "Exact": supported values: "NotOlderThan"' in err.message


def test_selectors_stay_strict() -> None:
    assert bad(list_opts, labelSelector="a in (").code == 400
    assert bad(list_opts, fieldSelector="spec.nothing=1").code == 400


# -- continue tokens -----------------------------------------------------------------------------


def test_continue_token_round_trip_is_kubernetes_encoding() -> None:
    token = params.encode_continue("default/web-1\x00", 42)
    assert "=" not in token
    raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    assert raw == {"v": "meta.k8s.io/v1", "rv": 42, "start": "default/web-1\x00"}
    assert params.decode_continue(token) == params.Continue("default/web-1\x00", 42)
    assert params.decode_continue(params.encode_continue("x\x00", -1)).revision == -1


def _token(doc: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(doc).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize("token", [
    "garbage", "%%%", "abc=", "a",
    _token([1, 2]),
    _token({"v": "meta.k8s.io/v2", "rv": 1, "start": "a"}),
    _token({"v": "meta.k8s.io/v1", "rv": 0, "start": "a"}),
    _token({"v": "meta.k8s.io/v1", "rv": 1, "start": ""}),
    _token({"v": "meta.k8s.io/v1", "rv": "1", "start": "a"}),
    _token({"v": "meta.k8s.io/v1", "rv": 1.5, "start": "a"}),
    _token({"v": "meta.k8s.io/v1", "rv": 1, "start": "../other/a"}),
    _token({"v": "meta.k8s.io/v1", "rv": 1, "start": "a/../../b"}),
    _token({"v": "meta.k8s.io/v1", "rv": 1, "start": "a//b"}),
])
def test_a_bad_continue_token_is_a_400(token: str) -> None:
    err = bad(params.decode_continue, token)
    assert err.code == 400 and err.message.startswith("invalid continue token")


# -- paths ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["..", ".", "a/b", "50%", "%2e"])
def test_path_segments_that_name_nothing(value: str) -> None:
    err = bad(params.check_path_segment, "Namespace", value)
    assert err.code == 400 and err.message.startswith("Namespace parameter invalid")


@pytest.mark.parametrize("value", ["default", "a.b", "...", "x..y", "UPPER"])
def test_path_segments_that_may_name_something(value: str) -> None:
    params.check_path_segment("Name", value)


# -- write and delete options -----------------------------------------------------------------------


def test_dry_run_only_all() -> None:
    assert params.parse_write_options({"dryRun": "All"}, "CreateOptions").dry_run
    assert not params.parse_write_options({}, "CreateOptions").dry_run
    err = bad(params.parse_write_options, {"dryRun": "Some"}, "UpdateOptions")
    assert err.code == 422
    assert err.message == ('UpdateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: '
                           '[]string{"Some"}: supported values: "All"')


def test_delete_options_from_query() -> None:
    opts = params.parse_delete_options({"gracePeriodSeconds": "0", "propagationPolicy": "Foreground"}, None)
    assert opts.options == {"gracePeriodSeconds": 0, "propagationPolicy": "Foreground"} and not opts.dry_run
    assert params.parse_delete_options({"gracePeriodSeconds": "-5"}, None).options["gracePeriodSeconds"] == 1
    assert params.parse_delete_options({"dryRun": "All"}, None).dry_run
    assert bad(params.parse_delete_options, {"gracePeriodSeconds": "soon"}, None).code == 400
    err = bad(params.parse_delete_options, {"propagationPolicy": "Sideways"}, None)
    assert err.code == 422 and 'supported values: "Foreground", "Background", "Orphan", "nil"' in err.message
    err = bad(params.parse_delete_options, {"propagationPolicy": "Orphan", "orphanDependents": "true"}, None)
    assert "cannot be both set" in err.message


def test_a_delete_body_replaces_the_query_and_is_type_checked() -> None:
    opts = params.parse_delete_options({"gracePeriodSeconds": "7"},
                                       {"kind": "DeleteOptions", "propagationPolicy": "Background",
                                        "dryRun": ["All"]})
    assert opts.options == {"propagationPolicy": "Background"} and opts.dry_run
    for body in ({"gracePeriodSeconds": "5"}, {"gracePeriodSeconds": 1.5}, {"orphanDependents": "yes"},
                 {"dryRun": "All"}, {"preconditions": {"uid": 5}}, {"kind": "Pod"}, [1]):
        assert bad(params.parse_delete_options, {}, body).code == 400


def test_delete_query_is_strict_beside_a_body() -> None:
    """kubectl sends DeleteOptions in the body; a query beside it is still parsed strictly,
    and its dry run is never turned into a real delete."""
    assert bad(params.parse_delete_options, {"dryRun": "0"}, {"dryRun": []}).code == 422
    assert bad(params.parse_delete_options, {"gracePeriodSeconds": "soon"}, {}).code == 400
    assert params.parse_delete_options({"dryRun": "All"}, {"gracePeriodSeconds": 0}).dry_run
    assert params.parse_delete_options({"gracePeriodSeconds": "5"}, {"gracePeriodSeconds": 0}).options == \
        {"gracePeriodSeconds": 0}
