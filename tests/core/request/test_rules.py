"""Each of RunPod's body rules (issue 2, RUNPOD_API.md §3): a good body and a bad one, with the
message and the line:column where the diagnostic points."""

from __future__ import annotations

import pytest

from gui.core.request.validation import Diagnostic, validate_text


def _only(text: str, severity: str = "error") -> Diagnostic:
    result = validate_text(text)
    found = [d for d in result.diagnostics if d.severity == severity]
    assert len(found) == 1, result.diagnostics
    return found[0]


def _at(diagnostic: Diagnostic) -> tuple[int, int]:
    return diagnostic.line, diagnostic.column


def _clean(text: str) -> None:
    result = validate_text(text)
    assert result.diagnostics == [], result.diagnostics
    assert result.ok


# -- input ---------------------------------------------------------------------------------------


def test_input_object_is_accepted() -> None:
    _clean('{"input": {"prompt": "a cat"}}')
    _clean('{"input": {}}')


def test_missing_input_is_an_error_at_the_body() -> None:
    d = _only('{\n  "webhook": "https://example.com/hook"\n}')
    assert d.path == ("input",)
    assert _at(d) == (1, 1)
    assert 'no "input"' in d.message and "RunPod requires it" in d.message


def test_missing_input_names_a_key_in_the_wrong_case() -> None:
    d = _only('{"Input": {}}')
    assert '"Input" is not "input"' in d.message and "case-sensitive" in d.message


@pytest.mark.parametrize(
    ("value", "kind"),
    [('"text"', "a string"), ("[1]", "an array"), ("null", "null"), ("3", "an integer")],
)
def test_input_that_is_not_an_object_points_at_the_value(value: str, kind: str) -> None:
    d = _only('{\n  "input": ' + value + "\n}")
    assert _at(d) == (2, 12)
    assert d.path == ("input",)
    assert d.message.startswith('"input" must be a JSON object') and f"it is {kind}" in d.message


def test_body_that_is_not_an_object_is_an_error() -> None:
    result = validate_text('  ["input"]')
    assert result.body is None and not result.ok
    d = result.diagnostics[0]
    assert _at(d) == (1, 3) and "must be a JSON object" in d.message and "an array" in d.message


# -- webhook ---------------------------------------------------------------------------------------


def test_public_https_and_http_webhooks_are_accepted() -> None:
    _clean('{"input": {}, "webhook": "https://hooks.example.com/runpod?token=x"}')
    _clean('{"input": {}, "webhook": "http://52.1.2.3:8080/hook"}')


def test_webhook_must_be_http_or_https() -> None:
    d = _only('{"input": {},\n "webhook": "ftp://example.com/x"}')
    assert _at(d) == (2, 13)
    assert d.path == ("webhook",)
    assert "http:// or https://" in d.message


def test_webhook_must_be_a_string() -> None:
    d = _only('{"input": {}, "webhook": 42}')
    assert _at(d) == (1, 26) and "it is an integer" in d.message


def test_webhook_that_is_not_a_url() -> None:
    d = _only('{"input": {}, "webhook": "not a url"}')
    assert "not a valid URL" in d.message


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "127.0.0.1",
        "127.8.9.10",
        "[::1]",
        "10.1.2.3",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.1.20",
        "printer.local",
        "app.localhost",
    ],
)
def test_webhook_at_a_private_address_is_a_warning(host: str) -> None:
    text = '{"input": {},\n "webhook": "http://' + host + ':9000/hooks/secret-token"}'
    result = validate_text(text)
    assert result.ok
    d = _only(text, "warning")
    assert _at(d) == (2, 13)
    assert "RunPod's cloud can't reach it" in d.message
    assert "secret-token" not in d.message  # the URL's path may hold a listener token


@pytest.mark.parametrize("host", ["172.32.0.1", "8.8.8.8", "example.com", "local.example.com"])
def test_webhook_at_a_public_address_has_no_warning(host: str) -> None:
    _clean('{"input": {}, "webhook": "https://' + host + '/hook"}')


# -- policy ----------------------------------------------------------------------------------------


def test_policy_in_range_is_accepted() -> None:
    _clean('{"input": {}, "policy": {"executionTimeout": 5000, "ttl": 10000, "lowPriority": true}}')
    _clean('{"input": {}, "policy": {"executionTimeout": 604800000, "ttl": 604800000}}')


def test_ttl_below_range_points_at_the_value() -> None:
    d = _only('{\n  "input": {},\n  "policy": {"ttl": 5}\n}')
    assert _at(d) == (3, 21)
    assert d.length == 1
    assert d.path == ("policy", "ttl")
    assert d.message.startswith("policy.ttl is 5 ms; RunPod accepts 10000 ms (10 s)")
    assert "604800000 ms (7 days)" in d.message


