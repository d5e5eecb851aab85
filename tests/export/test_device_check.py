"""int8 files checked on the device: the runner's predict op and the drop-or-keep decision.

The real failure (wrong int8 answers on aarch64) is reproduced on the emulated board in
tests/board/test_board_int8.py; here the local runner (a real process, real runtimes) runs them.
"""
import shutil

import numpy as np
import pytest

from pipeline.devices import open_device
from pipeline.export.device_check import (check_int8_on_device, is_arm, judge,
                                          verify_int8_on_device)
from pipeline.export.parity import run_file, torch_logits


@pytest.fixture
def winner_copy(exported, tmp_path):
    out, artifacts, _ = exported
    folder = tmp_path / "winner"
    shutil.copytree(out, folder)
    import copy

    return folder, copy.deepcopy(artifacts)


def test_runner_predicts_what_this_host_computes(winner_copy, digits_splits):
    folder, _ = winner_copy
    x = digits_splits.x_test[:20].numpy()
    with open_device("host-tflite") as device:
        for name in ("model.onnx", "model_int8.onnx", "model.tflite", "model_int8.tflite"):
            on_device = device.predict(folder / name, x)
            here = run_file(folder / name, x)
            assert on_device.shape == here.shape == (20, 10)
            np.testing.assert_allclose(on_device, here, atol=1e-5, err_msg=name)


def test_a_file_right_on_the_device_stays_with_its_check_recorded(winner_copy, digits_splits,
                                                                   trained_model):
    folder, artifacts = winner_copy
    x = digits_splits.x_test[:32].numpy()
    with open_device("host-ort") as device:
        results = check_int8_on_device(device, folder, artifacts, x, torch_logits(trained_model, x))
    assert set(results) == {"onnx_int8", "tflite_int8"}
    for key, check in results.items():
        assert check["ok"] is True and check["samples"] == 32
        assert check["top1_agreement_host"] == 1.0  # same CPU, same kernels
        assert artifacts[key]["device_check"] is check
        assert (folder / artifacts[key]["path"]).is_file()


def test_judge_keeps_rounding_flips_and_drops_one_class_answers():
    fp32 = np.arange(64) % 10
    host = fp32.copy()
    host[:2] = (host[:2] + 1) % 10            # the host's int8 file flips 2 of 64
    flipped = host.copy()
    flipped[5] = (flipped[5] + 1) % 10        # the device flips one more: rounding, kept
    assert judge(flipped, host, fp32)["ok"] is True
    one_class = np.full(64, 2)                 # what XNNPACK's SME kernels did under qemu
    verdict = judge(one_class, host, fp32)
    assert verdict["ok"] is False
    assert verdict["most_frequent_class_share"] == 1.0
    assert verdict["top1_agreement_fp32"] == pytest.approx(np.mean(fp32 == 2))


def test_only_arm_devices_are_checked(winner_copy, digits_splits, trained_model):
    assert is_arm("aarch64") and is_arm("armv7l") and not is_arm("x86_64") and not is_arm("")
    folder, artifacts = winner_copy
    with open_device("host-ort") as device:  # this x86 host: its files were checked here
        assert verify_int8_on_device(device, trained_model, digits_splits, folder,
                                     artifacts) == {}
    assert all("device_check" not in a for a in artifacts.values())
