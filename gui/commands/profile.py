"""``job-console profile``: add, list, test and remove profiles; keys and S3 secrets to the keyring.

A key is read from a hidden prompt or, with ``--api-key-stdin``, from standard input; never from a
command-line argument, where other users and the shell history would see it. Only the standard
library is imported at the top: the parser is built on every ``job-console`` call.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gui.core.profiles.profiles import ProfileStore
    from gui.core.profiles.secrets import SecretStore

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="profile_action", metavar="ACTION", required=True)

    add = actions.add_parser("add", help="add a profile (a RunPod endpoint or a local worker)")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--kind", choices=("cloud", "local"), default="cloud")
    add.add_argument("--endpoint", metavar="ID", default="", help="the RunPod endpoint id")
    add.add_argument("--base-url", metavar="URL", default="", help="default: RunPod's API")
    add.add_argument("--api-key-stdin", action="store_true", help="read the API key from stdin")
    add.add_argument(
        "--use-account-key", action="store_true", help="use the shared account key (set-key)"
    )
    add.add_argument("--handler", metavar="FILE", default="", help="local: handler.py to start")
    add.add_argument("--url", metavar="URL", default="", help="local: a worker already running")
    add.add_argument("--port", type=int, default=0, help="local: port to serve the handler on")
    add.add_argument("--python", metavar="EXE", default="", help="local: interpreter to use")

    listing = actions.add_parser("list", help="list the profiles and where their keys come from")
    listing.add_argument("--json", action="store_true", help="one JSON document, for scripts")

    remove = actions.add_parser("remove", help="remove a profile and its stored key")
    remove.add_argument("name", metavar="NAME")

    test = actions.add_parser("test", help="check a profile's endpoint answers and takes the key")
    test.add_argument("name", metavar="NAME")

    set_key = actions.add_parser("set-key", help="store (or --delete) a profile's API key")
    who = set_key.add_mutually_exclusive_group(required=True)
    who.add_argument("name", metavar="NAME", nargs="?")
    who.add_argument("--account", action="store_true", help="the key shared by all profiles")
    set_key.add_argument("--api-key-stdin", action="store_true", help="read the key from stdin")
    set_key.add_argument("--delete", action="store_true", help="forget the stored key")

    variables = actions.add_parser("vars", help="list a profile's variables (for placeholders)")
    variables.add_argument("name", metavar="NAME")
    variables.add_argument("--json", action="store_true", help="one JSON object")
    set_var = actions.add_parser(
        "set-var", help="set a profile variable ({{NAME}} in a body; not for secrets)"
    )
    set_var.add_argument("name", metavar="PROFILE")
    set_var.add_argument("variable", metavar="NAME")
    set_var.add_argument("value", metavar="VALUE")
    unset_var = actions.add_parser("unset-var", help="remove a profile variable")
    unset_var.add_argument("name", metavar="PROFILE")
    unset_var.add_argument("variable", metavar="NAME")

    guard = actions.add_parser(
        "set-guard",
        help="set a profile's spend guards: cancel a job retried too often, or not started or "
        "not ended in time (the job stays in the history with the reason)",
    )
    guard.add_argument("name", metavar="PROFILE")
    guard.add_argument(
        "--max-retries", metavar="N", help="cancel a job RunPod retried more than N times ('off')"
    )
    guard.add_argument(
        "--start-within", metavar="TIME", help="cancel a job still queued after TIME: 90s, 10m, 2h"
    )
    guard.add_argument(
        "--finish-within", metavar="TIME", help="cancel a job not ended after TIME: 30m, 1h, 1d"
    )
    guard.add_argument("--off", action="store_true", help="turn every guard of the profile off")

    s3 = actions.add_parser("s3", help="S3 credential sets (the secret goes to the keyring)")
    s3_actions = s3.add_subparsers(dest="s3_action", metavar="ACTION", required=True)
    s3_add = s3_actions.add_parser("add", help="add or replace a credential set")
    s3_add.add_argument("name", metavar="SET")
    s3_add.add_argument("--access-id", required=True)
    s3_add.add_argument("--bucket", required=True)
    s3_add.add_argument("--endpoint-url", required=True)
    s3_add.add_argument("--object-path", default="")
    s3_add.add_argument("--secret-stdin", action="store_true", help="read accessSecret from stdin")
    s3_actions.add_parser("list", help="list the credential sets")
    s3_remove = s3_actions.add_parser("remove", help="remove a credential set and its secret")
    s3_remove.add_argument("name", metavar="SET")


def run(args: argparse.Namespace) -> int:
    from gui.core.errors import ConsoleError, SecretUnavailable
    from gui.core.paths import resolve_data_dir
    from gui.core.profiles.profiles import ProfileStore
    from gui.core.profiles.secrets import SecretStore

    secrets = SecretStore()
    store = ProfileStore(resolve_data_dir(getattr(args, "data_dir", None)), secrets)
    handlers = {
        "add": _add,
        "list": _list,
        "remove": _remove,
        "test": _test,
        "set-key": _set_key,
        "s3": _s3,
        "vars": _vars,
        "set-var": _set_var,
        "unset-var": _unset_var,
        "set-guard": _set_guard,
    }
    try:
        return handlers[args.profile_action](args, store, secrets)
    except SecretUnavailable as exc:
        print(f"job-console profile: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE
    except (ConsoleError, ValueError) as exc:
        print(f"job-console profile: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_FAILED


def _vars(args: argparse.Namespace, store: ProfileStore, secrets: SecretStore) -> int:
    store.get(args.name)
    variables = store.variables(args.name)
    if args.json:
        print(json.dumps(variables, ensure_ascii=False))
    else:
        for name, value in variables.items():
            print(f"{name}={value}")
    return EXIT_OK


def _set_var(args: argparse.Namespace, store: ProfileStore, secrets: SecretStore) -> int:
    store.set_variable(args.name, args.variable, args.value)
    return EXIT_OK


def _unset_var(args: argparse.Namespace, store: ProfileStore, secrets: SecretStore) -> int:
    store.unset_variable(args.name, args.variable)
    return EXIT_OK


def _set_guard(args: argparse.Namespace, store: ProfileStore, secrets: SecretStore) -> int:
    """Change the guards named (``off`` turns one off); the others stay as they were."""
    import dataclasses

    from gui.core.account.guards import SpendGuards, parse_duration

    given = (args.max_retries, args.start_within, args.finish_within)
    if not args.off and all(value is None for value in given):
        print(
            "job-console profile: name a guard to set (--max-retries N, --start-within TIME, "
            "--finish-within TIME; 'off' turns one off) or --off for all.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    guards = SpendGuards() if args.off else store.guards(store.get(args.name).name)
    changes: dict[str, Any] = {}
    if args.max_retries is not None:
        changes["max_retries"] = _off_or(args.max_retries, _retries)
    if args.start_within is not None:
        changes["start_within_s"] = _off_or(args.start_within, parse_duration)
    if args.finish_within is not None:
        changes["finish_within_s"] = _off_or(args.finish_within, parse_duration)
    guards = dataclasses.replace(guards, **changes)
    store.set_guards(args.name, guards)
    print(f"Spend guards of '{args.name}': {guards.describe()}.")
    return EXIT_OK


def _off_or(text: str, parse: Any) -> Any:
    return None if text.strip().lower() == "off" else parse(text)


def _retries(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"--max-retries {text!r}: give a whole number (or 'off').") from None


def _warn_if_insecure(secrets: SecretStore) -> None:
    if not secrets.secure:
        print(f"warning: {secrets.warning}", file=sys.stderr)


def _cannot_keep(secrets: SecretStore, what: str) -> int:
    """Say that ``what`` can't be kept, before anything changed: a command ends with its process,
    and without a secure keyring a secret would live in that process's memory alone."""
    print(
        f"job-console profile: {what} can't be kept: no secure keyring is available (backend: "
        f"{secrets.backend_name}), and secrets are never written to a file. Nothing was changed. "
        "Unlock or install a keyring (Secret Service, macOS Keychain, Windows Credential Locker) "
        "and try again; an API key can also come from the RUNPOD_API_KEY variable.",
        file=sys.stderr,
    )
    return EXIT_FAILED