def test_execution_timeout_above_range() -> None:
    d = _only('{"input": {}, "policy": {"executionTimeout": 604800001}}')
    assert _at(d) == (1, 46) and d.length == 9
    assert "policy.executionTimeout is 604800001 ms" in d.message
    assert "5000 ms (5 s)" in d.message


@pytest.mark.parametrize(
    ("value", "kind"),
    [('"20000"', "a string (write the number without quotes)"), ("20000.5", "a decimal number")],
)
def test_ttl_must_be_a_whole_number(value: str, kind: str) -> None:
    d = _only('{"input": {}, "policy": {"ttl": ' + value + "}}")
    assert _at(d) == (1, 33)
    assert f"policy.ttl must be a whole number of milliseconds; it is {kind}." in d.message


def test_true_is_not_a_number_of_milliseconds() -> None:
    d = _only('{"input": {}, "policy": {"ttl": true}}')
    assert "it is true" in d.message


def test_low_priority_must_be_a_bool() -> None:
    d = _only('{"input": {}, "policy": {"lowPriority": "yes"}}')
    assert _at(d) == (1, 41)
    assert d.message == "policy.lowPriority must be true or false; it is a string."


def test_unknown_policy_key_is_an_error_at_the_key() -> None:
    d = _only('{"input": {}, "policy": {"timeout": 60000}}')
    assert _at(d) == (1, 26) and d.length == len('"timeout"')
    assert d.path == ("policy", "timeout")
    assert 'policy has no setting "timeout"' in d.message
    assert "executionTimeout, ttl and lowPriority" in d.message


def test_unknown_policy_key_suggests_the_close_one() -> None:
    d = _only('{"input": {}, "policy": {"TTL": 60000}}')
    assert 'Did you mean "ttl"?' in d.message


def test_policy_must_be_an_object() -> None:
    d = _only('{"input": {}, "policy": [1]}')
    assert _at(d) == (1, 25) and "policy must be a JSON object" in d.message


# -- s3Config --------------------------------------------------------------------------------------

S3_GOOD = (
    '{"input": {}, "s3Config": {"accessId": "AKIA", "accessSecret": "s3cr3t-value", '
    '"bucketName": "results", "endpointUrl": "https://s3.example.com"}}'
)


def test_complete_s3_config_is_accepted() -> None:
    _clean(S3_GOOD)
    _clean(S3_GOOD.replace('"results"', '"results", "objectPath": "runs/1"'))


def test_s3_config_missing_key_points_at_s3_config() -> None:
    text = S3_GOOD.replace('"bucketName": "results", ', "")
    d = _only(text)
    assert d.path == ("s3Config", "bucketName")
    assert _at(d) == (1, 15)  # the "s3Config" key
    assert 's3Config has no "bucketName"' in d.message


def test_s3_config_empty_value() -> None:
    d = _only(S3_GOOD.replace('"AKIA"', '""'))
    assert d.path == ("s3Config", "accessId") and _at(d) == (1, 40)
    assert d.message == "s3Config.accessId is empty; RunPod needs a value here."


def test_s3_config_secret_is_never_repeated_in_a_message() -> None:
    text = S3_GOOD.replace('"https://s3.example.com"', '"s3cr3t-value"')
    for d in validate_text(text.replace('"AKIA"', "7")).diagnostics:
        assert "s3cr3t" not in d.message
    d = _only(text)
    assert d.path == ("s3Config", "endpointUrl")
    assert "http:// or https:// URL of the S3 service" in d.message


def test_s3_config_wrong_type() -> None:
    d = _only(S3_GOOD.replace('"s3cr3t-value"', "12345"))
    assert d.message == "s3Config.accessSecret must be a string; it is an integer."


def test_s3_config_unknown_key_is_a_warning_with_a_suggestion() -> None:
    d = _only(S3_GOOD.replace('"results"', '"results", "objectpath": "x"'), "warning")
    assert d.path == ("s3Config", "objectpath")
    assert 'did you mean "objectPath"?' in d.message


def test_s3_config_must_be_an_object() -> None:
    d = _only('{"input": {}, "s3Config": "s3://bucket"}')
    assert "s3Config must be a JSON object" in d.message and "it is a string" in d.message


# -- keys RunPod doesn't read --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "suggestion"),
    [("Webhook", "webhook"), ("polcy", "policy"), ("s3config", "s3Config"), ("inputs", "input")],
)
def test_unknown_top_level_key_suggests_the_known_one(key: str, suggestion: str) -> None:
    text = '{"input": {},\n  "' + key + '": 1}'
    d = _only(text, "warning")
    assert _at(d) == (2, 3) and d.length == len(key) + 2
    assert d.path == (key,)
    assert f'Unknown key "{key}": did you mean "{suggestion}"?' in d.message
    assert "discards" in d.message


