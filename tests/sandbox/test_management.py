"""The sandbox's REST v2 management API over loopback HTTP: RunPod's shapes (RUNPOD_API.md 10)."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from gui.sandbox.config import EndpointSpec
from tests.support.sandbox_helpers import StartSandbox, wait_status
from tests.support.waiting import wait_until

ENDPOINT_FIELDS = {
    "id",
    "name",
    "type",
    "requestUrls",
    "image",
    "gpu",
    "workers",
    "scaling",
    "dataCenterIds",
    "networkVolumes",
    "timeout",
    "flashboot",
    "createdAt",
}
WORKER_FIELDS = {
    "id",
    "status",
    "isStale",
    "version",
    "gpuCount",
    "image",
    "uptimeSeconds",
    "gpuTypeId",
    "dataCenterId",
    "startedAt",
}


@pytest.fixture
def start_rest(start_sandbox: StartSandbox) -> Any:
    """Start a sandbox; returns it and a client whose base URL is its ``/v2``."""
    return functools.partial(start_sandbox, None)


def events(response: httpx.Response) -> Iterator[tuple[str, dict[str, Any]]]:
    """The ``(id, data)`` of each SSE event of a streamed answer, skipping comments."""
    event_id, data = "", ""
    for line in response.iter_lines():
        if line.startswith("id: "):
            event_id = line[4:]
        elif line.startswith("data: "):
            data = line[6:]
        elif line == "" and data:
            yield event_id, json.loads(data)
            event_id, data = "", ""


def sdk(entry: dict[str, Any]) -> dict[str, Any] | None:
    """The runpod SDK's JSON object inside a container line, or None for a raw line."""
    try:
        parsed = json.loads(entry["line"])
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def test_endpoints_are_listed_and_read_in_runpods_shape(start_rest: Any) -> None:
    spec = EndpointSpec(
        "img4m7x2k9", name="image-generator", gpu_type_id="NVIDIA L40S", gpu_count=2
    )
    sandbox, client = start_rest(endpoints=[spec], workers=3)
    listed = client.get("/serverless")
    assert listed.status_code == 200
    assert (
        "RateLimit" in listed.headers and '"minute";q=60;w=60' in listed.headers["RateLimit-Policy"]
    )
    (endpoint,) = listed.json()["endpoints"]
    assert endpoint.keys() >= ENDPOINT_FIELDS
    assert endpoint["id"] == "img4m7x2k9" and endpoint["name"] == "image-generator"
    assert endpoint["type"] == "QUEUE"
    assert endpoint["gpu"] == {
        "pools": ["ADA_48_PRO"],
        "count": 2,
        "allowedCudaVersions": [],
        "minCudaVersion": None,
    }
    assert endpoint["workers"] == {"min": 0, "max": 3, "idleTimeout": 5}
    assert endpoint["scaling"] == {"type": "QUEUE_DELAY", "queueDelay": 4}
    assert endpoint["flashboot"] in ("OFF", "FLASHBOOT", "PRIORITY_FLASHBOOT")
    assert endpoint["createdAt"].endswith("Z")
    run_url = endpoint["requestUrls"]["run"]
    assert run_url == f"{sandbox.base_url}/img4m7x2k9/run"
    assert endpoint["requestUrls"]["status"].endswith("/status/{job_id}")
    # The request URL it gives really runs a job on this endpoint.
    assert httpx.post(run_url, json={"input": {}}, timeout=10).json()["status"] == "IN_QUEUE"
    assert client.get("/serverless/img4m7x2k9").json() == endpoint


def test_an_endpoint_used_by_the_queue_api_is_listed_with_defaults(start_rest: Any) -> None:
    _, client = start_rest(workers=2)
    assert client.get("/serverless").json() == {"endpoints": []}
    assert client.post("/ep/runsync", json={"input": {}}).json()["status"] == "COMPLETED"
    (endpoint,) = client.get("/serverless").json()["endpoints"]
    assert endpoint["id"] == "ep" and endpoint["name"] == "sandbox-ep"
    assert endpoint["workers"]["max"] == 2


