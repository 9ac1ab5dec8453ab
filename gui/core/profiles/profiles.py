"""Profiles: named targets kept in ``profiles.json`` (names, kinds, ids, URLs; never a secret).

Three kinds (see ``Target``): ``cloud`` (a RunPod endpoint: endpoint id, base URL, a key in the
keyring), ``sandbox`` (the built-in emulator: always present, never stored, never removable) and
``local`` (a worker's ``handler.py`` started with ``--rp_serve_api``, or one already running at a
URL). The same file holds the public half of the S3 credential sets (``s3refs``) and each
profile's variables (``"variables": {profile: {name: value}}``, the built-in sandbox's too): small,
non-secret values for placeholders (``gui.core.request.placeholders``). A variable that looks like
a secret is refused (``check_variable``): secrets live in the keyring, named by reference. Each
profile's spend guards are kept the same way (``"guards": {profile: {...}}``, off when absent;
``gui.core.account.guards``).

The file is read on each call (cached by its modification time) and written atomically, so the
window and a ``job-console profile`` command running beside it see each other's changes.
"""

from __future__ import annotations

import json
import re
import shlex
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from gui.core.account.guards import SpendGuards
from gui.core.errors import ProfileError, ProfileNotFound
from gui.core.files import write_json_atomic
from gui.core.limits import DEFAULT_BASE_URL
from gui.core.profiles.s3refs import S3CredentialSet, s3_reference
from gui.core.profiles.secrets import (
    ACCOUNT_KEY_NAME,
    KeyProvider,
    SecretStore,
    api_key_for,
    api_key_name,
    s3_secret_name,
)
from gui.core.targets import SANDBOX_ENDPOINT_ID, SANDBOX_PROFILE, Target, TargetKind

__all__ = [
    "DEFAULT_LOCAL_PORT",
    "PROFILES_FILE",
    "RUNPOD_PROBE",
    "RUNPOD_PROBE_MISSING",
    "SANDBOX",
    "Profile",
    "ProfileStore",
    "check_profile",
    "check_variable",
    "find_worker_python",
    "make_key_provider",
    "missing_module_message",
    "resolve_profile",
    "worker_command",
    "worker_python",
]

PROFILES_FILE = "profiles.json"
DEFAULT_LOCAL_PORT = 8000  # what ``--rp_serve_api`` uses when no port is given
_ENDPOINT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")
_KINDS: tuple[TargetKind, ...] = ("cloud", "local", "sandbox")
# "account" would collide with the shared key's keyring name ("api-key:account").
_RESERVED_NAMES = {SANDBOX_PROFILE.casefold(), "account"}


@dataclass(frozen=True, slots=True)
class Profile:
    """A named target. ``base_url`` is the cloud base URL or a running local worker's URL."""

    name: str
    kind: TargetKind
    endpoint_id: str = ""
    base_url: str = ""
    handler: str = ""  # local: the handler.py the console starts
    python: str = ""  # local: the interpreter to start it with ("" = ``worker_python`` finds one)
    port: int = 0  # local with a handler: the port to serve on (0 = DEFAULT_LOCAL_PORT)
    use_account_key: bool = False  # cloud: prefer the shared account key over its own
    management_url: str = ""  # cloud: the REST v2 management API ("" = RunPod's)

    @property
    def is_builtin(self) -> bool:
        return self.kind == "sandbox"

    @property
    def needs_launch(self) -> bool:
        """A local worker the console starts itself (from ``handler``) rather than one at a URL."""
        return self.kind == "local" and bool(self.handler) and not self.base_url

    @property
    def serve_port(self) -> int:
        return self.port or DEFAULT_LOCAL_PORT

    def to_target(self, base_url: str | None = None) -> Target:
        """The target requests go to. ``base_url`` overrides the stored one: the engine passes
        the running sandbox's URL, the launcher a started worker's URL."""
        if self.kind == "sandbox":
            return Target(self.name, "sandbox", base_url or "", SANDBOX_ENDPOINT_ID)
        if self.kind == "local":
            url = base_url or self.base_url or f"http://127.0.0.1:{self.serve_port}"
            return Target(self.name, "local", url.rstrip("/"), "")
        url = base_url or self.base_url or DEFAULT_BASE_URL
        return Target(self.name, "cloud", url.rstrip("/"), self.endpoint_id)

    def describe(self) -> str:
        """One line for lists: where requests go."""
        if self.kind == "sandbox":
            return "built-in sandbox endpoint"
        if self.kind == "local":
            return f"local worker {self.handler}" if self.needs_launch else self.base_url
        return self.to_target().endpoint_url

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "kind": self.kind}
        optional: dict[str, Any] = {
            "endpointId": self.endpoint_id,
            "baseUrl": self.base_url,
            "handler": self.handler,
            "python": self.python,
            "port": self.port,
            "useAccountKey": self.use_account_key,
            "managementUrl": self.management_url,
        }
        data.update({key: value for key, value in optional.items() if value})
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Profile:
        kind = data.get("kind")
        if kind not in _KINDS:
            raise ProfileError(f"unknown profile kind {kind!r}")
        return cls(
            name=str(data.get("name", "")),
            kind=kind,
            endpoint_id=str(data.get("endpointId", "")),
            base_url=str(data.get("baseUrl", "")),
            handler=str(data.get("handler", "")),
            python=str(data.get("python", "")),
            port=int(data.get("port", 0) or 0),
            use_account_key=bool(data.get("useAccountKey", False)),
            management_url=str(data.get("managementUrl", "")),
        )


