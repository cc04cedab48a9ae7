"""POST /v1/pages as the marketing site and a partner embed use it."""

import copy
import re

import pytest

from tests.support import EXAMPLE_PROFILE

ACTIONS = ("exercise", "cta")


def post(client, body, **kwargs):
    return client.post("/v1/pages", json=body, **kwargs)


def kinds(page):
    return [b["kind"] for b in page["blocks"]]


def test_design_example_profile(client):
    response = post(client, EXAMPLE_PROFILE)
    assert response.status_code == 200
    page = response.get_json()
    assert page["triage"]["level"] == "assess"
    assert page["triage"]["flags"] == ["unexplained_weight_loss"]
    first = page["blocks"][0]
    assert (first["kind"], first["id"], first["level"]) == ("alert", "get-assessed", "assess")
    assert "weight loss" in first["html"]
    first_action = min(kinds(page).index(k) for k in ACTIONS if k in kinds(page))
    assert "alert" in kinds(page)[:first_action]
    assert kinds(page).count("section") >= 1
    exercises = [b for b in page["blocks"] if b["kind"] == "exercise"]
    assert len(exercises) >= 3
    assert all(b["dose"] for b in exercises)
    assert kinds(page).count("cta") >= 1
    assert all(
        b["why"] and all(w["plugin"] and w["reason"] for w in b["why"]) for b in page["blocks"]
    )
    assert page["routine"]["minutes"] <= 15
    assert [i["id"] for i in page["routine"]["items"]] == [b["id"] for b in exercises]


def test_response_headers(client):
    response = post(client, EXAMPLE_PROFILE)
    assert response.headers["X-Cache"] == "miss"
    assert "Accept" in response.vary
    # the page's tag, then a tag of this request's follow-up object (added after the cache)
    assert re.fullmatch(r'"[0-9a-f]{24}-[0-9a-f]{12}"', response.headers["ETag"])
    assert response.headers["Cache-Control"] == "no-store"
    again = post(client, EXAMPLE_PROFILE)
    assert again.headers["X-Cache"] == "hit"
    assert again.data == response.data
    assert again.headers["ETag"] == response.headers["ETag"]


def test_if_none_match_gives_304(client):
    etag = post(client, EXAMPLE_PROFILE).headers["ETag"]
    response = post(client, EXAMPLE_PROFILE, headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.data == b""


def test_same_buckets_give_byte_identical_bodies(client):
    other = copy.deepcopy(EXAMPLE_PROFILE)
    other["alignment"].update(pelvic_tilt_deg=16.0, lumbar_lordosis_deg=63.5)
    other["symptoms"].update(walking_tolerance_min=12, worse_with=["walking", "standing"])
    other["context"]["minutes_per_day"] = 17
    first, second = post(client, EXAMPLE_PROFILE), post(client, other)
    assert first.status_code == second.status_code == 200
    assert second.headers["X-Cache"] == "hit"
    # the same cached page; only what each client keeps for next time is its own
    page, other_page = first.get_json(), second.get_json()
    assert page.pop("follow_up") == {
        "weeks_on_routine": 1,
        "stage": 0,
        "previous_walking_tolerance_min": 10,
    }
    assert other_page.pop("follow_up")["previous_walking_tolerance_min"] == 12
    assert page == other_page
    cut = first.data.rfind(b',"follow_up":')
    assert first.data[:cut] == second.data[:cut]


def test_different_buckets_give_different_pages(client):
    other = copy.deepcopy(EXAMPLE_PROFILE)
    other["alignment"]["pelvic_tilt_deg"] = 30
    assert post(client, EXAMPLE_PROFILE).data != post(client, other).data


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"red_flags": []},
        {"alignment": {}},
        {"symptoms": {"legs": "none"}},
        {"context": {"channel": "email"}},
        {"red_flags": ["fever", "fever"]},
    ],
)
def test_sparse_profiles_are_served(client, body):
    response = post(client, body)
    assert response.status_code == 200
    page = response.get_json()
    assert page["blocks"] and all(b["why"] for b in page["blocks"])


def test_missing_measurement_is_not_zero(client):
    """A missing pelvic tilt is 'not measured', so it cannot read as posterior tilt."""
    page = post(client, {"alignment": {"lumbar_lordosis_deg": 50}}).get_json()
    reasons = " ".join(w["reason"] for b in page["blocks"] for w in b["why"])
    assert "pelvis tips backward" not in reasons
    zero = post(client, {"alignment": {"pelvic_tilt_deg": -5}}).get_json()
    zero_reasons = " ".join(w["reason"] for b in zero["blocks"] for w in b["why"])
    assert "pelvis tips backward" in zero_reasons


def test_html_fragment(client):
    response = post(client, EXAMPLE_PROFILE, headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert html.startswith("<article") and html.endswith("</article>")
    assert html.count("<article") == 1
    assert "<html" not in html and "<script" not in html
    assert 'role="alert"' in html
    alert_at = html.index('role="alert"')
    assert all(
        alert_at < m.start() for m in re.finditer(r'class="pz-block pz-(exercise|cta)', html)
    )
    assert "Why this is here" in html
    json_page = post(client, EXAMPLE_PROFILE).get_json()
    assert json_page["page_id"] in html
    assert "Accept" in response.vary


def test_html_and_json_are_cached_apart(client):
    post(client, EXAMPLE_PROFILE)
    html = post(client, EXAMPLE_PROFILE, headers={"Accept": "text/html"})
    assert html.headers["X-Cache"] == "miss"
    assert html.mimetype == "text/html"


def test_strength_work_is_dosed_on_some_days_of_the_week(client):
    body = {**EXAMPLE_PROFILE, "red_flags": [], "context": {"minutes_per_day": 30}}
    body["symptoms"] = {**EXAMPLE_PROFILE["symptoms"], "numbness": False}
    page = post(client, body).get_json()
    catalog = client.application.extensions["personalizer"].engine.catalog
    strength = [
        b
        for b in page["blocks"]
        if b["kind"] == "exercise" and catalog[b["id"]].phase == "strength"
    ]
    assert strength, "a 30-minute routine holds strength work"
    block = strength[0]
    assert block["dose"]["days_per_week"] == 3
    entry = next(i for i in page["routine"]["items"] if i["id"] == block["id"])
    assert entry["days_per_week"] == 3 and "on 3 days a week" in entry["text"]
    html = post(client, body, headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "3 days a week" in html
