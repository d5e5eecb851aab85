"""Against a real OpenSSH server on 127.0.0.1: the board runs the same runner as a real one."""
import os
import stat
import sys

import pytest

from pipeline.cli import main
from pipeline.devices import ssh
from pipeline.devices.device import open_device
from pipeline.devices.profile import load_profile
from pipeline.errors import DeviceError
from tests.devices.conftest import SHAPE

pytestmark = pytest.mark.ssh


def test_batch_over_ssh_then_remote_temp_files_are_gone(sshd, ssh_profile, onnx_model, tmp_path):
    from pipeline.devices.testing_models import make_conv_onnx

    other = make_conv_onnx(tmp_path / "other.onnx", widths=(8, 8), input_shape=SHAPE)
    from pipeline.devices.cache import MeasurementCache

    profile = load_profile(ssh_profile())
    with open_device(profile, MeasurementCache(tmp_path / "lat.sqlite")) as device:
        facts = device.check()
        ms = device.measure([onnx_model, other], SHAPE)
        remote_dirs = device._link.temp_dirs
        more = device.measure([other], SHAPE)  # same session: no new connection
        assert device.reconnects == 0 and device._link.temp_dirs == remote_dirs
    assert facts["runtimes"]["onnxruntime"] and facts["python"] == sys.executable
    assert all(m.stats.n == 5 and not m.cached for m in ms) and more[0].cached
    assert remote_dirs and not any(os.path.exists(d) for d in remote_dirs)


def test_session_api_quotes_every_argument(sshd, ssh_profile, tmp_path):
    session = ssh.connect(load_profile(ssh_profile()))
    try:
        remote = session.mkdtemp()
        tricky = f"{remote}/a file; touch pwned $(touch pwned2) 'q"
        local = tmp_path / "payload.bin"
        local.write_bytes(b"payload")
        session.put(local, tricky)
        rc, out, err = session.run(["cat", tricky])
        assert (rc, out) == (0, b"payload")
        rc, out, _ = session.run(["sh", "-c", "cat; exit 3"], stdin=b"echo")
        assert (rc, out) == (3, b"echo")
        rc, out, _ = session.run(["ls", remote])
        assert out.decode().splitlines() == ["a file; touch pwned $(touch pwned2) 'q"]
        with pytest.raises(DeviceError, match="did not finish within 0.3 s"):
            session.run(["sleep", "5"], timeout_s=0.3)
    finally:
        session.close()
    assert not os.path.exists(remote)


def test_dropped_connection_is_retried_on_a_new_connection(sshd, ssh_profile, onnx_model,
                                                           capsys):
    with open_device(ssh_profile()) as device:
        device.check()
        first_dirs = device._link.temp_dirs
        device._link.session.client.get_transport().close()  # the network goes away
        [m] = device.measure([onnx_model], SHAPE)
        assert device.reconnects == 1 and m.stats.n == 5
    assert "connection lost" in capsys.readouterr().err
    assert not any(os.path.exists(d) for d in first_dirs)  # the dead session's dir too


def test_check_command_reports_the_board(sshd, ssh_profile, capsys):
    assert main(["devices", "check", str(ssh_profile())]) == 0
    out = capsys.readouterr().out
    assert "reachable, authenticated  yes (ssh" in out and "onnxruntime" in out


def _error_line(capsys, argv):
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.count("\n") == 0, err
    return err


def test_missing_key_file(sshd, ssh_profile, tmp_path, capsys):
    profile = ssh_profile(key_file=str(tmp_path / "nope"))
    err = _error_line(capsys, ["devices", "check", str(profile)])
    assert "key file" in err and "does not exist" in err and "ssh-keygen" in err


def test_closed_port(sshd, ssh_profile, capsys):
    import socket

    with socket.socket() as s:  # a port that was free a moment ago and nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    err = _error_line(capsys, ["devices", "check", str(ssh_profile(port=port))])
    assert f"nothing accepts connections at 127.0.0.1:{port}" in err


def test_wrong_key(sshd, ssh_profile, capsys):
    err = _error_line(capsys, ["devices", "check", str(ssh_profile(key_file=str(sshd.other_key)))])
    assert "refused key" in err and "authorized_keys" in err


def test_host_key_mismatch(sshd, ssh_profile, tmp_path, capsys):
    forged = tmp_path / "known_hosts"
    other_pub = sshd.other_key.with_suffix(".pub").read_text().split()
    forged.write_text(f"[127.0.0.1]:{sshd.port} {other_pub[0]} {other_pub[1]}\n")
    err = _error_line(capsys, ["devices", "check", str(ssh_profile(known_hosts=str(forged)))])
    assert "does NOT match" in err and "ssh-keygen -R" in err


def test_unknown_host_key_is_refused_unless_trust_on_first_use(sshd, ssh_profile, tmp_path,
                                                               capsys):
    empty = tmp_path / "fresh_known_hosts"
    err = _error_line(capsys, ["devices", "check", str(ssh_profile(known_hosts=str(empty)))])
    assert "host key of 127.0.0.1" in err and "trust_on_first_use" in err
    assert not empty.exists()
    profile = ssh_profile(known_hosts=str(empty), trust_on_first_use=True)
    assert main(["devices", "check", str(profile)]) == 0
    assert f"[127.0.0.1]:{sshd.port} ssh-ed25519" in empty.read_text()
    # Recorded now: the same server is accepted without the opt-in.
    assert main(["devices", "check", str(ssh_profile(known_hosts=str(empty)))]) == 0


def test_runtime_missing_on_the_board(sshd, ssh_profile, tmp_path, capsys):
    # The board's Python without site-packages: no numpy, no onnxruntime, like a fresh Pi.
    bare = tmp_path / "bare-python"
    bare.write_text(f'#!/bin/sh\nexec "{sys.executable}" -S "$@"\n')
    bare.chmod(bare.stat().st_mode | stat.S_IXUSR)
    err = _error_line(capsys, ["devices", "check", str(ssh_profile(python=str(bare)))])
    assert "numpy is not importable" in err and "pip install numpy" in err


def test_remote_python_not_found(sshd, ssh_profile, capsys):
    profile = ssh_profile(python="/opt/no/python3")
    err = _error_line(capsys, ["devices", "check", str(profile)])
    assert "remote Python '/opt/no/python3' not found" in err


def test_corrupt_model_on_the_board(sshd, ssh_profile, tmp_path, capsys):
    # A well-formed ONNX file (the profile's runtime is onnxruntime; `profile` refuses another
    # format up front) with an operator no runtime has: only the board's load fails.
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("NoSuchOp", ["input"], ["out"], domain="nowhere")], "g",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 3, 16, 16])])
    bad = tmp_path / "bad.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                      helper.make_opsetid("nowhere", 1)]), bad)
    err = _error_line(capsys, ["profile", "--device", str(ssh_profile()), "--input-shape",
                               "1,3,16,16", str(bad)])
    assert "bad.onnx" in err and "cannot load" in err
