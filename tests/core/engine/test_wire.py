"""The wire between a window and its engine process (``gui.core.engine.process.wire``): every
value that crosses comes back as it was."""

from __future__ import annotations

from typing import Any

import pytest

from gui.core.account.diagnosis import WaitDiagnosis, WaitKind
from gui.core.account.models import Endpoint, EndpointWorkers
from gui.core.account.status import EndpointStatus
from gui.core.endpoint.connection_check import ConnectionResult
from gui.core.engine.process import answers
from gui.core.engine.process.wire import (
    decode_error,
    decode_line,
    decode_record,
    decode_target,
    encode_error,
    encode_line,
    encode_record,
    encode_target,
)
from gui.core.errors import (
    AccountError,
    ConsoleError,
    JobNotFound,
    ListenerPortTaken,
    OperationUnsupported,
    RateLimited,
)
from gui.core.records import JobRecord, JobState
from gui.core.targets import Target
from gui.core.webhooks.address import ListenerSettings
from gui.core.webhooks.console_listener import ListenerInfo


def full_record() -> JobRecord:
    return JobRecord(
        local_id="L1",
        profile="Cloud ✓",
        endpoint_id="ep",
        operation="runsync",
        request={"input": {"prompt": "héllo", "n": [1, 2.5, None, True]}},
        submitted_at=1_700_000_000.123456,
        state=JobState.FAILED,
        job_id="job-1",
        template="greet",
        started_at=1_700_000_001.5,
        finished_at=1_700_000_002.25,
        delay_time_ms=120,
        execution_time_ms=880,
        worker_id="w-1",
        progress={"step": 3},
        output={"images": ["a" * 100]},
        error='{"error_message": "boom"}',
        stream=[{"output": "x"}, {"output": "y"}],
        history=[(1_700_000_000.2, "IN_QUEUE"), (1_700_000_002.25, "GUARD: cancelling: 4 > 3")],
        webhook_deliveries=2,
        webhook_missing=True,
        note="why",
        origin={"file": "a.json", "row": 4, "variables": {"x": "1"}},
        facts={"gpu": "A100", "cost": {"usd": 0.01}},
    )


def through_wire(value: dict[str, Any]) -> dict[str, Any]:
    return decode_line(encode_line({"value": value}))["value"]  # type: ignore[no-any-return]


def test_a_record_crosses_the_wire_whole() -> None:
    record = full_record()
    assert decode_record(through_wire(encode_record(record))) == record


def test_a_light_record_leaves_its_output_and_stream_in_the_store() -> None:
    record = full_record()
    sent = through_wire(encode_record(record, light=True))
    assert sent["light"] is True and "output" not in sent and "stream" not in sent
    back = decode_record(sent)
    assert back.output is None and back.stream == []
    assert back.request == record.request and back.history == record.history
    assert back.state is JobState.FAILED and back.facts == record.facts


def test_a_target_crosses_the_wire() -> None:
    target = Target(name="local", kind="local", base_url="http://127.0.0.1:8000", endpoint_id="")
    assert decode_target(through_wire(encode_target(target))) == target
    with pytest.raises(ValueError, match="unknown target kind"):
        decode_target({"name": "x", "kind": "moon", "base_url": "u"})


def test_errors_cross_the_wire_as_their_own_kind_and_words() -> None:
    missing = decode_error(through_wire(encode_error(JobNotFound("gone", status_code=404))))
    assert isinstance(missing, JobNotFound) and str(missing) == "gone"
    assert missing.status_code == 404
    limited = decode_error(through_wire(encode_error(RateLimited("slow down", retry_after=2.5))))
    assert isinstance(limited, RateLimited) and limited.retry_after == 2.5
    unsupported = decode_error(encode_error(OperationUnsupported("no health here")))
    assert type(unsupported) is OperationUnsupported and str(unsupported) == "no health here"
    key = decode_error(encode_error(KeyError("L9")))
    assert isinstance(key, KeyError) and key.args == ("L9",)
    strange = decode_error(encode_error(ZeroDivisionError("division by zero")))
    assert isinstance(strange, ConsoleError)
    assert str(strange) == "ZeroDivisionError: division by zero"


def test_a_line_that_is_not_an_object_is_refused_in_words() -> None:
    with pytest.raises(ValueError, match="JSON object, not list"):
        decode_line(b"[1, 2]\n")
    assert encode_line({"a": "é"}).endswith(b"\n") and b"\n" not in encode_line({"a": "x\ny"})[:-1]


def test_an_error_with_more_to_its_constructor_keeps_its_kind_and_attributes() -> None:
    taken = ListenerPortTaken("127.0.0.1", 8787, suggested_port=8788)
    crossed = decode_error(through_wire(encode_error(taken)))
    assert type(crossed) is ListenerPortTaken and str(crossed) == str(taken)
    assert (crossed.host, crossed.port, crossed.suggested_port) == ("127.0.0.1", 8787, 8788)
    refused = AccountError("refused", status_code=401, errors=("bad key", "try again"))
    back = decode_error(through_wire(encode_error(refused)))
    assert isinstance(back, AccountError) and (back.status_code, back.errors) == (
        401,
        ("bad key", "try again"),
    )


def test_the_accounts_answers_cross_the_wire_whole() -> None:
    endpoint = Endpoint.from_json({
        "id": "ep1", "name": "gen", "gpu": {"pools": ["ADA_24", "AMPERE_24"], "count": 2},
        "workers": {"min": 0, "max": 3}, "createdAt": "2025-01-02T03:04:05Z", "flashboot": True,
    })  # fmt: skip
    workers = EndpointWorkers.from_json("ep1", {
        "workers": [{"id": "w1", "status": "RUNNING", "isStale": True, "version": 3,
                     "startedAt": "2025-01-02T03:05:00Z", "gpuTypeId": "L4"}],
        "endpointVersion": 4, "summary": {"RUNNING": 1},
    })  # fmt: skip
    diagnosis = WaitDiagnosis(WaitKind.ROLLING, "A release rolls out.", "Wait for it.")
    status = EndpointStatus(endpoint, workers, diagnosis, {"jobs": {"inQueue": 2}})
    assert answers.decode_status(through_wire(answers.encode_status(status))) == status
    assert answers.decode_endpoints(
        through_wire({"list": answers.encode_endpoints([endpoint])})["list"]
    ) == [endpoint]
    result = ConnectionResult(False, "The key was refused (401).", 401)
    assert answers.decode_connection(through_wire(answers.encode_connection(result))) == result


def test_the_listeners_state_and_settings_cross_the_wire() -> None:
    info = ListenerInfo(
        "127.0.0.1", 8788, 8787, "https://t.example", None,
        url="http://127.0.0.1:8788/webhook/tok", webhook_url="https://t.example/webhook/tok",
    )  # fmt: skip
    assert answers.decode_listener_info(through_wire(answers.encode_listener_info(info))) == info
    assert answers.decode_listener_info(answers.encode_listener_info(None)) is None
    settings = ListenerSettings("0.0.0.0", 9000, "https://t.example")
    encoded = answers.encode_listener_settings(settings)
    assert answers.decode_listener_settings(through_wire(encoded)) == settings
