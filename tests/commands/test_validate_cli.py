"""``job-console validate`` run for real (``python -m gui validate``) on issue 2's bad inputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def _validate(*args: str | Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "gui", "validate", *map(str, args)],
        input=stdin.decode() if stdin is not None else None,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def _write(directory: Path, name: str, data: bytes) -> Path:
    path = directory / name
    path.write_bytes(data)
    return path


def test_valid_file_prints_nothing_and_exits_0(tmp_path: Path) -> None:
    good = _write(tmp_path, "good.json", b'{"input": {"prompt": "a cat"}}')
    result = _validate(good)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_warnings_alone_exit_0(tmp_path: Path) -> None:
    path = _write(tmp_path, "warn.json", b'{"input": {},\n "Webhook": "https://x.example"}')
    result = _validate(path)
    assert result.returncode == 0
    assert result.stdout.startswith(f'{path}:2:2: warning: Unknown key "Webhook": did you mean')


def test_errors_print_file_line_column_sorted_and_exit_1(tmp_path: Path) -> None:
    text = '{\n  "polcy": {},\n  "input": {},\n  "policy": {"ttl": 5}\n}'
    path = _write(tmp_path, "bad.json", text.encode())
    result = _validate(path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f'{path}:2:3: warning: Unknown key "polcy"')
    assert lines[1].startswith(f"{path}:4:21: error: policy.ttl is 5 ms")
    assert len(lines) == 2


def test_empty_file(tmp_path: Path) -> None:
    result = _validate(_write(tmp_path, "empty.json", b""))
    assert result.returncode == 1
    assert result.stdout.startswith(f"{tmp_path / 'empty.json'}:1:1: error: The request is empty")


def test_utf8_bom(tmp_path: Path) -> None:
    path = _write(tmp_path, "bom.json", b'\xef\xbb\xbf{"input": {},\n "policy": {"ttl": 1}}')
    result = _validate(path)
    assert result.returncode == 1
    assert result.stdout.startswith(f"{path}:2:20: error: policy.ttl is 1 ms")


def test_utf16_with_bom(tmp_path: Path) -> None:
    body = '{"input": {"prompt": "naïve ☕"},\n "policy": {"ttl": 2}}'
    path = _write(tmp_path, "utf16.json", body.encode("utf-16"))
    result = _validate(path)
    assert result.returncode == 1
    assert result.stdout.startswith(f"{path}:2:20: error: policy.ttl is 2 ms")


def test_binary_data(tmp_path: Path) -> None:
    path = _write(tmp_path, "data.bin", bytes(range(256)) * 8)
    result = _validate(path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip() == (
        f"job-console validate: {path} is binary data, not text: a request file is JSON text, "
        'such as {"input": {...}}.'
    )


def test_fifty_megabyte_file(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    result = _validate(path)
    assert result.returncode == 2
    assert f"{path} is 50.0 MB: too big to be a request" in result.stderr


def test_ten_thousand_levels_of_nesting(tmp_path: Path) -> None:
    path = _write(tmp_path, "deep.json", b"[" * 10_000 + b"]" * 10_000)
    result = _validate(path)
    assert result.returncode == 1
    assert result.stdout.startswith(f"{path}:1:513: error: The JSON is nested more than 512 levels")


def test_directory(tmp_path: Path) -> None:
    result = _validate(tmp_path)
    assert result.returncode == 2
    assert "is a folder, not a request file" in result.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this platform")
@pytest.mark.parametrize("verb", ["validate", "run"])
def test_a_named_pipe_is_refused_at_once(tmp_path: Path, verb: str) -> None:
    fifo = tmp_path / "request.json"
    os.mkfifo(fifo)  # nothing ever writes to it: reading it waited forever
    result = subprocess.run(
        [sys.executable, "-m", "gui", verb, str(fifo)],
        capture_output=True,
        text=True,
        timeout=60,  # a bound for the hang that was, not a measure
        check=False,
    )
    assert result.returncode == 2
    assert f"{fifo} is a named pipe (FIFO), not a regular file" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_file(tmp_path: Path) -> None:
    result = _validate(tmp_path / "absent.json")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"job-console validate: {tmp_path / 'absent.json'}: no such file. Check the name and the "
        "folder."
    )


def test_unreadable_file_wins_over_invalid_and_all_files_are_checked(tmp_path: Path) -> None:
    bad = _write(tmp_path, "bad.json", b'{"input": 1}')
    result = _validate(tmp_path / "absent.json", bad)
    assert result.returncode == 2
    assert result.stdout.startswith(f"{bad}:1:11: error:")


def test_a_jsonl_file_is_checked_line_by_line(tmp_path: Path) -> None:
    lines = [
        '{"input": {"text": "one\u2028two\u2029three\u0085four"}}',  # valid: not line ends
        "",
        '{"input": 1}',
        '{"input": {}, "Webhok": "https://x.example"}',
    ]
    path = _write(tmp_path, "batch.jsonl", "\r\n".join(lines).encode("utf-8"))
    result = _validate(path)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f'{path}:3:11: error: "input" must be a JSON object ({{...}}) holding what the worker '
        "needs; it is an integer.",
        f'{path}:4:15: warning: Unknown key "Webhok": did you mean "webhook"? RunPod reads only '
        "input, webhook, policy and s3Config at the top level and discards any other key; data "
        'for the worker belongs inside "input".',
    ]
    first = _write(tmp_path, "one.jsonl", lines[0].encode("utf-8") + b"\n")
    assert _validate(first).returncode == 0
    empty = _validate(_write(tmp_path, "empty.jsonl", b"\n  \n"))
    assert (empty.returncode, empty.stdout) == (
        1,
        f"{tmp_path / 'empty.jsonl'}:1:1: error: The file holds no request: a .jsonl file has "
        "one JSON body per line.\n",
    )


def test_a_reader_gone_away_ends_it_quietly(tmp_path: Path) -> None:
    # job-console validate many.json | head -1
    members = ", ".join(f'"k{i}": {i}' for i in range(20_000))
    path = _write(tmp_path, "many.json", ('{"input": {}, ' + members + "}").encode())
    process = subprocess.Popen(
        [sys.executable, "-m", "gui", "validate", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline().startswith(f'{path}:1:15: warning: Unknown key "k0"')
    process.stdout.close()
    assert process.wait(timeout=120) == 1
    assert process.stderr.read() == ""
    process.stderr.close()


def test_sync_uses_the_runsync_limit(tmp_path: Path) -> None:
    body = b'{"input": {"blob": "' + b"x" * (11 * 1024 * 1024) + b'"}}'
    path = _write(tmp_path, "eleven.json", body)
    run = _validate(path)
    assert run.returncode == 1 and "that /run accepts" in run.stdout
    assert _validate(path, "--sync").returncode == 0


def test_json_output(tmp_path: Path) -> None:
    bad = _write(tmp_path, "bad.json", b'{"input": {}, "policy": {"ttl": 5}}')
    result = _validate(bad, tmp_path / "absent.json", "--json")
    assert result.returncode == 2 and result.stderr == ""
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["operation"] == "run"
    first, second = report["files"]
    assert first["file"] == str(bad) and first["ok"] is False
    assert first["size_bytes"] == 31 and first["limit_bytes"] == 10 * 1024 * 1024
    assert first["diagnostics"] == [
        {
            "severity": "error",
            "message": first["diagnostics"][0]["message"],
            "path": ["policy", "ttl"],
            "line": 1,
            "column": 33,
            "offset": 32,
            "length": 1,
        }
    ]
    assert second["readable"] is False and "no such file" in second["error"]


def test_standard_input() -> None:
    result = _validate("-", stdin=b'{"input": []}')
    assert result.returncode == 1
    assert result.stdout.startswith('-:1:11: error: "input" must be a JSON object')


def test_help_names_the_exit_statuses() -> None:
    result = _validate("--help")
    assert result.returncode == 0
    assert "can't be read or isn't text" in " ".join(result.stdout.split())
