"""What `edgeprune run` checks before it writes anything or loads data: the user's paths,
the model name, and (for an SSH board) that the board answers. Each failure is one line."""
from __future__ import annotations

from pipeline.paths import user_path


def check_inputs(cfg, profile) -> None:
    if cfg.model.weights:
        user_path(cfg.model.weights, "model.weights file", "file",
                  "pass the state_dict of your trained model (.pt/.pth/.safetensors)")
    if cfg.data.path:
        user_path(cfg.data.path, "data.path", "any", "point it at the data set's files")
    if cfg.train.cache_dir:
        user_path(cfg.train.cache_dir, "train.cache_dir", "dir", "pass an existing folder")
    name = cfg.model.name
    if ":" not in name:
        from pipeline.models.registry import create_model, is_zoo_model

        if not is_zoo_model(name):
            create_model(name)   # raises the UserError that lists the zoo
    if getattr(profile, "backend", "") == "ssh":
        check_board(profile)


def check_board(profile) -> None:
    """Connect once (DeviceError says what to fix), so a board that is down fails in seconds,
    not after the data is loaded and the baseline trained."""
    from pipeline.devices import ssh
    from pipeline.errors import UserError
    from pipeline.progress import status

    if not profile.hosts:
        ssh.connect(profile).close()
        return
    from pipeline.pool.pool import member_profiles

    down = []
    for member in member_profiles(profile):   # a pool goes on while one board answers
        try:
            ssh.connect(member).close()
        except UserError as exc:
            down.append(str(exc))
    if len(down) == len(profile.hosts):
        raise UserError(f"no board of the pool '{profile.name}' answers: {down[0]}")
    for reason in down:
        status(f"pool {profile.name}: {reason} (the other boards measure)")


def absolute_paths(cfg) -> None:
    """Make the config's file paths absolute (in place), so the run's config.toml repeats the
    run from any working directory (`edgeprune run --config runs/X/config.toml`)."""
    from pathlib import Path

    def absolute(text: str) -> str:
        return str(Path(text).expanduser().absolute()) if text else text

    cfg.model.weights = absolute(cfg.model.weights)
    cfg.data.path = absolute(cfg.data.path)
    cfg.train.cache_dir = absolute(cfg.train.cache_dir)
    if cfg.device.endswith(".toml") or "/" in cfg.device:   # a profile file, not a name
        cfg.device = absolute(cfg.device)