SANDBOX = Profile(SANDBOX_PROFILE, "sandbox", endpoint_id=SANDBOX_ENDPOINT_ID)
"""The built-in sandbox profile: always first, never stored, never removable."""


def check_profile(profile: Profile) -> None:
    """Raise ``ProfileError`` saying what to fix when ``profile`` cannot be saved."""
    name = profile.name
    if not name.strip() or name != name.strip() or len(name) > 64:
        raise ProfileError("A profile needs a name of 1 to 64 characters, without outer spaces.")
    if any(ord(char) < 32 for char in name):
        raise ProfileError("A profile name cannot hold control characters.")
    if name.casefold() in _RESERVED_NAMES:
        raise ProfileError(f"'{name}' is reserved; choose another profile name.")
    if profile.kind == "sandbox":
        raise ProfileError("There is only one sandbox profile, the built-in one.")
    if profile.base_url and not re.match(r"https?://[^\s/]+", profile.base_url):
        raise ProfileError(f"'{profile.base_url}' is not an http(s) URL.")
    if profile.kind == "cloud" and not _ENDPOINT_ID.fullmatch(profile.endpoint_id):
        raise ProfileError(
            "A cloud profile needs its endpoint id (letters, digits, '-' and '_'), as shown on "
            "the endpoint's page in the RunPod console."
        )
    if profile.kind == "local":
        if not profile.handler and not profile.base_url:
            raise ProfileError("A local worker profile needs a handler file or a worker URL.")
        if not 0 <= profile.port <= 65535:
            raise ProfileError(f"Port {profile.port} is out of range (1-65535).")


_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")
# Names that say "secret": a value under one belongs in the keyring, not in profiles.json.
_SECRET_NAME = re.compile(r"secret|passw|token|api[_-]?key|authori[sz]ation|credential", re.I)
# Values shaped like a RunPod API key, an AWS secret or a bearer token.
_SECRET_VALUE = re.compile(r"(?:rpa_|rps_|sk-|ghp_|AKIA|Bearer\s)[A-Za-z0-9_\-]{8,}")
MAX_VARIABLE_CHARS = 4096


def check_variable(name: str, value: str) -> None:
    """Raise ``ProfileError`` saying why ``name = value`` can't be a profile variable: a bad
    name, a value too long, or anything that looks like a secret (profiles.json is plain text;
    the keyring keeps secrets)."""
    if not _VARIABLE_NAME.fullmatch(name):
        raise ProfileError(
            f"'{name}' can't be a variable name: use letters, digits, _, - and . (starting with a "
            "letter or _), at most 64 characters, as in {{prompt}}."
        )
    if len(value) > MAX_VARIABLE_CHARS:
        raise ProfileError(
            f"The value of '{name}' is {len(value):,} characters; a profile variable holds at "
            f"most {MAX_VARIABLE_CHARS:,}. Put long text in a file and use {{{{file:PATH|text}}}}."
        )
    from gui.core.redact import holds_registered, is_keyring_reference

    if (
        _SECRET_NAME.search(name)
        or _SECRET_VALUE.search(value)
        or is_keyring_reference(value)
        or holds_registered(value)
    ):
        raise ProfileError(
            f"'{name}' looks like a secret, and profile variables are stored as plain text in "
            "profiles.json. Keep secrets in the keyring: an API key in the profile's key, S3 "
            "secrets as a credential set (keyring:s3/NAME in the body)."
        )


# A virtual environment's interpreter, by the folder names tools give them (venv, uv, poetry's
# in-project setting) and the layouts of POSIX and Windows.
_VENV_FOLDERS = (".venv", "venv")
_VENV_PYTHONS = (Path("bin") / "python", Path("Scripts") / "python.exe")

