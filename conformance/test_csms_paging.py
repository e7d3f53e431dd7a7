"""Paging to the end the way Dapr's CSMS secret store does (it asks for the next page while
``page_info.next_marker`` is non-null, so a last page that named a marker, even "", would
never end): every CSMS list with a marker leaves ``next_marker`` out of its last page,
including a last page that is exactly full, and the pages together hold every item once."""

from __future__ import annotations

import json

from huaweicloudsdkcsms.v1 import *  # noqa: F401,F403  (request/model classes)

import support
from csms_helpers import *  # noqa: F401,F403  (codes, wrappers)


def _dapr_pages(fetch, items_of, marker_of):
    """Dapr's loop: follow the marker while it is non-null, at most 50 pages."""
    pages, marker = [], None
    for _ in range(50):
        page = fetch(marker)
        pages.append(items_of(page))
        marker = marker_of(page)
        if marker is None:
            return pages
    raise AssertionError("the list never ended")


def _raw_json(raw, tenant, path, query):
    r = raw(tenant, "GET", path, query)
    assert r.status == 200, r.body
    return r.json()


def test_list_secrets_to_the_end_exactly(csms, raw, tenant):
    names = sorted(create_secret(csms, name=f"pg-{i}").name for i in range(6))
    pages = _dapr_pages(lambda m: csms.list_secrets(ListSecretsRequest(limit="2", marker=m)),
                        lambda p: [s.name for s in p.secrets], lambda p: p.page_info.next_marker)
    assert pages == [names[0:2], names[2:4], names[4:6]], "an exactly full last page ends"
    last = _raw_json(raw, tenant, "/v1/{project_id}/secrets", f"limit=2&marker={names[3]}")
    assert [s["name"] for s in last["secrets"]] == names[4:]
    assert "next_marker" not in last["page_info"], last["page_info"]
    assert last["page_info"]["current_count"] == 2


def test_list_secret_versions_to_the_end_exactly(csms, raw, tenant):
    s = create_secret(csms, secret_string="v1")
    for i in range(2, 6):
        add_version(csms, s.name, value=f"v{i}")
    pages = _dapr_pages(
        lambda m: csms.list_secret_versions(ListSecretVersionsRequest(secret_name=s.name, limit=2, marker=m)),
        lambda p: [v.id for v in p.version_metadatas], lambda p: p.page_info.next_marker)
    flat = [v for page in pages for v in page]
    assert sorted(flat) == sorted(f"v{i}" for i in range(1, 6)) and len(flat) == 5
    last = _raw_json(raw, tenant, f"/v1/{{project_id}}/secrets/{s.name}/versions", "limit=10")
    assert "next_marker" not in last["page_info"], last["page_info"]


def test_list_secret_events_to_the_end_exactly(csms, raw, tenant):
    names = sorted(create_event(csms, name=f"pgev-{i}").name for i in range(4))
    pages = _dapr_pages(lambda m: csms.list_secret_events(ListSecretEventsRequest(limit="2", marker=m)),
                        lambda p: [e.name for e in p.events], lambda p: p.page_info.next_marker)
    assert pages == [names[0:2], names[2:4]]
    last = _raw_json(raw, tenant, "/v1/{project_id}/csms/events", f"limit=2&marker={names[1]}")
    assert "next_marker" not in last["page_info"], last["page_info"]


def test_list_secret_tasks_and_notification_records_end(csms, raw, tenant):
    s = create_secret(csms)
    for _ in range(3):
        csms.rotate_secret(RotateSecretRequest(secret_name=s.name))
    pages = _dapr_pages(
        lambda m: csms.list_secret_task(ListSecretTaskRequest(secret_name=s.name, limit=2, marker=m)),
        lambda p: [t.task_id for t in p.tasks], lambda p: p.next_marker)
    flat = [t for page in pages for t in page]
    assert len(flat) == 3 and len(set(flat)) == 3 and [len(p) for p in pages] == [2, 1]
    records = _raw_json(raw, tenant, "/v1/{project_id}/csms/notification-records", "")
    assert "next_marker" not in records["page_info"], records["page_info"]
