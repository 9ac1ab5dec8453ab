"""Request checks and auth as RunPod does them: 400, 401, 404, 405, 413, each with a JSON error."""

from __future__ import annotations

import httpx
import pytest

from gui.core.limits import MAX_BODY_BYTES
from tests.support.sandbox_helpers import StartSandbox


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"not json", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b"{}", "'input'"),
        (b'{"input": "text"}', "'input'"),
        (b'{"input": [1]}', "'input'"),
        (b'{"input": {}, "policy": {"ttl": -5}}', "policy"),
        (b'{"input": {}, "policy": {"lowPriority": "yes"}}', "lowPriority"),
        (b'{"input": {}, "webhook": "ftp://x"}', "webhook"),
    ],
)
@pytest.mark.parametrize("operation", ["run", "runsync"])
def test_malformed_bodies_get_400_with_a_json_error(
    sandbox_client: httpx.Client, operation: str, content: bytes, fragment: str
) -> None:
    answer = sandbox_client.post(f"/{operation}", content=content)
    assert answer.status_code == 400
    assert fragment in answer.json()["error"]


def test_refused_request_creates_no_job(sandbox_client: httpx.Client) -> None:
    sandbox_client.post("/run", content=b"{}")
    assert sandbox_client.get("/health").json()["jobs"]["inQueue"] == 0


def _body_of_size(size: int) -> bytes:
    prefix, suffix = b'{"input": {"pad": "', b'"}}'
    return prefix + b"x" * (size - len(prefix) - len(suffix)) + suffix


def test_run_accepts_10_mb_and_refuses_one_byte_more(sandbox_client: httpx.Client) -> None:
    limit = MAX_BODY_BYTES["run"]
    refused = sandbox_client.post("/run", content=_body_of_size(limit + 1))
    assert refused.status_code == 413 and "10 MB" in refused.json()["error"]
    accepted = sandbox_client.post("/run", content=_body_of_size(limit))
    assert accepted.status_code == 200 and accepted.json()["status"] == "IN_QUEUE"


def test_runsync_allows_20_mb(sandbox_client: httpx.Client) -> None:
    limit = MAX_BODY_BYTES["runsync"]
    body = _body_of_size(MAX_BODY_BYTES["run"] + 1024)
    assert sandbox_client.post("/runsync?wait=1000", content=body).status_code == 200
    refused = sandbox_client.post("/runsync", content=_body_of_size(limit + 1))
    assert refused.status_code == 413 and "error" in refused.json()


def test_chunked_oversized_body_is_refused_with_413(sandbox_client: httpx.Client) -> None:
    data = _body_of_size(MAX_BODY_BYTES["runsync"] + 2 * 1024 * 1024)
    chunks = (data[i : i + 1024 * 1024] for i in range(0, len(data), 1024 * 1024))
    answer = sandbox_client.post("/run", content=chunks)  # no Content-Length
    assert answer.status_code == 413 and "error" in answer.json()


@pytest.mark.parametrize(
    ("header", "status"),
    [
        ("Bearer secret-key", 200),
        ("bearer secret-key", 200),
        ("secret-key", 200),
        ("Bearer wrong", 401),
        ("wrong", 401),
        (None, 401),
    ],
)
def test_auth_accepts_bearer_or_bare_key_only(
    start_sandbox: StartSandbox, header: str | None, status: int
) -> None:
    _, client = start_sandbox(api_key="secret-key")
    headers = {"Authorization": header} if header is not None else {}
    answer = client.get("/health", headers=headers)
    assert answer.status_code == status
    if status == 401:
        assert "secret-key" not in answer.text and "error" in answer.json()


def test_without_a_configured_key_any_key_is_accepted(sandbox_client: httpx.Client) -> None:
    assert sandbox_client.get("/health", headers={"Authorization": "Bearer x"}).status_code == 200
    assert sandbox_client.get("/health").status_code == 200


def test_unknown_job_route_and_method_answer_json(sandbox_client: httpx.Client) -> None:
    missing = sandbox_client.get("/status/nope")
    assert missing.status_code == 404 and "nope" in missing.json()["error"]
    unknown = sandbox_client.get("/no-such-operation")
    assert unknown.status_code == 404 and "runsync" in unknown.json()["error"]
    wrong_method = sandbox_client.get("/run")
    assert wrong_method.status_code == 405 and "error" in wrong_method.json()
    assert wrong_method.headers["Allow"] == "POST"


def test_malformed_wait_query_is_400(sandbox_client: httpx.Client) -> None:
    assert sandbox_client.post("/runsync?wait=soon", json={"input": {}}).status_code == 400
