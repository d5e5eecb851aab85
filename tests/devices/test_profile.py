import pytest

from pipeline.devices.profile import list_profiles, load_profile
from pipeline.errors import UserError
from tests.devices.conftest import write_profile


def test_shipped_profiles_load_and_include_the_required_targets():
    names = list_profiles()
    for required in ("host-ort", "host-tflite", "rpi4", "rpi5", "jetson-orin-nano"):
        assert required in names
    for name in names:
        assert load_profile(name).name == name


def test_host_ort_is_one_pinned_thread_of_onnxruntime():
    p = load_profile("host-ort")
    assert (p.backend, p.runtime, p.threads) == ("local", "onnxruntime", 1)
    assert len(p.cores) == 1


def test_board_templates_carry_their_setup():
    pi = load_profile("rpi4")
    assert pi.backend == "ssh" and pi.throttle_command == ("vcgencmd", "get_throttled")
    assert any("performance" in step for step in pi.setup)
    jetson = load_profile("jetson-orin-nano")
    assert any("nvpmodel" in s for s in jetson.setup) and any("jetson_clocks" in s
                                                               for s in jetson.setup)
    assert not pi.trust_on_first_use and not jetson.trust_on_first_use


def test_a_profile_outside_the_folder_by_path(tmp_path):
    path = write_profile(tmp_path / "mine.toml", measure={"runs": 7})
    profile = load_profile(str(path))
    assert profile.name == "mine" and profile.runs == 7 and profile.path == path.resolve()


def test_unknown_name_lists_known_profiles():
    with pytest.raises(UserError, match="known: .*host-ort"):
        load_profile("no-such-board")


@pytest.mark.parametrize("extra, message", [
    ('backend = "telnet"', "unknown backend 'telnet'"),
    ('runtime = "tensorrt"', "unknown runtime 'tensorrt'"),
    ('thredas = 2', "did you mean 'threads'"),
    ('threads = "two"', "threads = 'two' should be of type int"),
    ('cores = 3', "cores = 3 should be of type tuple"),
])
def test_bad_profiles_fail_with_one_line(tmp_path, extra, message):
    path = tmp_path / "bad.toml"
    path.write_text(extra + "\n")
    with pytest.raises(UserError, match=message) as info:
        load_profile(path)
    assert "\n" not in str(info.value)


def test_ssh_profile_needs_host_user_key(tmp_path):
    path = tmp_path / "b.toml"
    path.write_text('backend = "ssh"\n[ssh]\nhost = "127.0.0.1"\n')
    with pytest.raises(UserError, match="needs \\[ssh\\] user, key_file"):
        load_profile(path)


def test_relative_key_file_resolves_next_to_the_profile(tmp_path):
    path = tmp_path / "b.toml"
    path.write_text('backend = "ssh"\n[ssh]\nhost = "127.0.0.1"\nuser = "u"\n'
                    'key_file = "keys/id"\n')
    assert load_profile(path).key_file == str(tmp_path / "keys" / "id")


def test_not_toml(tmp_path):
    path = tmp_path / "x.toml"
    path.write_text("this is = = not toml")
    with pytest.raises(UserError, match="not valid TOML"):
        load_profile(path)
