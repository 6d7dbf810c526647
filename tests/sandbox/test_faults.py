"""Faults on demand: what a client of the sandbox must survive."""

import time

import pytest
import requests

from sandbox import FaultPlan
from tests.conftest import client_token


def track_url(server):
    return f"{server.api_url}/tracks/{server.api.catalog.encode_id('track', 1)}"


def configure(server, **changes):
    response = requests.post(f"{server.url}/_sandbox/faults", json=changes, timeout=5)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def auth(sandbox):
    return {"Authorization": f"Bearer {client_token(sandbox)}"}


def test_latency_is_added_to_api_answers(sandbox, auth):
    configure(sandbox, latency_ms=150)
    started = time.monotonic()
    requests.get(track_url(sandbox), headers=auth, timeout=5)
    assert time.monotonic() - started >= 0.15


def test_a_quota_429_lasts_until_the_simulated_clock_passes_retry_after(sandbox, auth):
    configure(sandbox, script=[{"kind": "429", "retry_after": 7200, "reason": "QUOTA_EXCEEDED"}])
    first = requests.get(track_url(sandbox), headers=auth, timeout=5)
    assert first.status_code == 429
    assert first.headers["Retry-After"] == "7200"
    assert first.json() == {"error": {"status": 429, "message": "Too many requests", "reason": "QUOTA_EXCEEDED"}}
    still = requests.get(track_url(sandbox), headers=auth, timeout=5)
    assert still.status_code == 429
    assert 7100 < int(still.headers["Retry-After"]) <= 7200

    requests.post(f"{sandbox.url}/_sandbox/clock", json={"seconds": 7200}, timeout=5)
    assert requests.get(track_url(sandbox), headers=auth, timeout=5).status_code == 200


def test_the_rolling_window_answers_429_with_the_wait_until_a_slot_frees(sandbox, auth):
    configure(sandbox, rate_limit=5)
    statuses = [requests.get(track_url(sandbox), headers=auth, timeout=5) for _ in range(6)]
    assert [r.status_code for r in statuses] == [200] * 5 + [429]
    assert 1 <= int(statuses[-1].headers["Retry-After"]) <= 30
    assert statuses[-1].json() == {"error": {"status": 429, "message": "API rate limit exceeded"}}


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_come_with_spotifys_error_body(sandbox, auth, status):
    configure(sandbox, script=[{"kind": str(status)}])
    response = requests.get(track_url(sandbox), headers=auth, timeout=5)
    assert response.status_code == status
    assert response.json()["error"]["status"] == status
    assert requests.get(track_url(sandbox), headers=auth, timeout=5).status_code == 200


def test_a_reset_drops_the_connection(sandbox, auth):
    configure(sandbox, script=[{"kind": "reset"}])
    with pytest.raises(requests.ConnectionError):
        requests.get(track_url(sandbox), headers=auth, timeout=5)
    assert requests.get(track_url(sandbox), headers=auth, timeout=5).status_code == 200


def test_a_truncated_body_ends_before_its_content_length(sandbox, auth):
    configure(sandbox, script=[{"kind": "truncate"}])
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.ConnectionError)):
        requests.get(track_url(sandbox), headers=auth, timeout=5)


def test_random_faults_hit_the_configured_share_and_repeat_with_the_seed(start_sandbox):
    def statuses(seed):
        server = start_sandbox(seed=1)
        server.api.faults.configure({"fail_rate": 0.2, "fail_kinds": ["500", "503", "429"], "seed": seed})
        headers = {"Authorization": f"Bearer {client_token(server)}"}
        return [requests.get(track_url(server), headers=headers, timeout=5).status_code for _ in range(200)]

    first, again, other = statuses(4), statuses(4), statuses(5)
    failed = sum(status != 200 for status in first)
    assert 25 <= failed <= 55
    assert first == again
    assert first != other


def test_faults_are_validated_and_can_be_cleared(sandbox, auth):
    refused = requests.post(f"{sandbox.url}/_sandbox/faults", json={"script": [{"kind": "418"}]}, timeout=5)
    assert refused.status_code == 400
    with pytest.raises(ValueError, match="fail_rate"):
        FaultPlan(fail_rate=2).validate()
    configure(sandbox, fail_rate=1.0, fail_kinds=["500"])
    assert requests.get(track_url(sandbox), headers=auth, timeout=5).status_code == 500
    configure(sandbox, clear=True)
    assert requests.get(track_url(sandbox), headers=auth, timeout=5).status_code == 200