def test_unknown_ids_and_paths_are_404_problems(start_rest: Any) -> None:
    _, client = start_rest(endpoints=[EndpointSpec("known")])
    for path in (
        "/serverless/nope",
        "/serverless/nope/workers",
        "/serverless/known/workers/nope/logs",
        "/catalog/gpus/NVIDIA%20Nothing",
        "/serverless/known/bogus",
    ):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert answer.headers["Content-Type"].startswith("application/problem+json")
        body = answer.json()
        assert body["title"] == "Not Found" and body["status"] == 404 and body["detail"], path
    refused = client.post("/serverless", json={})
    assert refused.status_code == 405 and refused.json()["title"] == "Method Not Allowed"
    assert "GET" in refused.headers["Allow"]


def test_a_wrong_or_missing_key_gets_runpods_401_and_the_queue_api_is_unchanged(
    start_rest: Any,
) -> None:
    _, client = start_rest(api_key="right-key", endpoints=[EndpointSpec("ep")])
    missing = client.get("/serverless")
    assert missing.status_code == 401
    assert missing.json() == {
        "title": "Unauthorized",
        "status": 401,
        "detail": "missing bearer token",
    }
    assert "RateLimit" not in missing.headers
    wrong = client.get("/serverless", headers={"Authorization": "Bearer wrong"})
    assert wrong.status_code == 401 and wrong.json()["detail"] == "invalid bearer token"
    right = client.get("/serverless", headers={"Authorization": "Bearer right-key"})
    assert right.status_code == 200 and right.json()["endpoints"][0]["id"] == "ep"
    queue = client.get("/ep/health")
    assert queue.status_code == 401 and "error" in queue.json()  # the queue API's own shape


def test_management_rate_limit_counts_down_and_answers_429_when_enforced(
    start_rest: Any,
) -> None:
    _, client = start_rest(rate_limits=True, management_quotas=(3, 100, 1000))
    remaining = []
    for _ in range(3):
        answer = client.get("/catalog/gpus")
        assert answer.status_code == 200
        remaining.append(answer.headers["RateLimit"].split(",")[0])
    assert remaining == ['"minute";r=2;t=60', '"minute";r=1;t=60', '"minute";r=0;t=60']
    refused = client.get("/catalog/gpus")
    assert refused.status_code == 429 and refused.json()["title"] == "Too Many Requests"
    assert int(refused.headers["Retry-After"]) >= 1


def test_workers_list_their_state_gpu_data_center_image_and_summary(start_rest: Any) -> None:
    spec = EndpointSpec("ep", gpu_type_id="NVIDIA L4", data_center_id="EU-RO-1", image="me/w:2")
    sandbox, client = start_rest(endpoints=[spec], workers=2)
    job = client.post("/ep/run", json={"input": {"sandbox": {"duration": 30}}}).json()
    with httpx.Client(base_url=f"{sandbox.base_url}/ep", timeout=10) as queue:
        wait_status(queue, job["id"], "IN_PROGRESS")
    answer = client.get("/serverless/ep/workers").json()
    assert answer["endpointVersion"] == 1
    assert answer["summary"] == {
        "running": 1,
        "idle": 1,
        "initializing": 0,
        "throttled": 0,
        "unhealthy": 0,
        "total": 2,
    }
    workers = answer["workers"]
    assert len(workers) == 2 and all(worker.keys() >= WORKER_FIELDS for worker in workers)
    assert sorted(worker["status"] for worker in workers) == ["IDLE", "RUNNING"]
    for worker in workers:
        assert worker["gpuTypeId"] == "NVIDIA L4" and worker["dataCenterId"] == "EU-RO-1"
        assert worker["image"] == "me/w:2" and worker["isStale"] is False
        assert isinstance(worker["uptimeSeconds"], int) and worker["startedAt"].endswith("Z")
    running = next(worker for worker in workers if worker["status"] == "RUNNING")
    status = client.get(f"/ep/status/{job['id']}").json()
    assert status["workerId"] == running["id"]
    client.post(f"/ep/cancel/{job['id']}")


