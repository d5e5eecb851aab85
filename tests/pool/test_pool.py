"""BoardPool with fake boards (unit tests of the distribution logic) over real ONNX files."""
import time

import pytest

from pipeline.devices import MeasurementCache, load_profile, open_device
from pipeline.devices.device import Measurement
from pipeline.devices.stats import summarize
from pipeline.devices.testing_models import make_conv_onnx
from pipeline.errors import DeviceError, UserError
from pipeline.pool import BoardPool

SHAPE = (1, 3, 16, 16)


def pool_profile(tmp_path, hosts, tolerance=0.10, drift_every=0):
    path = tmp_path / "pi-pool.toml"
    listed = ", ".join(f'"{h}"' for h in hosts)
    path.write_text(f"""name = "pi-pool"
backend = "ssh"
[drift]
every = {drift_every}
tolerance = {tolerance}
[ssh]
hosts = [{listed}]
port = 2200
user = "pi"
key_file = "id_ed25519"
""")
    return load_profile(path)


class FakeBoard:
    """A board whose latency is `speed` x the model's width; may die after `dies_after` models."""

    def __init__(self, profile, speed=1.0, dies_after=None):
        self.profile, self.speed, self.dies_after = profile, speed, dies_after
        self.measured, self.closed = [], False

    def close(self):
        self.closed = True

    def check(self):
        return {"runtimes": {"onnxruntime": "1.31.1"}, "problems": {}, "cpu": "fake"}

    def measure(self, paths, input_shape):
        out = []
        for path in paths:
            if self.dies_after is not None and len(self.measured) >= self.dies_after:
                raise DeviceError(f"{self.profile.host}:{self.profile.port}: connection "
                                  "dropped 4 times, giving up")
            time.sleep(0.01)
            self.measured.append(path.name)
            width = int(path.stem.split("_")[1])
            stats = summarize([self.speed * width / 10] * 5)
            out.append(Measurement(stats, key=path.name, cached=False,
                                   facts={"host": self.profile.host}))
        return out


def boards_factory(**per_port):
    made = {}

    def factory(profile):
        made[profile.port] = FakeBoard(profile, **per_port.get(str(profile.port), {}))
        return made[profile.port]
    return factory, made


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    return [make_conv_onnx(folder / f"m_{w}.onnx", widths=(w, 2 * w), input_shape=SHAPE)
            for w in (4, 8, 12, 16, 20, 24, 28, 32)]


def test_hosts_become_one_board_each(tmp_path):
    profile = pool_profile(tmp_path, ["10.0.0.5", "10.0.0.6:2222"])
    factory, made = boards_factory()
    pool = BoardPool(profile, device_factory=factory)
    assert [b.label for b in pool.boards] == ["10.0.0.5:2200", "10.0.0.6:2222"]
    assert all(b.profile.name == "pi-pool" and not b.profile.hosts for b in made.values())


@pytest.mark.parametrize("hosts, words", [(["a:x"], "host:port"), (["a:1", "a:1"], "twice"),
                                          ([":22"], "host:port")])
def test_bad_hosts_entries_are_user_errors(tmp_path, hosts, words):
    with pytest.raises(UserError, match=words):
        pool_profile(tmp_path, hosts)


def test_a_generation_is_spread_over_the_boards_and_cached(tmp_path, models):
    profile = pool_profile(tmp_path, ["b1:1", "b2:2"])
    factory, made = boards_factory()
    cache = MeasurementCache(tmp_path / "cache.sqlite")
    pool = BoardPool(profile, cache, device_factory=factory)
    ms = pool.measure(models + [models[0]], SHAPE)
    assert [m.stats.p50_ms for m in ms[:-1]] == [int(p.stem[2:]) / 10 for p in models]
    assert ms[-1].cached and ms[-1].stats == ms[0].stats
    # the reference went to both boards; every other model to exactly one
    assert made[1].measured.count("m_4.onnx") == made[2].measured.count("m_4.onnx") == 1
    others = sorted(made[1].measured[1:] + made[2].measured[1:])
    assert others == sorted(p.name for p in models[1:])
    assert len(made[1].measured) > 1 and len(made[2].measured) > 1
    assert {m.facts["board"] for m in ms} == {"b1:1", "b2:2"}
    again = pool.measure(models, SHAPE)  # all from the cache now: no board is asked
    assert all(m.cached for m in again)
    assert len(made[1].measured) + len(made[2].measured) == len(models) + 1
    assert pool.check()["pool"]["boards"] == ["b1:1", "b2:2"]


