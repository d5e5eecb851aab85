"""Where things live (shipped device profiles, the per-user cache folder), and user paths checked."""
from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent
PROFILES_DIR = Path(os.environ.get("EDGEPRUNE_PROFILES", REPO_DIR / "device_profiles"))


def cache_dir() -> Path:
    """Baselines, the latency cache, the emulated board: EDGEPRUNE_CACHE, else the per-user
    cache folder ($XDG_CACHE_HOME/edgeprune, default ~/.cache/edgeprune), never the current one."""
    override = os.environ.get("EDGEPRUNE_CACHE")
    if override:
        path = Path(override)
    else:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        path = Path(base) / "edgeprune"
    path.mkdir(parents=True, exist_ok=True)
    return path


def user_profiles_dir() -> Path:
    """Device profiles this user's own tools write (`board emulate`): <cache>/profiles, found
    by name like the shipped ones, never written into the source tree."""
    return cache_dir() / "profiles"


def show_path(path, limit: int = 80) -> str:
    """A path short enough for a one-line message (a 4,000-byte name would drown the reason)."""
    text = os.fsdecode(path) if isinstance(path, (bytes, os.PathLike)) else str(path)
    return text if len(text) <= limit else f"{text[:limit // 2]}...{text[-(limit // 2 - 3):]}"


def user_path(value, what: str, kind: str = "file", hint: str = "") -> Path:
    """`value` as a Path that exists as a `kind` ('file', 'dir' or 'any'), else a UserError.

    Every path a user types goes through here, so an OS refusal (a name over 255 bytes, no
    permission) reads as one line naming the path, like a missing file.
    """
    from pipeline.errors import UserError

    path = Path(value)
    shown = show_path(path)
    try:
        exists = path.exists()
        is_dir = path.is_dir()
    except OSError as exc:
        raise UserError(f"{what} '{shown}' cannot be used ({exc.strerror or exc})"
                        + (f"; {hint}" if hint else "")) from None
    if not exists:
        problem = "not found"
    elif kind == "file" and is_dir:
        problem = "is a folder, not a file"
    elif kind == "dir" and not is_dir:
        problem = "is not a folder"
    else:
        return path
    raise UserError(f"{what} '{shown}' {problem}" + (f"; {hint}" if hint else ""))


def out_dir(value, what: str = "--out") -> Path:
    """A folder a command will write to, checked before any work: not a file, not under a
    file, and its nearest existing folder writable. Not created here."""
    from pipeline.errors import UserError

    path = Path(value)
    shown = show_path(path)
    try:
        if path.exists() and not path.is_dir():
            raise UserError(f"{what} '{shown}' is a file; pass a folder")
        existing = next(p for p in (path, *path.absolute().parents) if p.exists())
    except OSError as exc:
        raise UserError(f"{what} '{shown}' cannot be used ({exc.strerror or exc})") from None
    if not existing.is_dir():
        raise UserError(f"{what} '{shown}' lies under the file '{show_path(existing)}'; "
                        "pass a folder path")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UserError(f"{what} '{shown}': '{show_path(existing)}' is not writable; "
                        "pass a writable folder")
    return path
