"""User models: `package.module:factory`, `torchvision:NAME`, state_dict files, input checks.

Every failure a user can cause becomes one UserError line that says what to change.
"""
from __future__ import annotations

import importlib
import os
import sys
import warnings
from pathlib import Path

from pipeline.errors import UserError
from pipeline.models.registry import create_model, is_zoo_model


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _unpickle_reason(exc: BaseException) -> str:
    """Why torch refused a file, without torch's advice to retry with weights_only=False:
    that advice means running whatever code the file carries."""
    text = str(exc)
    if "WeightsUnpickler error:" in text:
        detail = [l.strip() for l in text.split("WeightsUnpickler error:", 1)[1].splitlines() if l.strip()]
        return "it holds objects other than tensors" + (f": {detail[0]}" if detail else "")
    if "weights_only" in text:
        return "it holds objects other than tensors"
    return f"not a torch file: {_first_line(exc)}"


def refuse_untrusted_ref(ref: str, confirmed: str | None, named_by: str, fix: str) -> None:
    """A user module (`package.module:factory`) named by a file read from disk (`named_by`) is
    imported only when the user names it again (`confirmed`): a file never chooses the code
    that runs. Zoo and torchvision names pass."""
    if ":" in ref and not ref.startswith("torchvision:") and confirmed != ref:
        shown = ref if len(ref) <= 60 else ref[:57] + "..."
        raise UserError(f"'{named_by}' names the user model '{shown}'; code named by a file is "
                        f"never imported: {fix} --model {shown} if you trust it")


def build_model(ref: str, num_classes: int = 10, in_channels: int = 3):
    """A zoo name, `package.module:factory` (called with no arguments) or `torchvision:NAME`."""
    from torch import nn

    ref = (ref or "").strip()
    if not ref:
        raise UserError("no model given; pass a zoo name (e.g. resnet20) or package.module:factory")
    if ref.startswith("torchvision:"):
        return _torchvision_model(ref.split(":", 1)[1], num_classes)
    if ":" not in ref:
        return create_model(ref, num_classes, in_channels)  # UserError lists the zoo

    module_name, _, factory_name = ref.partition(":")
    if not module_name or not factory_name:
        raise UserError(f"model reference '{ref}' must look like package.module:factory")
    # A console script does not put the working directory on sys.path; `python -m` does.
    if os.getcwd() not in sys.path:
        sys.path.append(os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # any error raised while importing the user's code
        raise UserError(f"cannot import module '{module_name}' for model '{ref}' ({_first_line(exc)}); "
                        "check the name and that its package is on PYTHONPATH") from None
    factory = getattr(module, factory_name, None)
    if not callable(factory):
        raise UserError(f"module '{module_name}' has no callable '{factory_name}'; "
                        "pass --model package.module:factory naming a function that returns an nn.Module")
    try:
        model = factory()
    except Exception as exc:
        raise UserError(f"model factory '{ref}' raised {_first_line(exc)}; "
                        "it must build the model when called with no arguments") from None
    if not isinstance(model, nn.Module):
        raise UserError(f"model factory '{ref}' returned {type(model).__name__}, not a torch nn.Module")
    return model


def _torchvision_model(name: str, num_classes: int):
    try:
        import torchvision
    except Exception as exc:  # ImportError, or RuntimeError from a CPU/CUDA build mismatch
        raise UserError(f"torchvision cannot be imported here ({_first_line(exc)}); use a zoo model "
                        "or --model package.module:factory") from None
    try:
        return torchvision.models.get_model(name, weights=None, num_classes=num_classes)
    except Exception as exc:
        raise UserError(f"torchvision has no model '{name}' ({_first_line(exc)})") from None


def read_state_dict(path: str | Path) -> dict:
    """A state_dict from `.safetensors` or `.pt/.pth` (weights_only: no pickled code runs)."""
    import torch

    from pipeline.paths import user_path

    path = user_path(path, "weights file", "file", "pass the state_dict file of your trained model")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            return load_file(str(path))
        except Exception as exc:
            raise UserError(f"weights file '{path}' is not valid safetensors ({_first_line(exc)})") from None
    if path.suffix not in (".pt", ".pth"):
        raise UserError(f"weights file '{path}' must end in .pt, .pth or .safetensors")
    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols on stderr
            warnings.simplefilter("ignore")
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise UserError(f"weights file '{path}' is not a plain state_dict ({_unpickle_reason(exc)}); "
                        "save it with torch.save(model.state_dict(), path)") from None
    # Training checkpoints often wrap the state_dict.
    for key in ("state_dict", "model_state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
            break
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise UserError(f"weights file '{path}' does not hold a state_dict of tensors; "
                        "save it with torch.save(model.state_dict(), path)")
    # nn.DataParallel prefixes every key with "module.".
    if state and all(k.startswith("module.") for k in state):
        state = {k[len("module."):]: v for k, v in state.items()}
    return state


def check_state_dict(model, state: dict, source: str) -> None:
    """UserError naming the first shape mismatch, or the missing / unexpected keys."""
    expected = model.state_dict()
    for key, value in state.items():
        if key in expected and tuple(expected[key].shape) != tuple(value.shape):
            raise UserError(
                f"weights '{source}' do not match the model: '{key}' has shape {tuple(value.shape)} "
                f"in the file but {tuple(expected[key].shape)} in the model; "
                "check the model, its number of classes and its input channels")
    # BN's batch counter is bookkeeping, absent from some exported state_dicts.
    missing = [k for k in expected if k not in state and not k.endswith("num_batches_tracked")]
    unexpected = [k for k in state if k not in expected]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing {len(missing)} key(s), first '{missing[0]}'")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected key(s), first '{unexpected[0]}'")
        raise UserError(f"weights '{source}' do not match the model: {'; '.join(parts)}; "
                        "check that the file was saved from this architecture")


def load_weights(model, path: str | Path):
    """Load a state_dict file into `model` in place (strict) and return the model."""
    state = read_state_dict(path)
    check_state_dict(model, state, str(path))
    model.load_state_dict(state, strict=False)  # strictness checked above, with a clearer message
    return model


def parse_input_shape(text: str) -> tuple[int, ...]:
    """'1,3,32,32' -> (1, 3, 32, 32)."""
    try:
        shape = tuple(int(v) for v in str(text).replace("x", ",").split(",") if v.strip())
    except ValueError:
        shape = ()
    if len(shape) < 2 or any(v < 1 for v in shape):
        raise UserError(f"input shape '{text}' must be positive integers like 1,3,32,32")
    return shape


def check_input_shape(model, input_shape) -> tuple[int, ...]:
    """Run one forward pass on zeros of `input_shape`; return the output shape."""
    import torch

    shape = tuple(int(v) for v in input_shape)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(torch.zeros(shape))
    except Exception as exc:
        raise UserError(f"the model rejects input shape {','.join(map(str, shape))} "
                        f"({_first_line(exc)}); give the shape it expects (run: model.input_shape=N,C,H,W; "
                        "prune/inspect: --input-shape N,C,H,W)") from None
    finally:
        model.train(was_training)
    first = out if isinstance(out, torch.Tensor) else next(
        (v for v in (out.values() if isinstance(out, dict) else out) if isinstance(v, torch.Tensor)), None)
    return tuple(first.shape) if first is not None else ()
