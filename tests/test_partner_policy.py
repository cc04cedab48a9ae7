"""A partner's policy on its pages (issue 14): dropping or replacing our "find a clinician",
its own care finders, and a brand colour readable on white or refused at start-up."""

from __future__ import annotations

import pytest
import yaml

from personalizer import create_app
from personalizer.partners import Registry, new_key
from tests.support import EXAMPLE_PROFILE, base_config

ORIGIN = "https://riverside.example"
ROUTINE = {**EXAMPLE_PROFILE, "red_flags": [], "context": {"channel": "web"}}
ASSESS = {**EXAMPLE_PROFILE, "context": {"channel": "web"}}  # unexplained weight loss


def partners_file(tmp_path, policy: dict):
    key, digest = new_key("sk")
    data = {
        "partners": [
            {
                "id": "riverside",
                "name": "Riverside",
                "secret_key_sha256": digest,
                "publishable_key_sha256": new_key("pk")[1],
                "allowed_origins": [ORIGIN],
                "policy": policy,
            }
        ]
    }
    path = tmp_path / "partners.yaml"
    path.write_text(yaml.safe_dump(data))
    return path, {"Authorization": f"Bearer {key}"}


def page(tmp_path, policy, body=ROUTINE):
    path, headers = partners_file(tmp_path, policy)
    client = create_app(base_config(PARTNERS_FILE=str(path))).test_client()
    response = client.post("/v1/pages", json=body, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def by_id(page_json: dict) -> dict:
    return {b["id"]: b for b in page_json["blocks"]}


def test_without_a_policy_our_find_a_clinician_shows(tmp_path):
    block = by_id(page(tmp_path, {}))["find-a-clinician"]
    assert block["owner"] == "ours" and block["href"].endswith("/find-a-clinician")


def test_a_partner_can_drop_find_a_clinician(tmp_path):
    shown = page(tmp_path, {"find_clinician": False})
    assert "find-a-clinician" not in by_id(shown)
    assessed = page(tmp_path, {"find_clinician": False}, ASSESS)
    assert all("find" not in a["label"].lower() for a in assessed["blocks"][0]["actions"])


def test_a_partner_can_replace_find_a_clinician_with_its_own(tmp_path):
    own = {"title": "See a Riverside physiotherapist", "href": f"{ORIGIN}/physio"}
    block = by_id(page(tmp_path, {"find_clinician": own}))["find-a-clinician"]
    assert (block["title"], block["href"], block["owner"]) == (own["title"], own["href"], "partner")
    assert block["commercial"] is False
    assessed = page(tmp_path, {"find_clinician": own}, ASSESS)
    assert {"kind": "link", "label": own["title"], "href": own["href"]} in assessed["blocks"][0][
        "actions"
    ]


def test_a_partners_own_care_finders_are_its_alerts_actions(tmp_path):
    urls = {
        "emergency_care_url": f"{ORIGIN}/emergency",
        "urgent_care_url": f"{ORIGIN}/same-day",
    }
    emergency = page(tmp_path, urls, {**ROUTINE, "red_flags": ["saddle_numbness"]})
    assert {
        "kind": "find_care",
        "label": "Find emergency care near you",
        "href": urls["emergency_care_url"],
    } in emergency["blocks"][0]["actions"]
    urgent = page(tmp_path, urls, {**ROUTINE, "red_flags": ["fever"]})
    assert urls["urgent_care_url"] in [a["href"] for a in urgent["blocks"][0]["actions"]]


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ({"brand_colour": "#ffd400"}, "contrast with white is 1.43:1"),
        ({"find_clinician": True}, "must be false, or a title and an href"),
        ({"find_clinician": {"title": "x", "href": "javascript:alert(1)"}}, "href must be"),
        ({"find_clinician": {"title": "x", "href": "//evil.example"}}, "href must be"),
        ({"emergency_care_url": "http://plain.example"}, "must be https"),
    ],
)
def test_a_policy_that_cannot_work_is_refused_at_start_up(tmp_path, policy, message):
    path, _ = partners_file(tmp_path, policy)
    with pytest.raises(Exception, match=message):
        Registry.load(path)
    with pytest.raises(Exception, match=message):
        create_app(base_config(PARTNERS_FILE=str(path)))


def test_a_dark_enough_brand_colour_is_kept(tmp_path):
    path, _ = partners_file(tmp_path, {"brand_colour": "#0a6e5c"})
    (partner,) = Registry.load(path).partners
    assert partner.policy["brand_colour"] == "#0a6e5c"