def test_a_rolling_release_shows_outdated_workers_and_its_rollout(start_rest: Any) -> None:
    spec = EndpointSpec("ep", version=4, outdated_workers=1, image="me/w:4")
    _, client = start_rest(endpoints=[spec], workers=2)
    workers = client.get("/serverless/ep/workers").json()["workers"]
    assert sorted((w["version"], w["isStale"]) for w in workers) == [(3, True), (4, False)]
    releases = client.get("/serverless/ep/releases").json()
    assert releases["endpointVersion"] == 4
    assert releases["rollout"] == {
        "inProgress": True,
        "workersOnLatest": 1,
        "workersTotal": 2,
        "percentOnLatest": 50,
    }
    assert [release["version"] for release in releases["releases"]] == [4, 3]  # newest first
    assert releases["releases"][0]["diff"][0]["new"] == "me/w:4"


def test_the_catalog_has_the_workers_gpu_with_an_hourly_price_from_per_second(
    start_rest: Any,
) -> None:
    _, client = start_rest(endpoints=[EndpointSpec("ep")])
    gpus = client.get("/catalog/gpus").json()["gpus"]
    worker_gpu = client.get("/serverless/ep/workers").json()["workers"][0]["gpuTypeId"]
    by_id = {gpu["id"]: gpu for gpu in gpus}
    assert worker_gpu in by_id
    gpu = by_id[worker_gpu]
    assert {"id", "name", "pool", "manufacturer", "memory", "secure", "community"} <= gpu.keys()
    assert gpu["price"]["serverless"] == pytest.approx(0.00031 * 3600)
    one = client.get(f"/catalog/gpus/{httpx.URL(worker_gpu)}")
    assert client.get("/catalog/gpus/NVIDIA%20GeForce%20RTX%204090").json() == gpu
    assert one.status_code == 200
    assert "availability" not in gpu
    bad = client.get("/catalog/gpus", params={"include": "AVAILABILITY"})
    assert bad.status_code == 400 and bad.json()["title"] == "Bad Request"
    full = client.get("/catalog/gpus", params={"include": "AVAILABILITY", "product": "SERVERLESS"})
    assert all(gpu["availability"] == "HIGH" for gpu in full.json()["gpus"])


def test_worker_logs_hold_the_jobs_sdk_lines_tagged_with_its_request_id(start_rest: Any) -> None:
    _, client = start_rest(endpoints=[EndpointSpec("ep")], workers=1)
    ok = client.post("/ep/runsync", json={"input": {"n": 1}}).json()
    failed = client.post("/ep/runsync", json={"input": {"sandbox": {"fail": "boom"}}}).json()
    assert ok["status"] == "COMPLETED" and failed["status"] == "FAILED"
    worker_id = ok["workerId"]
    url = f"/serverless/ep/workers/{worker_id}/logs"
    with client.stream("GET", url) as answer:
        assert answer.status_code == 200
        assert answer.headers["Content-Type"].startswith("text/event-stream")
        assert answer.headers["Cache-Control"] == "no-cache"
        assert "RateLimit" in answer.headers
        seen: list[tuple[str, dict[str, Any]]] = []
        for event in events(answer):
            seen.append(event)
            line = sdk(event[1])
            if line and line["requestId"] == failed["id"] and line["message"] == "Finished.":
                break
    ids = [event_id for event_id, _ in seen]
    assert all(event_id.count("/") == 1 and len(event_id.split("/")[1]) == 12 for event_id in ids)
    assert ids == sorted(ids)
    assert all(set(data) == {"ts", "source", "line"} for _, data in seen)
    assert seen[0][1] == {"ts": seen[0][1]["ts"], "source": "system", "line": "start container"}
    tagged = [
        (line["requestId"], line["message"], line["level"])
        for line in map(sdk, (d for _, d in seen))
        if line
    ]
    assert (ok["id"], "Started.", "INFO") in tagged
    assert (ok["id"], "Finished.", "INFO") in tagged
    assert (ok["id"], 'Handler output: {"n": 1}', "DEBUG") in tagged
    assert (failed["id"], "Captured Handler Exception", "ERROR") in tagged
    # The exact bytes the SDK prints: its key order and default separators.
    raw = [data["line"] for _, data in seen if ok["id"] in data["line"]]
    assert json.dumps({"requestId": ok["id"], "message": "Started.", "level": "INFO"}) in raw
    # A line the handler printed itself is untagged.
    assert any(data["source"] == "container" and sdk(data) is None for _, data in seen)