def test_a_board_off_the_pools_level_is_set_aside(tmp_path, models, capsys):
    profile = pool_profile(tmp_path, ["b1:1", "b2:2", "b3:3"], tolerance=0.10)
    factory, made = boards_factory(**{"3": {"speed": 1.5}})
    pool = BoardPool(profile, device_factory=factory)
    pool.measure(models, SHAPE)
    assert list(pool.set_aside) == ["b3:3"]
    assert made[3].measured == ["m_4.onnx"] and made[3].closed  # its session is closed
    assert "b3:3 set aside" in capsys.readouterr().err
    assert pool.check()["pool"]["set_aside"].keys() == {"b3:3"}


def test_a_board_dropping_mid_generation_loses_no_measurement(tmp_path, models, capsys):
    profile = pool_profile(tmp_path, ["b1:1", "b2:2"])
    factory, made = boards_factory(**{"2": {"dies_after": 3}})
    pool = BoardPool(profile, device_factory=factory)
    ms = pool.measure(models, SHAPE)
    assert [m.stats.p50_ms for m in ms] == [int(p.stem[2:]) / 10 for p in models]
    assert "b2:2" in pool.set_aside and pool.requeued == 1
    assert "go back to the queue" in capsys.readouterr().err
    assert sorted(made[1].measured[1:] + made[2].measured[1:]) == sorted(p.name for p in models[1:])
    # the next generation runs on the board that is left
    more = [make_conv_onnx(tmp_path / "m_36.onnx", widths=(36, 72), input_shape=SHAPE)]
    assert pool.measure(more, SHAPE)[0].facts["board"] == "b1:1"


def test_every_board_dropping_is_a_device_error(tmp_path, models):
    profile = pool_profile(tmp_path, ["b1:1", "b2:2"])
    # b2 redoes b1's lost model, then drops on a model of its own: the boards failed, not a model
    factory, _ = boards_factory(**{"1": {"dies_after": 2}, "2": {"dies_after": 4}})
    pool = BoardPool(profile, device_factory=factory)
    with pytest.raises(DeviceError, match="dropped"):
        pool.measure(models, SHAPE)
    assert pool.set_aside  # nothing is made up for the models no board could measure


def test_with_drift_checks_on_boards_take_a_few_models_at_a_time(tmp_path, models):
    """Each Device.measure call ends with a drift re-check, so chunks beat single models."""
    profile = pool_profile(tmp_path, ["b1:1", "b2:2"], drift_every=25)
    factory, made = boards_factory()
    sizes = []
    pool = BoardPool(profile, device_factory=factory)
    for board in made.values():
        original = board.measure

        def measure(paths, input_shape, original=original):
            sizes.append(len(paths))
            return original(paths, input_shape)
        board.measure = measure
    ms = pool.measure(models, SHAPE)
    assert len(ms) == len(models)
    # 7 models after the reference, 2 boards: chunks of ceil(7 / 4) = 2, never more
    assert sizes[:2] == [1, 1] and max(sizes[2:]) == 2 and sum(sizes[2:]) == len(models) - 1


def test_open_device_opens_a_pool_for_a_hosts_profile(tmp_path):
    profile = pool_profile(tmp_path, ["b1:1", "b2:2"])
    with open_device(profile) as device:
        assert isinstance(device, BoardPool) and len(device.boards) == 2