def _read_secret(from_stdin: bool, prompt: str) -> str | None:
    """From stdin when asked, else a hidden prompt on a terminal, else nothing."""
    if from_stdin:
        value = sys.stdin.read().strip()
        if not value:
            raise SystemExit("job-console profile: standard input held no secret")
        return value
    if sys.stdin.isatty():
        return getpass.getpass(prompt).strip() or None
    return None


def _add(args: argparse.Namespace, store: ProfileStore, secrets: SecretStore) -> int:
    from gui.core.profiles.profiles import Profile
    from gui.core.profiles.secrets import api_key_name

    if args.kind == "local":
        profile = Profile(
            args.name,
            "local",
            base_url=args.url or args.base_url,
            handler=args.handler,
            python=args.python,
            port=args.port,
        )
    else:
        profile = Profile(
            args.name,
            "cloud",
            endpoint_id=args.endpoint,
            base_url=args.base_url,
            use_account_key=args.use_account_key,
        )
    if profile.kind == "cloud" and args.api_key_stdin and not secrets.secure:
        return _cannot_keep(secrets, f"the API key of '{profile.name}'")
    store.add(profile)
    print(f"Added profile '{profile.name}': {profile.describe()}")
    if profile.kind != "cloud":
        if args.api_key_stdin:
            print("A local worker takes no API key; standard input was not read.")
        return EXIT_OK
    if args.use_account_key and not args.api_key_stdin:
        return EXIT_OK
    if not secrets.secure and sys.stdin.isatty():  # no key asked for: none could be kept
        print(
            f"No API key was asked for: no secure keyring is available (backend: "
            f"{secrets.backend_name}) to keep it in. Set RUNPOD_API_KEY, or unlock or install a "
            f"keyring and run 'job-console profile set-key {profile.name}'."
        )
        return EXIT_OK
    key = _read_secret(args.api_key_stdin, f"API key for '{profile.name}' (empty to skip): ")
    if key:
        secrets.set(api_key_name(profile.name), key)
        print(f"Stored its API key in the keyring ({secrets.backend_name}).")
    else:
        print(
            "No key stored: the account key or RUNPOD_API_KEY will serve it "
            f"(set one with 'job-console profile set-key {profile.name}')."
        )
    return EXIT_OK