def test_logs_resume_after_last_event_id_and_honour_tail_and_source(start_rest: Any) -> None:
    _, client = start_rest(endpoints=[EndpointSpec("ep")], workers=1)
    first = client.post("/ep/runsync", json={"input": {"n": 1}}).json()
    client.post("/ep/runsync", json={"input": {"n": 2}})
    url = f"/serverless/ep/workers/{first['workerId']}/logs"

    def read(count: int, **options: Any) -> list[tuple[str, dict[str, Any]]]:
        got: list[tuple[str, dict[str, Any]]] = []
        with client.stream("GET", url, **options) as answer:
            for event in events(answer):
                got.append(event)
                if len(got) == count:
                    break
        return got

    # Two lines at the worker's start, four per job; both jobs ended before reading.
    everything = read(10)
    resumed = read(2, headers={"Last-Event-ID": everything[2][0]})
    assert resumed == everything[3:5]  # the next line after the one named, not a repeat
    assert read(2, params={"tail": 2}) == everything[-2:]
    since = read(1, params={"since": everything[0][1]["ts"], "tail": 0})
    assert since == everything[:1]  # since overrides tail
    system = read(1, params={"source": "system"})
    assert system[0][1]["source"] == "system"
    bad = client.get(url, params={"tail": "9999"})
    assert bad.status_code == 400 and "tail" in bad.json()["detail"]


def test_logs_follow_a_job_sent_after_the_stream_opened(start_rest: Any) -> None:
    _, client = start_rest(endpoints=[EndpointSpec("ep")], workers=1)
    worker_id = client.get("/serverless/ep/workers").json()["workers"][0]["id"]
    url = f"/serverless/ep/workers/{worker_id}/logs"
    with client.stream("GET", url, params={"tail": 0}) as answer:
        job = client.post("/ep/run", json={"input": {}}).json()
        messages = []
        for _, data in events(answer):
            line = sdk(data)
            assert line is None or line["requestId"] == job["id"]  # tail=0: nothing older
            if line:
                messages.append(line["message"])
                if line["message"] == "Finished.":
                    break
    assert messages[0] == "Started." and messages[-1] == "Finished."


def test_max_workers_zero_keeps_jobs_in_queue_and_says_so(start_rest: Any) -> None:
    _, client = start_rest(endpoints=[EndpointSpec("idle7d", workers_max=0)])
    endpoint = client.get("/serverless/idle7d").json()
    assert endpoint["workers"]["max"] == 0
    workers = client.get("/serverless/idle7d/workers").json()
    assert workers["workers"] == [] and workers["summary"]["total"] == 0
    job = client.post("/idle7d/run", json={"input": {}}).json()
    assert client.get(f"/idle7d/status/{job['id']}").json()["status"] == "IN_QUEUE"
    health = client.get("/idle7d/health").json()
    assert health["jobs"]["inQueue"] == 1 and health["workers"]["idle"] == 0


