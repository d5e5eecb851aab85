"""Where things live: shipped device profiles, the cache folder."""
from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent
PROFILES_DIR = Path(os.environ.get("EDGEPRUNE_PROFILES", REPO_DIR / "device_profiles"))


def cache_dir() -> Path:
    """Baselines and the latency cache; EDGEPRUNE_CACHE overrides (tests point it at a temp dir)."""
    path = Path(os.environ.get("EDGEPRUNE_CACHE", ".edgeprune-cache"))
    path.mkdir(parents=True, exist_ok=True)
    return path
