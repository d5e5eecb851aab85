"""bench.checkpoint: an interrupted bench keeps its finished seeds, and only under the same key."""
from bench.checkpoint import SeedCheckpoint


def test_finished_seeds_come_back_under_their_key_only(tmp_path):
    ck = SeedCheckpoint(tmp_path / "sub" / "c.jsonl")
    key = {"model": "resnet20", "settings": {"seeds": [0, 1], "steps": 100}}
    assert ck.done(key) == {}
    ck.add(key, 0, {"runs": [{"accuracy_test": 0.8}], "recover_s": 1.5})
    ck.add({**key, "model": "other"}, 1, {"runs": []})
    assert ck.done(key) == {0: {"runs": [{"accuracy_test": 0.8}], "recover_s": 1.5}}
    # the same settings written in another key order are the same key
    assert ck.done({"settings": {"steps": 100, "seeds": [0, 1]}, "model": "resnet20"}) == \
        ck.done(key)
    assert ck.done({**key, "settings": {"seeds": [0, 1], "steps": 40}}) == {}


def test_a_torn_last_line_is_skipped_and_the_next_seed_still_parses(tmp_path):
    path = tmp_path / "c.jsonl"
    ck = SeedCheckpoint(path)
    key = {"model": "m"}
    ck.add(key, 0, {"x": 1})
    with open(path, "a") as f:
        f.write('{"key": "{\\"model\\": \\"m\\"}", "seed": 1, "ent')   # what kill -9 leaves
    assert set(ck.done(key)) == {0}
    ck.add(key, 1, {"x": 2})
    assert ck.done(key) == {0: {"x": 1}, 1: {"x": 2}}