def test_a_crash_looping_worker_restarts_unhealthy_and_jobs_stay_in_queue(
    start_rest: Any,
) -> None:
    spec = EndpointSpec("crashy", scenario="crash_loop", workers_max=1)
    _, client = start_rest(endpoints=[spec], crash_restart_s=0.05)
    job = client.post("/crashy/run", json={"input": {}}).json()
    (worker,) = client.get("/serverless/crashy/workers").json()["workers"]
    assert worker["status"] == "UNHEALTHY"
    url = f"/serverless/crashy/workers/{worker['id']}/logs"
    restarts = 0
    with client.stream("GET", url) as answer:
        for _, data in events(answer):
            assert data["source"] == "system"  # no container output at all
            restarts += data["line"] == "start container"
            if restarts == 3:
                break
    # Three restarts later, nobody has taken the job.
    assert client.get(f"/crashy/status/{job['id']}").json()["status"] == "IN_QUEUE"
    summary = client.get("/serverless/crashy/workers").json()["summary"]
    assert summary["unhealthy"] == 1 and summary["total"] == 1
    assert client.get("/crashy/health").json()["workers"]["unhealthy"] == 1


def test_throttled_workers_are_not_placed_and_jobs_stay_in_queue(start_rest: Any) -> None:
    _, client = start_rest(endpoints=[EndpointSpec("busy", scenario="throttled")], workers=2)
    job = client.post("/busy/run", json={"input": {}}).json()
    answer = client.get("/serverless/busy/workers").json()
    assert answer["summary"]["throttled"] == 2
    for worker in answer["workers"]:
        assert worker["status"] == "THROTTLED"
        assert worker["gpuTypeId"] is None and worker["uptimeSeconds"] is None
    assert client.get(f"/busy/status/{job['id']}").json()["status"] == "IN_QUEUE"
    assert client.get("/busy/health").json()["workers"]["throttled"] == 2


def test_starting_workers_are_placed_but_never_ready_and_jobs_stay_in_queue(
    start_rest: Any,
) -> None:
    _, client = start_rest(endpoints=[EndpointSpec("cold", scenario="starting")], workers=1)
    job = client.post("/cold/run", json={"input": {}}).json()
    answer = client.get("/serverless/cold/workers").json()
    (worker,) = answer["workers"]
    assert worker["status"] == "INITIALIZING" and answer["summary"]["initializing"] == 1
    assert worker["gpuTypeId"] == "NVIDIA GeForce RTX 4090" and worker["startedAt"] is not None
    assert client.get(f"/cold/status/{job['id']}").json()["status"] == "IN_QUEUE"
    health = client.get("/cold/health").json()
    assert health["workers"]["initializing"] == 1 and health["jobs"]["inQueue"] == 1


def test_billing_buckets_sum_the_jobs_the_sandbox_ran(start_rest: Any) -> None:
    spec = EndpointSpec("ep", gpu_type_id="NVIDIA GeForce RTX 4090", gpu_count=2)
    _, client = start_rest(endpoints=[spec, EndpointSpec("other")], workers=1)
    for _ in range(3):
        assert client.post("/ep/runsync", json={"input": {}}).json()["status"] == "COMPLETED"
    # Two days, in case the jobs ran across midnight (UTC).
    answer = client.get("/billing/serverless", params={"bucketSize": "day", "lastN": 2}).json()
    records = answer["records"]
    assert {record["serverlessId"] for record in records} == {"ep"}  # "other" ran nothing
    # Three jobs of under a second, each billed one second, on two GPUs at 0.00031 $/s.
    assert sum(r["gpuAmount"] for r in records) == pytest.approx(3 * 2 * 0.00031)
    assert all(record["totalAmount"] == record["gpuAmount"] for record in records)
    assert answer["metadata"]["recordCount"] == len(records)
    assert answer["metadata"]["query"]["bucketSize"] == "day"
    record = records[0]
    assert answer["metadata"]["totals"]["totalAmount"] == pytest.approx(3 * 2 * 0.00031)
    start, end = record["startTime"], record["endTime"]
    assert start.endswith("T00:00:00Z") and end.endswith("T00:00:00Z") and start < end
    other = client.get("/billing/serverless", params={"serverlessId": "other"}).json()
    assert other["records"] == [] and other["metadata"]["totals"]["totalAmount"] == 0
    bad = client.get("/billing/serverless", params={"bucketSize": "fortnight"})
    assert bad.status_code == 400 and "bucketSize" in bad.json()["detail"]


