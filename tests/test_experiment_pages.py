"""Experiments on the page path (DESIGN 4c): the variation a visitor is in shapes the page and
is part of its key, so each variation is cached like any page; the visitor id reaches only
the GrowthBook SDK; red-flag pages are never enrolled; no variation changes the contract."""

from __future__ import annotations

import copy
import json

import pytest

from personalizer import create_app
from personalizer.experiments import Experiments
from tests.plugins import oracle
from tests.support import EXAMPLE_PROFILE, base_config

SWAP = {
    "features": {
        "offer": {
            "defaultValue": {},
            "rules": [
                {
                    "key": "swap-offer",
                    "seed": "swap-offer",
                    "hashAttribute": "id",
                    "hashVersion": 2,
                    "coverage": 1,
                    "weights": [0.5, 0.5],
                    "variations": [
                        {},
                        {
                            "offer": {
                                "replace": "posture-therapy-programme",
                                "with": "find-a-clinician",
                            },
                            "disable_plugins": ["symptom_pattern", "education"],
                        },
                    ],
                }
            ],
        }
    }
}
PROFILE = {**copy.deepcopy(EXAMPLE_PROFILE), "red_flags": []}


def with_visitor(visitor: str, body=PROFILE) -> dict:
    body = copy.deepcopy(body)
    body.setdefault("context", {})["visitor_id"] = visitor
    return body


@pytest.fixture(scope="module")
def payload_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("experiments") / "payload.json"
    path.write_text(json.dumps(SWAP))
    return path


@pytest.fixture(scope="module")
def sdk(payload_file):
    return Experiments.from_file(payload_file)


def visitors_in(sdk, variation: int, count: int = 2) -> list[str]:
    found = [
        f"visitor-{n}" for n in range(500) if sdk.assign(f"visitor-{n}")[0].variation == variation
    ]
    assert len(found) >= count
    return found[:count]


def test_the_variation_shapes_the_page_and_each_variation_is_cached_apart(payload_file, sdk):
    client = create_app(base_config(EXPERIMENTS_FILE=str(payload_file))).test_client()
    (a, b), (c, d) = visitors_in(sdk, 0), visitors_in(sdk, 1)
    control = client.post("/v1/pages", json=with_visitor(a))
    assert control.get_json()["experiments"] == [{"key": "swap-offer", "variation": 0, "value": {}}]
    assert "posture-therapy-programme" in [x["id"] for x in control.get_json()["blocks"]]
    assert client.post("/v1/pages", json=with_visitor(b)).headers["X-Cache"] == "hit"
    treated = client.post("/v1/pages", json=with_visitor(c))
    assert treated.headers["X-Cache"] == "miss"
    page = treated.get_json()
    ids = [x["id"] for x in page["blocks"]]
    assert "posture-therapy-programme" not in ids and "find-a-clinician" in ids
    assert page["experiments"][0]["variation"] == 1
    assert client.post("/v1/pages", json=with_visitor(d)).headers["X-Cache"] == "hit"
    without = client.post("/v1/pages", json=PROFILE).get_json()
    assert without["experiments"] == []


def test_a_variation_cannot_take_away_the_plugins_that_carry_safety(payload_file, sdk):
    """The treatment disables symptom_pattern (which vetoes by contraindication) and
    education: education sits out, symptom_pattern does not."""
    client = create_app(base_config(EXPERIMENTS_FILE=str(payload_file))).test_client()
    (visitor,) = visitors_in(sdk, 1, 1)
    body = with_visitor(visitor, {**PROFILE, "symptoms": {**PROFILE["symptoms"], "pain_score": 9}})
    page = client.post("/v1/pages?explain=1", json=body).get_json()
    plugins = {c["plugin"] for c in page["explain"]["candidates"]}
    assert "education" not in plugins and "symptom_pattern" in plugins
    catalog = client.application.extensions["personalizer"].engine.catalog
    oracle.assert_page(page, body, vetoed=oracle.vetoed_ids(body, catalog))


@pytest.mark.parametrize(
    "flags", [["unexplained_weight_loss"], ["fever"], ["saddle_numbness"]], ids=str
)
def test_pages_with_a_red_flag_are_never_enrolled(payload_file, sdk, flags):
    client = create_app(base_config(EXPERIMENTS_FILE=str(payload_file))).test_client()
    for visitor in visitors_in(sdk, 1, 3):
        body = with_visitor(visitor, {**PROFILE, "red_flags": flags})
        page = client.post("/v1/pages", json=body).get_json()
        assert page["experiments"] == []
    walked_less = with_visitor(
        visitor,
        {
            **PROFILE,
            "symptoms": {**PROFILE["symptoms"], "walking_tolerance_min": 5},
            "follow_up": {"previous_walking_tolerance_min": 30},
        },
    )
    assert client.post("/v1/pages", json=walked_less).get_json()["experiments"] == []


def test_a_clinic_page_keeps_the_partners_policy_whatever_the_variation(payload_file, sdk):
    client = create_app(base_config(EXPERIMENTS_FILE=str(payload_file))).test_client()
    for visitor in visitors_in(sdk, 0, 2) + visitors_in(sdk, 1, 2):
        body = with_visitor(visitor, {**PROFILE, "context": {"channel": "clinic"}})
        page = client.post("/v1/pages", json=body).get_json()
        assert not any(b.get("commercial") for b in page["blocks"])


def test_the_visitor_id_reaches_no_redis_key_no_cached_page_and_no_log_line(
    payload_file, sdk, redis_url, redis_prefix, redis_client, caplog
):
    app = create_app(
        base_config(
            EXPERIMENTS_FILE=str(payload_file), REDIS_URL=redis_url, CACHE_PREFIX=redis_prefix
        )
    )
    client = app.test_client()
    visitors = visitors_in(sdk, 0, 3) + visitors_in(sdk, 1, 3)
    with caplog.at_level("DEBUG"):
        for visitor in visitors:
            assert client.post("/v1/pages", json=with_visitor(visitor)).status_code == 200
    keys = list(redis_client.scan_iter(f"{redis_prefix}*"))
    assert keys, "pages were cached"
    stored = b"".join(redis_client.get(k) or b"" for k in keys if redis_client.type(k) == b"string")
    for visitor in visitors:
        assert all(visitor.encode() not in key for key in keys)
        assert visitor.encode() not in stored
        assert visitor not in caplog.text
