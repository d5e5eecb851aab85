"""Device profiles: one TOML per target in device_profiles/, or any .toml path.

Top-level keys describe the target; [measure], [drift] and [ssh] group the rest. Keys of
[drift] become `drift_<key>` fields. Relative file paths resolve against the profile's folder.
"""
from __future__ import annotations

import dataclasses
import difflib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import UserError

BACKENDS = ("local", "ssh")
RUNTIMES = ("onnxruntime", "tflite")
RUNTIME_EXTENSIONS = {"onnxruntime": ".onnx", "tflite": ".tflite"}


@dataclass(frozen=True)
class DeviceProfile:
    name: str
    backend: str = "local"
    runtime: str = "onnxruntime"         # the format the search exports for this target
    description: str = ""
    emulated: bool = False               # latencies are emulation times (reports say so)
    threads: int = 1
    cores: tuple[int, ...] = ()          # pinning; negative counts from the last core; () = none
    round_to: int = 8                    # SIMD-width hint; the search uses it only with search.round_to=0
    setup: tuple[str, ...] = ()          # what to run on the board before measuring
    # [measure]: warm-up and timed runs each stop when BOTH their count and time are reached
    warmup_runs: int = 10
    warmup_min_s: float = 0.05
    runs: int = 100
    min_time_s: float = 0.2
    seed: int = 0
    run_timeout_s: float = 120.0         # one model's load + warm-up + timed runs
    throttle_command: tuple[str, ...] = ()  # e.g. ["vcgencmd", "get_throttled"] on a Pi
    cooldown_s: float = 30.0             # pause before retrying a throttled measurement
    max_retries: int = 3                 # throttling, drift and dropped-connection retries
    # [drift]: the session's first model is re-measured every `every` models (0: never)
    drift_every: int = 25
    drift_tolerance: float = 0.10        # relative change of its median that flags the device
    drift_min_change_ms: float = 0.0     # ...and only when it moved more than this many ms
    # [ssh]
    host: str = ""
    port: int = 22
    user: str = ""
    key_file: str = ""
    known_hosts: str = "~/.ssh/known_hosts"
    trust_on_first_use: bool = False     # opt-in: accept and record an unknown host key
    python: str = "python3"
    workdir: str = "/tmp"
    connect_timeout_s: float = 10.0
    hosts: tuple[str, ...] = ()          # "host[:port]" of several boards of this kind: a pool
    path: Path | None = field(default=None, compare=False)

    @property
    def extension(self) -> str:
        return RUNTIME_EXTENSIONS[self.runtime]

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["path"] = str(self.path) if self.path else None
        return data


_SECTIONS = {
    "measure": ("warmup_runs", "warmup_min_s", "runs", "min_time_s", "seed", "run_timeout_s",
                "throttle_command", "cooldown_s", "max_retries"),
    "drift": ("every", "tolerance", "min_change_ms"),
    "ssh": ("host", "port", "user", "key_file", "known_hosts", "trust_on_first_use", "python",
            "workdir", "connect_timeout_s", "hosts"),
}
_TOP = ("name", "backend", "runtime", "description", "emulated", "threads", "cores", "round_to",
        "setup")


