import pytest


# A tiny but complete main job: every stage runs for real (host-ort measures every latency).
# round_to=2 gives the tiny model (4-16 channels) room to shrink, so pruned individuals are
# clearly faster than the unpruned one even on a loaded machine and the front has winners.
TINY = ["model.name=resnet20-tiny", "train.epochs=2", "search.population=4", "search.round_to=2",
        "search.supernet_epochs=1", "search.generations=2", "search.sensitivity_keeps=0.5",
        "search.refine_per_generation=1",
        "search.front_finetune_steps=3", "search.estimate_steps=3", "recover.epochs=1",
        "recover.max_candidates=1"]


@pytest.fixture
def tiny_args():
    return list(TINY)