# Run by the worker's Python before it starts: exit 0 when ``runpod`` can be imported there,
# RUNPOD_PROBE_MISSING when it cannot (found, not imported: importing runpod takes seconds).
RUNPOD_PROBE = (
    "import importlib.util, sys; sys.exit(0 if importlib.util.find_spec('runpod') else 3)"
)
RUNPOD_PROBE_MISSING = 3


def find_worker_python(handler: str | Path) -> Path | None:
    """The interpreter of the worker's own virtual environment: ``.venv`` or ``venv`` beside
    ``handler`` or in a folder above it (the nearest), or None.

    Not resolved: a virtual environment's ``python`` is a link to the base interpreter, which
    would not see the environment's packages.
    """
    folder = Path(handler).expanduser().absolute().parent
    for place in (folder, *folder.parents):
        for name in _VENV_FOLDERS:
            for python in _VENV_PYTHONS:
                candidate = place / name / python
                if candidate.is_file():
                    return candidate
    return None


def worker_python(profile: Profile) -> str:
    """The interpreter that serves ``profile``'s handler: the one the profile names, else its
    virtual environment's (``find_worker_python``), else the console's own."""
    if profile.python:
        return str(Path(profile.python).expanduser())
    found = find_worker_python(profile.handler) if profile.handler else None
    return str(found) if found is not None else sys.executable


def missing_module_message(python: str, module: str = "runpod") -> str:
    """What to do when the worker's Python lacks ``module`` (a ``ModuleNotFoundError``)."""
    quoted = shlex.quote(python)
    if module == "runpod":
        lacks = f"The worker's Python ({python}) has no runpod package. Install it there: "
        lacks += f"{quoted} -m pip install runpod"
    else:
        lacks = f"The worker's Python ({python}) has no module named '{module}'. Install the "
        lacks += f"worker's requirements there ({quoted} -m pip install -r requirements.txt)"
    return (
        f"{lacks}, or choose the worker's own Python (its virtual environment's bin/python) in "
        "the profile."
    )


def worker_command(profile: Profile, port: int | None = None) -> list[str]:
    """The command that serves ``profile``'s handler: ``python handler.py --rp_serve_api ...``,
    with ``worker_python``'s interpreter.

    Bound to 127.0.0.1 so the URL is certain and the worker is not reachable from elsewhere.
    """
    if not profile.handler:
        raise ProfileError(f"Profile '{profile.name}' has no handler file to start.")
    return [
        worker_python(profile),
        str(Path(profile.handler).expanduser()),
        "--rp_serve_api",
        "--rp_api_host",
        "127.0.0.1",
        "--rp_api_port",
        str(port if port is not None else profile.serve_port),
    ]