def _unknown_key(where: str, key: str, allowed) -> UserError:
    close = difflib.get_close_matches(key, list(allowed), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else f"; allowed: {', '.join(allowed)}"
    return UserError(f"{where}: unknown key {key!r}{hint}")


def _flatten(data: dict, where: str) -> dict:
    flat = {}
    for key, value in data.items():
        if key in _SECTIONS:
            if not isinstance(value, dict):
                raise UserError(f"{where}: [{key}] must be a table")
            for sub_key, sub_value in value.items():
                if sub_key not in _SECTIONS[key]:
                    raise _unknown_key(f"{where} [{key}]", sub_key, _SECTIONS[key])
                flat[f"drift_{sub_key}" if key == "drift" else sub_key] = sub_value
        elif key in _TOP:
            flat[key] = value
        else:
            raise _unknown_key(where, key, _TOP + tuple(f"[{s}]" for s in _SECTIONS))
    return flat


def _coerce(flat: dict, where: str) -> dict:
    types = {f.name: f.type for f in dataclasses.fields(DeviceProfile)}
    out = {}
    for key, value in flat.items():
        kind = types[key]
        try:
            if kind.startswith("tuple"):
                if not isinstance(value, list):
                    raise TypeError
                value = tuple(int(v) if "int" in kind else str(v) for v in value)
            elif kind == "bool":
                if not isinstance(value, bool):
                    raise TypeError
            elif kind == "int":
                if isinstance(value, bool) or not isinstance(value, int):
                    raise TypeError
            elif kind == "float":
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise TypeError
                value = float(value)
            elif kind == "str" and not isinstance(value, str):
                raise TypeError
        except (TypeError, ValueError):
            raise UserError(f"{where}: {key} = {value!r} should be of type {kind}") from None
        out[key] = value
    return out


def _validate(profile: DeviceProfile, where: str) -> None:
    if profile.backend not in BACKENDS:
        raise UserError(f"{where}: unknown backend {profile.backend!r}; use one of "
                        f"{', '.join(BACKENDS)}")
    if profile.runtime not in RUNTIMES:
        raise UserError(f"{where}: unknown runtime {profile.runtime!r}; use one of "
                        f"{', '.join(RUNTIMES)}")
    positive = {"threads": profile.threads, "runs": profile.runs, "round_to": profile.round_to,
                "run_timeout_s": profile.run_timeout_s, "port": profile.port,
                "connect_timeout_s": profile.connect_timeout_s}
    for key, value in positive.items():
        if value <= 0:
            raise UserError(f"{where}: {key} must be positive, got {value}")
    for key in ("warmup_runs", "warmup_min_s", "min_time_s", "cooldown_s", "max_retries",
                "drift_every", "drift_tolerance", "drift_min_change_ms"):
        if getattr(profile, key) < 0:
            raise UserError(f"{where}: {key} must not be negative")
    if profile.hosts:
        if profile.backend != "ssh":
            raise UserError(f"{where}: [ssh] hosts lists boards reached over SSH; set "
                            "backend = \"ssh\"")
        parsed = [parse_host(entry, profile.port, where) for entry in profile.hosts]
        if len(set(parsed)) != len(parsed):
            raise UserError(f"{where}: [ssh] hosts names a board twice; list each once")
    if profile.backend == "ssh":
        needed = ("user", "key_file") if profile.hosts else ("host", "user", "key_file")
        missing = [k for k in needed if not getattr(profile, k)]
        if missing:
            raise UserError(f"{where}: an ssh profile needs [ssh] {', '.join(missing)}")


def parse_host(entry: str, default_port: int, where: str = "profile") -> tuple[str, int]:
    """One `[ssh] hosts` entry, "host" or "host:port" -> (host, port)."""
    host, sep, port = entry.strip().rpartition(":")
    if not sep:
        host, port = entry.strip(), str(default_port)
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UserError(f"{where}: [ssh] hosts entry {entry!r} should look like "
                        "\"host\" or \"host:port\"")
    return host, int(port)


def _resolve_file(value: str, base: Path) -> str:
    if not value:
        return value
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else (base / path).resolve())


def profile_from_toml(path: Path) -> DeviceProfile:
    where = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError(f"cannot read device profile {path}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{where}: not valid TOML ({exc})") from None
    fields = _coerce(_flatten(data, where), where)
    fields.setdefault("name", path.stem)
    fields.setdefault("known_hosts", DeviceProfile.known_hosts)
    for key in ("key_file", "known_hosts"):
        if key in fields:
            fields[key] = _resolve_file(fields[key], path.parent)
    profile = DeviceProfile(**fields, path=path.resolve())
    _validate(profile, where)
    return profile


def _profiles_dirs() -> list[Path]:
    """Shipped profiles first, then the per-user ones (the emulated board's)."""
    from pipeline import paths
    return [paths.PROFILES_DIR, paths.user_profiles_dir()]


def list_profiles() -> list[str]:
    """Names of the shipped (device_profiles/*.toml) and per-user profiles, sorted."""
    return sorted({p.stem for folder in _profiles_dirs() if folder.is_dir()
                   for p in folder.glob("*.toml")})


def load_profile(name_or_path) -> DeviceProfile:
    """A profile by name (device_profiles/NAME.toml), by path to a .toml, or as given."""
    if isinstance(name_or_path, DeviceProfile):
        return name_or_path
    from pipeline.paths import user_path

    text = str(name_or_path)
    candidate = Path(text).expanduser()
    try:
        is_file = candidate.is_file()
    except OSError:  # a name over 255 bytes: user_path below says so in one line
        is_file = True
    if text.endswith(".toml") or is_file:
        return profile_from_toml(user_path(candidate, "device profile file", "file",
                                           "pass a profile name or an existing .toml file"))
    for folder in _profiles_dirs():
        if (folder / f"{text}.toml").is_file():
            return profile_from_toml(folder / f"{text}.toml")
    known = list_profiles()
    close = difflib.get_close_matches(text, known, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise UserError(f"unknown device profile {text!r}; {hint}known: {', '.join(known) or 'none'}"
                    " (or pass a path to a .toml file)")
