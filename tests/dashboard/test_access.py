"""Who sees what in the dashboard, against the real server: sign-in, key cookie, ownership,
cross-site form posts, open mode."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO
from tests.service.conftest import Service, service_env

pytestmark = pytest.mark.slow

REVIEWS = REPO / "examples" / "reviews.csv"


def _upload(api: httpx.Client) -> str:
    with REVIEWS.open("rb") as handle:
        response = api.post(
            "/v1/batches",
            files={"file": ("reviews.csv", handle, "text/csv")},
            data={"text_column": "comment"},
        )
    assert response.status_code == 202, response.text
    batch_id: str = response.json()["id"]
    return batch_id


def test_pages_need_a_key_and_the_cookie_is_httponly_strict(dashboard: Service) -> None:
    with httpx.Client(base_url=dashboard.base_url) as browser:
        first = browser.get("/batches/anything")
        assert first.status_code == 303
        assert first.headers["location"] == "/sign-in?next=%2Fbatches%2Fanything"
        wrong = browser.post("/sign-in", data={"key": "vicx_not-a-real-key", "next": "/"})
        assert wrong.status_code == 401
        assert "Khóa không hợp lệ" in wrong.text
        assert "vicx_key" not in browser.cookies
        signed = browser.post("/sign-in", data={"key": dashboard.api_key, "next": "//evil.example"})
        assert signed.status_code == 303
        assert signed.headers["location"] == "/"  # never an open redirect
        cookie = signed.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        assert browser.get("/").status_code == 200
        out = browser.post("/sign-out", headers={"Origin": dashboard.base_url})
        assert out.status_code == 303
        assert browser.get("/").status_code == 303


def test_a_key_sees_only_its_own_batches(dashboard: Service, api: httpx.Client) -> None:
    batch_id = _upload(api)
    other = dashboard.create_key("someone-else")
    mine = {"vicx_key": dashboard.api_key or ""}
    theirs = {"vicx_key": other}
    assert batch_id in httpx.get(f"{dashboard.base_url}/", cookies=mine).text
    assert batch_id not in httpx.get(f"{dashboard.base_url}/", cookies=theirs).text
    hidden = httpx.get(f"{dashboard.base_url}/batches/{batch_id}/row", cookies=theirs)
    assert hidden.status_code == 404
    # The batch list's JSON twin is the API's list.
    listing = httpx.get(f"{dashboard.base_url}/batches.json", cookies=mine).json()
    assert listing == api.get("/v1/batches", params={"limit": listing["limit"]}).json()
    assert batch_id in {b["id"] for b in listing["batches"]}


def test_form_posts_from_another_site_are_refused(dashboard: Service) -> None:
    cookies = {"vicx_key": dashboard.api_key or ""}
    with REVIEWS.open("rb") as handle:
        response = httpx.post(
            f"{dashboard.base_url}/batches",
            cookies=cookies,
            headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
            files={"file": ("reviews.csv", handle, "text/csv")},
            data={"text_column": "comment"},
        )
    assert response.status_code == 403
    assert "trang khác" in response.text


def test_open_mode_needs_no_sign_in(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    server = Service(data_dir=data_dir, env=service_env(data_dir, open_mode="true"))
    server.start()
    try:
        page = httpx.get(f"{server.base_url}/?lang=en")
        assert page.status_code == 200
        assert "Open mode" in page.text
        assert page.cookies.get("vicx_lang") == "en"
    finally:
        server.stop()


def test_the_upload_form_means_the_same_from_the_dashboard_and_the_api(
    dashboard: Service, api: httpx.Client
) -> None:
    # One parser reads both forms: padded names and an upper-case scale are accepted the same.
    form = {
        "text_column": " comment ",
        "score_column": "nps ",
        "score_scale": " NPS ",
        "date_column": " date",
        "metadata_columns": " branch, ",
        "name": "  tháng 10  ",
    }
    cookies = {"vicx_key": dashboard.api_key or ""}
    created = []
    for post in (
        lambda files: httpx.post(
            f"{dashboard.base_url}/batches", cookies=cookies, files=files, data=form
        ),
        lambda files: api.post("/v1/batches", files=files, data=form),
    ):
        before = {b["id"] for b in api.get("/v1/batches").json()["batches"]}
        with REVIEWS.open("rb") as handle:
            response = post({"file": ("reviews.csv", handle, "text/csv")})
        assert response.status_code in (202, 303), response.text
        (batch_id,) = {b["id"] for b in api.get("/v1/batches").json()["batches"]} - before
        created.append(api.get(f"/v1/batches/{batch_id}").json())
    fields = ("name", "text_column", "score_column", "score_scale", "date_column")
    from_dashboard, from_api = ({f: b[f] for f in fields} for b in created)
    assert (
        from_dashboard
        == from_api
        == {
            "name": "tháng 10",
            "text_column": "comment",
            "score_column": "nps",
            "score_scale": "nps",
            "date_column": "date",
        }
    )
    assert created[0]["metadata_columns"] == created[1]["metadata_columns"] == ["branch"]


def test_a_dashboard_upload_without_text_column_leaves_no_file(dashboard: Service) -> None:
    uploads = dashboard.data_dir / "uploads"
    before = set(uploads.iterdir())
    with REVIEWS.open("rb") as handle:
        response = httpx.post(
            f"{dashboard.base_url}/batches",
            cookies={"vicx_key": dashboard.api_key or ""},
            files={"file": ("reviews.csv", handle, "text/csv")},
            data={"score_column": "nps"},
        )
    assert response.status_code == 422
    assert "text_column" in response.text
    assert set(uploads.iterdir()) == before