class ProfileStore:
    """The profiles and S3 credential sets in ``<data_dir>/profiles.json``.

    With ``secrets``, removing, renaming and duplicating a profile carry its keyring entries along.
    """

    def __init__(self, data_dir: Path | str, secrets: SecretStore | None = None) -> None:
        self.path = Path(data_dir) / PROFILES_FILE
        self.secrets = secrets
        self._cache: tuple[tuple[int, int], dict[str, Any]] | None = None

    # -- profiles ------------------------------------------------------------------------------

    def profiles(self) -> list[Profile]:
        """Every profile, the built-in sandbox first, then the stored ones in their saved order."""
        return [SANDBOX, *self._stored_profiles()]

    def names(self) -> list[str]:
        return [profile.name for profile in self.profiles()]

    def get(self, name: str) -> Profile:
        for profile in self.profiles():
            if profile.name == name:
                return profile
        known = ", ".join(self.names())
        raise ProfileNotFound(f"No profile is named '{name}'. Known profiles: {known}.")

    def add(self, profile: Profile) -> None:
        check_profile(profile)
        if profile.name in self.names():
            raise ProfileError(f"A profile named '{profile.name}' already exists.")
        data = self._load()
        data["profiles"].append(profile.to_json())
        self._save(data)

    def replace(self, old_name: str, profile: Profile) -> None:
        """Save an edited profile, possibly renamed (its key follows the new name; a profile that
        is no longer a cloud one loses its key)."""
        self._refuse_builtin(old_name)
        self.get(old_name)
        check_profile(profile)
        if profile.name != old_name and profile.name in self.names():
            raise ProfileError(f"A profile named '{profile.name}' already exists.")
        data = self._load()
        data["profiles"] = [
            profile.to_json() if entry.get("name") == old_name else entry
            for entry in data["profiles"]
        ]
        for table in ("variables", "guards"):
            if profile.name != old_name and old_name in data[table]:
                data[table][profile.name] = data[table].pop(old_name)
        self._save(data)
        if self.secrets is not None and profile.name != old_name:
            self.secrets.rename(api_key_name(old_name), api_key_name(profile.name))
        if self.secrets is not None and profile.kind != "cloud":
            self.secrets.delete(api_key_name(profile.name))  # no use for a key any more

    def remove(self, name: str) -> None:
        """Remove a stored profile and, with ``secrets``, its own API key."""
        self._refuse_builtin(name)
        self.get(name)
        data = self._load()
        data["profiles"] = [entry for entry in data["profiles"] if entry.get("name") != name]
        data["variables"].pop(name, None)
        data["guards"].pop(name, None)
        self._save(data)
        if self.secrets is not None:
            self.secrets.delete(api_key_name(name))

    def duplicate(self, name: str, new_name: str | None = None) -> Profile:
        """A copy of ``name`` saved as ``new_name`` (default "<name> copy"), with its key."""
        source = self.get(name)
        self._refuse_builtin(name)
        copy = replace(source, name=new_name or self._free_name(f"{name} copy"))
        self.add(copy)
        if self.secrets is not None:
            key = self.secrets.get(api_key_name(name))
            if key:
                self.secrets.set(api_key_name(copy.name), key)
        return copy

    def _free_name(self, base: str) -> str:
        taken: set[str] = set(self.names())
        candidate, number = base, 2
        while candidate in taken:
            candidate, number = f"{base} {number}", number + 1
        return candidate

    def _refuse_builtin(self, name: str) -> None:
        if name == SANDBOX_PROFILE:
            raise ProfileError("The built-in sandbox profile cannot be changed or removed.")

    def _stored_profiles(self) -> list[Profile]:
        profiles = []
        for entry in self._load()["profiles"]:
            try:
                profiles.append(Profile.from_json(entry))
            except (ProfileError, TypeError, ValueError):
                continue  # one damaged entry must not hide the others
        return profiles

    # -- variables -----------------------------------------------------------------------------

    def variables(self, profile: str) -> dict[str, str]:
        """The variables of ``profile`` (name -> value, in their saved order); {} when none."""
        raw = self._load()["variables"].get(profile, {})
        return {str(k): str(v) for k, v in raw.items() if isinstance(v, str)}

    def set_variables(self, profile: str, variables: dict[str, str]) -> None:
        """Replace every variable of ``profile`` (checked first: nothing is saved when one is
        refused)."""
        self.get(profile)
        keys = self._stored_keys(profile)
        for name, value in variables.items():
            check_variable(name, value)
            if value and any(value == key or key in value for key in keys):
                raise ProfileError(
                    f"'{name}' holds an API key kept in the keyring; profile variables are "
                    "plain text in profiles.json, so a key never goes there."
                )
        data = self._load()
        if variables:
            data["variables"][profile] = dict(variables)
        else:
            data["variables"].pop(profile, None)
        self._save(data)

    def _stored_keys(self, profile: str) -> list[str]:
        """The keyring's API keys for ``profile`` and the account (none without a keyring)."""
        if self.secrets is None:
            return []
        keys = []
        for entry in (api_key_name(profile), ACCOUNT_KEY_NAME):
            try:
                key = self.secrets.get(entry)
            except Exception:  # no keyring backend: nothing to compare with
                continue
            if key and len(key) >= 8:
                keys.append(key)
        return keys

    def set_variable(self, profile: str, name: str, value: str) -> None:
        self.set_variables(profile, {**self.variables(profile), name: value})

    def unset_variable(self, profile: str, name: str) -> None:
        """Remove one variable; ``ProfileNotFound`` when the profile has none of that name."""
        variables = self.variables(profile)
        if name not in variables:
            known = ", ".join(variables) or "none"
            raise ProfileNotFound(
                f"Profile '{profile}' has no variable '{name}' (it has: {known})."
            )
        del variables[name]
        self.set_variables(profile, variables)

    # -- spend guards --------------------------------------------------------------------------

    def guards(self, profile: str) -> SpendGuards:
        """The spend guards of ``profile`` (all off when it has none)."""
        raw = self._load()["guards"].get(profile)
        return SpendGuards.from_json(raw) if isinstance(raw, dict) else SpendGuards()

    def set_guards(self, profile: str, guards: SpendGuards) -> None:
        """Replace the spend guards of ``profile`` (the built-in sandbox's too)."""
        self.get(profile)
        data = self._load()
        if guards.active:
            data["guards"][profile] = guards.to_json()
        else:
            data["guards"].pop(profile, None)
        self._save(data)

    # -- S3 credential sets --------------------------------------------------------------------

    def s3_sets(self) -> list[S3CredentialSet]:
        raw = self._load()["s3CredentialSets"]
        return [S3CredentialSet.from_json(name, data) for name, data in sorted(raw.items())]

    def get_s3_set(self, name: str) -> S3CredentialSet:
        raw = self._load()["s3CredentialSets"]
        if name not in raw:
            raise ProfileNotFound(f"No S3 credential set is named '{name}'.")
        return S3CredentialSet.from_json(name, raw[name])

    def save_s3_set(self, credential_set: S3CredentialSet, secret: str | None = None) -> None:
        """Save a set's public half (replacing one of that name) and, when given, its secret."""
        s3_reference(credential_set.name)  # validates the name
        missing = [
            label
            for label, value in (
                ("access id", credential_set.access_id),
                ("bucket name", credential_set.bucket_name),
                ("endpoint URL", credential_set.endpoint_url),
            )
            if not value
        ]
        if missing:
            raise ProfileError(f"The S3 credential set needs: {', '.join(missing)}.")
        if secret:
            if self.secrets is None:
                raise ProfileError("No secret store to keep the S3 secret in.")
            self.secrets.set(s3_secret_name(credential_set.name), secret)
        data = self._load()
        data["s3CredentialSets"][credential_set.name] = credential_set.to_json()
        self._save(data)

    def remove_s3_set(self, name: str) -> None:
        data = self._load()
        if name not in data["s3CredentialSets"]:
            raise ProfileNotFound(f"No S3 credential set is named '{name}'.")
        del data["s3CredentialSets"][name]
        self._save(data)
        if self.secrets is not None:
            self.secrets.delete(s3_secret_name(name))

    # -- the file ------------------------------------------------------------------------------

    def _load(self) -> dict[str, Any]:
        """A fresh copy of the file's content, in the current shape."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return {"version": 1, "profiles": [], "s3CredentialSets": {}, "variables": {},
                    "guards": {}}  # fmt: skip
        stamp = (stat.st_mtime_ns, stat.st_size)
        if self._cache is None or self._cache[0] != stamp:
            self._cache = (stamp, self._read())
        fresh: dict[str, Any] = json.loads(json.dumps(self._cache[1]))  # callers change it
        return fresh

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ProfileError(
                f"{self.path} cannot be read ({exc}). Fix it or move it away; the console "
                "will not overwrite it."
            ) from None
        if not isinstance(data, dict):
            raise ProfileError(f"{self.path} does not hold a JSON object. Fix it or move it away.")
        profiles = data.get("profiles")
        sets = data.get("s3CredentialSets")
        variables = data.get("variables")
        guards = data.get("guards")
        return {
            "version": 1,
            "profiles": [p for p in profiles if isinstance(p, dict)]
            if isinstance(profiles, list)
            else [],
            "s3CredentialSets": {k: v for k, v in sets.items() if isinstance(v, dict)}
            if isinstance(sets, dict)
            else {},
            "variables": {k: v for k, v in variables.items() if isinstance(v, dict)}
            if isinstance(variables, dict)
            else {},
            "guards": {k: v for k, v in guards.items() if isinstance(v, dict)}
            if isinstance(guards, dict)
            else {},
        }

    def _save(self, data: dict[str, Any]) -> None:
        write_json_atomic(self.path, data)
        self._cache = None


def make_key_provider(profile_store: ProfileStore, secret_store: SecretStore) -> KeyProvider:
    """The ``key_provider`` the engine calls when a request leaves: a target's API key or None."""

    def provide(target: Target) -> str | None:
        account_first = False
        if target.kind == "cloud":
            try:
                account_first = profile_store.get(target.name).use_account_key
            except ProfileError:
                account_first = False
        key, _source = api_key_for(target, secret_store, account_key_first=account_first)
        return key

    return provide


def resolve_profile(
    data_dir: Path | str, name: str | None, secrets: SecretStore | None = None
) -> tuple[Target, KeyProvider]:
    """The target of profile ``name`` (the sandbox when None) and a key provider for it.

    What ``job-console run --profile NAME`` uses. Raises ``ProfileNotFound`` naming the known ones.
    A sandbox target's ``base_url`` is empty: the engine fills it once its sandbox runs.
    """
    secret_store = secrets if secrets is not None else SecretStore()
    store = ProfileStore(data_dir, secret_store)
    profile = store.get(name or SANDBOX_PROFILE)
    return profile.to_target(), make_key_provider(store, secret_store)
