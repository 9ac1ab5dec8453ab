"""Every RunPod operation over loopback HTTP: shapes, states, transitions (RUNPOD_API.md §1-2)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import time

import httpx

from tests.support.sandbox_helpers import StartSandbox, wait_status
from tests.support.waiting import wait_until


def test_run_answers_in_queue_then_completes_with_cloud_fields(
    sandbox_client: httpx.Client,
) -> None:
    answer = sandbox_client.post("/run", json={"input": {"prompt": "hi"}})
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "IN_QUEUE" and set(body) == {"id", "status"}
    done = wait_status(sandbox_client, body["id"], "COMPLETED")
    assert done["output"] == {"prompt": "hi"}
    assert isinstance(done["delayTime"], int) and done["delayTime"] >= 0
    assert isinstance(done["executionTime"], int) and done["executionTime"] >= 40  # 50 ms job
    assert isinstance(done["workerId"], str) and len(done["workerId"]) == 14
    assert "error" not in done


def test_status_answers_get_and_post(sandbox_client: httpx.Client) -> None:
    job_id = sandbox_client.post("/run", json={"input": {}}).json()["id"]
    assert sandbox_client.get(f"/status/{job_id}").json()["id"] == job_id
    assert sandbox_client.post(f"/status/{job_id}").json()["id"] == job_id


def test_in_progress_shows_worker_and_delay_but_no_execution_time(
    start_sandbox: StartSandbox,
) -> None:
    _, client = start_sandbox()
    job_id = client.post("/run", json={"input": {"sandbox": {"duration": 5}}}).json()["id"]
    running = wait_status(client, job_id, "IN_PROGRESS")
    assert "workerId" in running and "delayTime" in running
    assert "executionTime" not in running and "output" not in running
    client.post(f"/cancel/{job_id}")


def test_runsync_waits_for_the_result(sandbox_client: httpx.Client) -> None:
    answer = sandbox_client.post("/runsync", json={"input": {"n": 1}})
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "COMPLETED" and body["output"] == {"n": 1}
    assert body["id"].startswith("sync-")


def test_runsync_that_outlives_wait_answers_id_and_a_running_state(
    start_sandbox: StartSandbox,
) -> None:
    _, client = start_sandbox()
    started = time.monotonic()
    # 1000 ms is the shortest wait RunPod allows; smaller values are raised to it.
    answer = client.post("/runsync?wait=10", json={"input": {"sandbox": {"duration": 30}}})
    assert time.monotonic() - started >= 0.95
    body = answer.json()
    assert answer.status_code == 200 and body["status"] in ("IN_QUEUE", "IN_PROGRESS")
    assert client.get(f"/status/{body['id']}").json()["status"] == "IN_PROGRESS"
    client.post(f"/cancel/{body['id']}")


def test_runsync_default_wait_is_settable(start_sandbox: StartSandbox) -> None:
    _, client = start_sandbox(runsync_wait_default_ms=100)
    body = client.post("/runsync", json={"input": {"sandbox": {"duration": 30}}}).json()
    assert body["status"] in ("IN_QUEUE", "IN_PROGRESS")
    assert client.post("/runsync?wait=x", json={"input": {}}).status_code == 400
    assert client.get(f"/status-sync/{body['id']}").json()["status"] == "IN_PROGRESS"
    client.post(f"/cancel/{body['id']}")


def test_runsync_failed_job_carries_the_error(start_sandbox: StartSandbox) -> None:
    _, client = start_sandbox()
    body = client.post("/runsync", json={"input": {"sandbox": {"fail": "bad prompt"}}}).json()
    assert body["status"] == "FAILED"
    assert json.loads(body["error"])["error_message"] == "bad prompt"
    _, strict = start_sandbox(runsync_failed_status=400)
    assert strict.post("/runsync", json={"input": {"sandbox": {"fail": "x"}}}).status_code == 400


def test_cancel_queued_job_never_runs(start_sandbox: StartSandbox) -> None:
    _, client = start_sandbox(workers=1)
    blocker = client.post("/run", json={"input": {"sandbox": {"duration": 5}}}).json()["id"]
    wait_status(client, blocker, "IN_PROGRESS")
    queued = client.post("/run", json={"input": {}}).json()["id"]
    answer = client.post(f"/cancel/{queued}")
    assert answer.json() == {"id": queued, "status": "CANCELLED"}
    client.post(f"/cancel/{blocker}")
    status = wait_status(client, queued, "CANCELLED")
    assert "workerId" not in status and "output" not in status


def test_cancel_running_job_stops_it_and_frees_the_worker(start_sandbox: StartSandbox) -> None:
    _, client = start_sandbox(workers=1)
    job_id = client.post("/run", json={"input": {"sandbox": {"duration": 30}}}).json()["id"]
    wait_status(client, job_id, "IN_PROGRESS")
    assert client.post(f"/cancel/{job_id}").json()["status"] == "CANCELLED"
    next_id = client.post("/run", json={"input": {"after": True}}).json()["id"]
    assert wait_status(client, next_id, "COMPLETED")["output"] == {"after": True}
    assert client.get(f"/status/{job_id}").json()["status"] == "CANCELLED"


def test_cancel_of_an_ended_job_keeps_its_state(sandbox_client: httpx.Client) -> None:
    job_id = sandbox_client.post("/run", json={"input": {}}).json()["id"]
    wait_status(sandbox_client, job_id, "COMPLETED")
    assert sandbox_client.post(f"/cancel/{job_id}").json()["status"] == "COMPLETED"


def test_retry_failed_job_keeps_id_and_clears_output(start_sandbox: StartSandbox) -> None:
    _, client = start_sandbox()
    job_id = client.post("/run", json={"input": {"sandbox": {"fail": True}}}).json()["id"]
    failed = wait_status(client, job_id, "FAILED")
    assert "error" in failed
    assert client.post(f"/retry/{job_id}").json() == {"id": job_id, "status": "IN_QUEUE"}
    right_after = client.get(f"/status/{job_id}").json()
    assert "error" not in right_after and "executionTime" not in right_after
    assert wait_status(client, job_id, "FAILED")["id"] == job_id
    assert client.get("/health").json()["jobs"]["retried"] == 1


def test_retry_timed_out_job(start_sandbox: StartSandbox) -> None:
    _, client = start_sandbox()
    body = {"input": {"sandbox": {"duration": 10}}, "policy": {"executionTimeout": 100}}
    job_id = client.post("/run", json=body).json()["id"]
    wait_status(client, job_id, "TIMED_OUT")
    assert client.post(f"/retry/{job_id}").status_code == 200


def test_retry_refuses_jobs_that_did_not_fail(sandbox_client: httpx.Client) -> None:
    job_id = sandbox_client.post("/run", json={"input": {}}).json()["id"]
    wait_status(sandbox_client, job_id, "COMPLETED")
    answer = sandbox_client.post(f"/retry/{job_id}")
    assert answer.status_code == 400 and "COMPLETED" in answer.json()["error"]
    assert sandbox_client.post("/retry/no-such-job").status_code == 404


def test_purge_queue_removes_waiting_jobs_only(start_sandbox: StartSandbox) -> None:
    _, client = start_sandbox(workers=1)
    running = client.post("/run", json={"input": {"sandbox": {"duration": 30}}}).json()["id"]
    wait_status(client, running, "IN_PROGRESS")
    queued = [client.post("/run", json={"input": {"i": i}}).json()["id"] for i in range(3)]
    assert client.post("/purge-queue").json() == {"removed": 3, "status": "completed"}
    assert all(client.get(f"/status/{job_id}").status_code == 404 for job_id in queued)
    assert client.get(f"/status/{running}").json()["status"] == "IN_PROGRESS"
    assert client.get("/health").json()["jobs"]["inQueue"] == 0
    client.post(f"/cancel/{running}")


def test_runsync_whose_job_is_purged_answers_404(start_sandbox: StartSandbox) -> None:
    _, client = start_sandbox(workers=1)
    blocker = client.post("/run", json={"input": {"sandbox": {"duration": 30}}}).json()["id"]
    wait_status(client, blocker, "IN_PROGRESS")
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(client.post, "/runsync?wait=20000", json={"input": {}})
        wait_until(lambda: client.get("/health").json()["jobs"]["inQueue"] == 1)
        assert client.post("/purge-queue").json()["removed"] == 1
        answer = waiting.result(10)
    assert answer.status_code == 404 and "error" in answer.json()
    client.post(f"/cancel/{blocker}")


def test_health_counts_jobs_and_workers(start_sandbox: StartSandbox) -> None:
    _, client = start_sandbox(workers=3)
    empty = client.get("/health").json()
    assert empty["workers"]["idle"] == 3 and empty["workers"]["running"] == 0
    assert set(empty["jobs"]) == {"completed", "failed", "inProgress", "inQueue", "retried"}
    long_jobs = [
        client.post("/run", json={"input": {"sandbox": {"duration": 30}}}).json()["id"]
        for _ in range(4)
    ]
    client.post("/run", json={"input": {"sandbox": {"fail": True}}})
    busy = wait_until(lambda: (h := client.get("/health").json())["jobs"]["inProgress"] == 3 and h)
    assert busy["jobs"]["inQueue"] == 2 and busy["workers"] == {
        "idle": 0,
        "initializing": 0,
        "ready": 0,
        "running": 3,
        "throttled": 0,
        "unhealthy": 0,
    }
    for job_id in long_jobs:
        client.post(f"/cancel/{job_id}")
    done = wait_until(lambda: (h := client.get("/health").json())["jobs"]["failed"] == 1 and h)
    assert done["jobs"]["inProgress"] == 0 and done["jobs"]["inQueue"] == 0


def test_low_priority_jobs_run_after_normal_ones(start_sandbox: StartSandbox) -> None:
    _, client = start_sandbox(workers=1, default_duration_s=0.01)
    blocker = client.post("/run", json={"input": {"sandbox": {"duration": 30}}}).json()["id"]
    wait_status(client, blocker, "IN_PROGRESS")
    low = client.post("/run", json={"input": {"k": "low"}, "policy": {"lowPriority": True}}).json()[
        "id"
    ]
    normal = [client.post("/run", json={"input": {"k": i}}).json()["id"] for i in range(3)]
    client.post(f"/cancel/{blocker}")
    for job_id in [*normal, low]:
        wait_status(client, job_id, "COMPLETED")
    # One worker: a job's queue time shows the order in which it was picked up.
    delays = {
        job_id: client.get(f"/status/{job_id}").json()["delayTime"] for job_id in [*normal, low]
    }
    assert delays[low] >= max(delays[job_id] for job_id in normal)


def test_execution_timeout_ends_the_job_as_timed_out(sandbox_client: httpx.Client) -> None:
    body = {"input": {"sandbox": {"duration": 30}}, "policy": {"executionTimeout": 150}}
    job_id = sandbox_client.post("/run", json=body).json()["id"]
    timed_out = wait_status(sandbox_client, job_id, "TIMED_OUT")
    assert 140 <= timed_out["executionTime"] < 5000


def test_ttl_removes_a_waiting_job(start_sandbox: StartSandbox) -> None:
    _, client = start_sandbox(workers=1)
    blocker = client.post("/run", json={"input": {"sandbox": {"duration": 30}}}).json()["id"]
    wait_status(client, blocker, "IN_PROGRESS")
    job_id = client.post("/run", json={"input": {}, "policy": {"ttl": 800}}).json()["id"]
    assert client.get(f"/status/{job_id}").json()["status"] == "IN_QUEUE"
    wait_until(lambda: client.get(f"/status/{job_id}").status_code == 404)
    assert client.get("/health").json()["jobs"]["inQueue"] == 0
    client.post(f"/cancel/{blocker}")


def test_ttl_removes_a_running_job_and_frees_its_worker(start_sandbox: StartSandbox) -> None:
    _, client = start_sandbox(workers=1)
    body = {"input": {"sandbox": {"duration": 30}}, "policy": {"ttl": 800}}
    job_id = client.post("/run", json=body).json()["id"]
    wait_status(client, job_id, "IN_PROGRESS")
    wait_until(lambda: client.get(f"/status/{job_id}").status_code == 404)
    assert wait_until(lambda: client.get("/health").json()["workers"]["idle"] == 1)


def test_results_expire_after_retention(start_sandbox: StartSandbox) -> None:
    # Long enough to see each result once even on a busy machine, short enough for a quick test.
    _, client = start_sandbox(retention_run_s=0.8, retention_runsync_s=0.5)
    run_id = client.post("/run", json={"input": {}}).json()["id"]
    wait_status(client, run_id, "COMPLETED")
    sync_id = client.post("/runsync", json={"input": {}}).json()["id"]
    assert client.get(f"/status/{sync_id}").status_code == 200
    wait_until(lambda: client.get(f"/status/{sync_id}").status_code == 404)
    wait_until(lambda: client.get(f"/status/{run_id}").status_code == 404)
    answer = client.get(f"/status/{run_id}")
    assert "error" in answer.json()


def test_status_ttl_query_sets_how_long_the_result_stays(sandbox_client: httpx.Client) -> None:
    job_id = sandbox_client.post("/run", json={"input": {}}).json()["id"]
    wait_status(sandbox_client, job_id, "COMPLETED")
    assert sandbox_client.get(f"/status/{job_id}?ttl=100").status_code == 200
    wait_until(lambda: sandbox_client.get(f"/status/{job_id}").status_code == 404)


def test_jobs_belong_to_their_endpoint(start_sandbox: StartSandbox) -> None:
    sandbox, client = start_sandbox()
    job_id = client.post("/run", json={"input": {}}).json()["id"]
    with httpx.Client(base_url=f"{sandbox.base_url}/other") as other:
        assert other.get(f"/status/{job_id}").status_code == 404
        assert other.get("/health").json()["jobs"]["inQueue"] == 0


def test_stream_drains_chunks_buffered_since_the_last_call(start_sandbox: StartSandbox) -> None:
    _, client = start_sandbox()
    body = {"input": {"sandbox": {"duration": 0.3, "stream": ["a", "b", "c"]}}}
    job_id = client.post("/run", json=body).json()["id"]
    seen: list[str] = []

    def drained_all() -> bool:
        answer = client.get(f"/stream/{job_id}").json()
        assert set(answer) == {"status", "stream"}
        seen.extend(chunk["output"] for chunk in answer["stream"])
        return answer["status"] == "COMPLETED" and len(seen) == 3

    wait_until(drained_all)
    assert seen == ["a", "b", "c"]
    assert client.post(f"/stream/{job_id}").json()["stream"] == []
    assert client.get(f"/status/{job_id}").json()["output"] == ["a", "b", "c"]


def test_status_sync_waits_for_the_end(sandbox_client: httpx.Client) -> None:
    job_id = sandbox_client.post("/run", json={"input": {"sandbox": {"duration": 0.2}}}).json()[
        "id"
    ]
    assert sandbox_client.get(f"/status-sync/{job_id}?wait=5000").json()["status"] == "COMPLETED"


def test_thousands_of_jobs_need_no_task_each(start_sandbox: StartSandbox) -> None:
    sandbox, client = start_sandbox(workers=20, default_duration_s=2.0)
    ids = [client.post("/run", json={"input": {"i": i}}).json()["id"] for i in range(300)]
    wait_until(lambda: client.get("/health").json()["jobs"]["inProgress"] == 20)
    tasks = asyncio.run_coroutine_threadsafe(_task_count(), sandbox.loop).result(5)
    assert tasks < 20 + 10  # the workers, the sweeper, the request being served
    assert client.post("/purge-queue").json()["removed"] == 280
    for job_id in ids[:20]:
        client.post(f"/cancel/{job_id}")


async def _task_count() -> int:
    return len(asyncio.all_tasks())