def _list(args: argparse.Namespace, store: ProfileStore, secrets: SecretStore) -> int:
    from gui.core.profiles.secrets import api_key_for

    rows: list[dict[str, Any]] = []
    for profile in store.profiles():
        _key, source = api_key_for(profile, secrets, account_key_first=profile.use_account_key)
        guards = store.guards(profile.name)
        rows.append({**profile.to_json(), "target": profile.describe(), "key": source,
                     "guards": guards.to_json(), "guarded": guards.describe()})  # fmt: skip
    if args.json:
        print(json.dumps({"profiles": rows, "secureKeyring": secrets.secure}, indent=2))
        return EXIT_OK
    _warn_if_insecure(secrets)
    width = max(len(row["name"]) for row in rows)
    for row in rows:
        key = "" if row["kind"] != "cloud" else f"  (key: {row['key']})"
        guarded = "" if row["guarded"] == "off" else f"  (guards: {row['guarded']})"
        print(f"{row['name']:<{width}}  {row['kind']:<7}  {row['target']}{key}{guarded}")
    return EXIT_OK


def _remove(args: argparse.Namespace, store: ProfileStore, secrets: SecretStore) -> int:
    store.remove(args.name)
    print(f"Removed profile '{args.name}' and its stored key.")
    return EXIT_OK


def _test(args: argparse.Namespace, store: ProfileStore, secrets: SecretStore) -> int:
    import asyncio

    import httpx

    from gui.core.endpoint.connection_check import ConnectionResult, check_connection
    from gui.core.profiles.profiles import make_key_provider

    profile = store.get(args.name)
    if profile.kind == "sandbox":
        print("The built-in sandbox runs inside the window; there is nothing to test from here.")
        return EXIT_OK
    if profile.needs_launch:
        print(f"Testing the worker expected at port {profile.serve_port} (started by the window).")
    target = profile.to_target()
    key = make_key_provider(store, secrets)(target)

    async def ask() -> ConnectionResult:
        async with httpx.AsyncClient() as client:
            return await check_connection(client, target, key)

    result = asyncio.run(ask())
    print(f"{profile.name}: {result.message}")
    return EXIT_OK if result.ok else EXIT_UNREACHABLE


def _set_key(args: argparse.Namespace, store: ProfileStore, secrets: SecretStore) -> int:
    from gui.core.profiles.secrets import ACCOUNT_KEY_NAME, api_key_name

    if args.account:
        name, label = ACCOUNT_KEY_NAME, "the account key"
    else:
        profile = store.get(args.name)
        if profile.kind != "cloud":
            print(f"job-console profile: '{profile.name}' takes no API key.", file=sys.stderr)
            return EXIT_USAGE
        name, label = api_key_name(profile.name), f"the key of '{profile.name}'"
    if args.delete:
        secrets.delete(name)
        print(f"Forgot {label}.")
        return EXIT_OK
    if not secrets.secure:
        return _cannot_keep(secrets, label)
    key = _read_secret(args.api_key_stdin, f"API key ({label}): ")
    if not key:
        print("job-console profile: no key given; nothing changed.", file=sys.stderr)
        return EXIT_USAGE
    secrets.set(name, key)
    print(f"Stored {label} in the keyring ({secrets.backend_name}).")
    return EXIT_OK


def _s3(args: argparse.Namespace, store: ProfileStore, secrets: SecretStore) -> int:
    from gui.core.profiles.s3refs import S3CredentialSet, s3_reference

    if args.s3_action == "list":
        for item in store.s3_sets():
            print(f"{item.name}  {item.bucket_name} at {item.endpoint_url}  ({item.access_id})")
        return EXIT_OK
    if args.s3_action == "remove":
        store.remove_s3_set(args.name)
        print(f"Removed the S3 credential set '{args.name}' and its secret.")
        return EXIT_OK
    credential_set = S3CredentialSet(
        args.name, args.access_id, args.bucket, args.endpoint_url, args.object_path
    )
    s3_reference(args.name)  # a bad name fails before the secret is asked for
    if not secrets.secure and (args.secret_stdin or sys.stdin.isatty()):
        return _cannot_keep(secrets, f"the accessSecret of the S3 credential set '{args.name}'")
    secret = _read_secret(args.secret_stdin, f"accessSecret for '{args.name}': ")
    store.save_s3_set(credential_set, secret)
    print(
        f"Saved the S3 credential set '{args.name}'. Put "
        f'"accessSecret": "{s3_reference(args.name)}" in a request\'s s3Config to use it.'
    )
    return EXIT_OK