def test_log_lines_a_handler_writes_are_tagged_with_its_job(start_rest: Any) -> None:
    _, client = start_rest(endpoints=[EndpointSpec("ep")], workers=1)
    body = {"input": {"sandbox": {"log": ["loading model", "sampling"]}}}
    job = client.post("/ep/runsync", json=body).json()
    url = f"/serverless/ep/workers/{job['workerId']}/logs"
    messages = []
    with client.stream("GET", url) as answer:
        for _, data in events(answer):
            line = sdk(data)
            if line and line["requestId"] == job["id"]:
                messages.append(line["message"])
                if line["message"] == "Finished.":
                    break
    assert messages[:3] == ["Started.", "loading model", "sampling"]


def test_a_job_whose_worker_dies_is_retried_and_its_status_counts_the_retries(
    start_rest: Any,
) -> None:
    sandbox, client = start_rest(endpoints=[EndpointSpec("ep")], workers=1)
    body = {"input": {"sandbox": {"worker_crash": 2}}}
    with httpx.Client(base_url=f"{sandbox.base_url}/ep", timeout=10) as queue:
        job = queue.post("/run", json=body).json()
        done = wait_status(queue, job["id"], "COMPLETED")
        assert done["retries"] == 2
        assert queue.get("/health").json()["jobs"]["retried"] == 2
        looping = queue.post("/run", json={"input": {"sandbox": {"worker_crash": True}}}).json()
        wait_until(
            lambda: queue.get(f"/status/{looping['id']}").json().get("retries", 0) >= 3,
            "three retries of the looping job",
        )
        assert queue.post(f"/cancel/{looping['id']}").json()["status"] == "CANCELLED"
    (worker,) = client.get("/serverless/ep/workers").json()["workers"]
    with client.stream("GET", f"/serverless/ep/workers/{worker['id']}/logs") as answer:
        exits = 0
        for _, data in events(answer):
            exits += data["line"] == "container exited with code 137"
            if exits == 5:  # two for the first job, three (at least) for the looping one
                break
    assert exits == 5


def test_a_workers_log_keeps_its_last_lines_only(start_rest: Any) -> None:
    _, client = start_rest(endpoints=[EndpointSpec("ep")], workers=1, worker_log_lines=5)
    job = client.post("/ep/runsync", json={"input": {"sandbox": {"log": 20}}}).json()
    url = f"/serverless/ep/workers/{job['workerId']}/logs"
    with client.stream("GET", url) as answer:
        kept = []
        for event in events(answer):
            kept.append(event)
            if (sdk(event[1]) or {}).get("message") == "Finished.":
                break
    # 2 start lines + Started. + 1 untagged + 20 logged + Handler output + Finished. = 26
    assert [int(event_id.split("/")[1]) for event_id, _ in kept] == [22, 23, 24, 25, 26]


def test_stopping_the_sandbox_ends_an_open_log_stream(start_rest: Any) -> None:
    sandbox, client = start_rest(endpoints=[EndpointSpec("ep")], workers=1)
    worker_id = client.get("/serverless/ep/workers").json()["workers"][0]["id"]
    received: list[str] = []
    ended: list[bool] = []

    def read() -> None:
        with client.stream("GET", f"/serverless/ep/workers/{worker_id}/logs") as answer:
            received.extend(event_id for event_id, _ in events(answer))
            ended.append(True)

    reader = threading.Thread(target=read)
    reader.start()
    client.post("/ep/runsync", json={"input": {}})
    wait_until(lambda: sandbox.server.routes.endpoints["ep"].workers[0].log.last_seq >= 5, "lines")
    sandbox.stop()
    reader.join(timeout=30)
    assert not reader.is_alive() and ended == [True]
    assert len(received) == 5  # every line written before the stop was delivered