def test_unknown_top_level_key_without_a_close_match() -> None:
    d = _only('{"input": {}, "prompt": "a cat"}', "warning")
    assert d.message.startswith('Unknown key "prompt". RunPod reads only input, webhook')


@pytest.mark.parametrize("key", ["webhook", "policy", "s3Config"])
def test_runpod_keys_inside_input_are_a_warning_at_the_key(key: str) -> None:
    d = _only('{"input": {"prompt": "x",\n  "' + key + '": {}}}', "warning")
    assert d.path == ("input", key)
    assert _at(d) == (2, 3)
    assert f'"{key}" inside "input" is not seen by RunPod' in d.message


def test_the_same_keys_at_the_top_level_have_no_warning() -> None:
    _clean('{"input": {"prompt": "x"}, "policy": {}, "webhook": null}')


# -- JSON itself -----------------------------------------------------------------------------------


def test_repeated_key_warns_at_the_second_and_says_the_last_wins() -> None:
    text = '{\n  "input": {},\n  "policy": {\n    "ttl": 5,\n    "ttl": 20000\n  }\n}'
    result = validate_text(text)
    assert result.ok  # the last value, 20000, is the one checked and the one sent
    assert result.body == {"input": {}, "policy": {"ttl": 20000}}
    d = _only(text, "warning")
    assert _at(d) == (5, 5) and d.path == ("policy", "ttl")
    assert "first on line 4" in d.message and "last value is the one used" in d.message


def test_a_key_given_three_times_warns_twice() -> None:
    text = '{"input": {"a": 1,\n"a": 2,\n"a": 3}}'
    warnings = [d for d in validate_text(text).diagnostics if d.severity == "warning"]
    assert [_at(d) for d in warnings] == [(2, 1), (3, 1)]
    assert "this value is ignored; the last one, on line 3, is used" in warnings[0].message


def test_rule_checks_use_the_last_of_repeated_values() -> None:
    d = _only('{"input": {}, "policy": {"ttl": 20000, "ttl": 5}}')
    assert _at(d) == (1, 47)  # the 5, not the 20000


@pytest.mark.parametrize(
    ("token", "column"), [("NaN", 21), ("Infinity", 21), ("-Infinity", 21), ("1e400", 21)]
)
def test_nan_and_infinity_are_errors_at_the_value(token: str, column: int) -> None:
    d = _only('{"input": {"scale": ' + token + "}}")
    assert _at(d) == (1, column) and d.length == len(token)
    assert d.path == ("input", "scale")
    assert "not valid JSON" in d.message or "too large for JSON" in d.message


def test_nan_inside_a_string_is_fine() -> None:
    _clean('{"input": {"word": "NaN", "other": "-Infinity"}}')


def test_body_over_the_run_limit_is_an_error_naming_runsync() -> None:
    filler = "x" * (10 * 1024 * 1024)
    text = '{"input": {"blob": "' + filler + '"}}'
    run = validate_text(text, "run")
    assert not run.ok and run.size_bytes == len(text) - 2  # two spaces less when compact
    d = run.errors[0]
    assert _at(d) == (1, 1) and d.path == ()
    assert "is 10,485,781 bytes when sent, over the 10 MB (10,485,760 bytes) that /run" in d.message
    assert "/runsync" in d.message
    assert validate_text(text, "runsync").ok


def test_body_size_counts_the_compact_utf8_serialization() -> None:
    result = validate_text('{ "input" : { "word" : "é" } }')
    assert result.size_bytes == len('{"input":{"word":"é"}}'.encode())
    assert result.limit_bytes == 10 * 1024 * 1024
    assert validate_text('{"input": {}}', "runsync").limit_bytes == 20 * 1024 * 1024


def test_nan_dropped_by_a_repeated_key_is_not_an_error() -> None:
    result = validate_text('{"input": {"a": NaN, "a": 1}}')
    assert result.ok and result.body == {"input": {"a": 1}}


def test_nan_and_an_overflowing_number_are_both_found() -> None:
    result = validate_text('{"input": {"a": 1e400, "b": [NaN, "NaN"]}}')
    assert [(d.path, d.column) for d in result.errors] == [
        (("input", "a"), 17),
        (("input", "b", 0), 30),
    ]


def test_repeated_top_level_key_warns() -> None:
    result = validate_text('{"input": {"a": 1},\n "input": {"b": 2}}')
    assert result.ok and result.body == {"input": {"b": 2}}
    d = _only('{"input": {"a": 1},\n "input": {"b": 2}}', "warning")
    assert _at(d) == (2, 2) and d.path == ("input",)


def test_body_over_the_runsync_limit_suggests_a_url() -> None:
    text = '{"input": {"blob": "' + "x" * (20 * 1024 * 1024) + '"}}'
    d = validate_text(text, "runsync").errors[0]
    assert "that /runsync accepts. Pass large data by URL or through S3" in d.message
