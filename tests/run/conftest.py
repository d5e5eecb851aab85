import pytest

# A tiny but complete main job: every stage runs for real (host-ort measures every latency).
TINY = ["model.name=resnet20-tiny", "train.epochs=2", "search.population=4",
        "search.generations=2", "search.sensitivity_keeps=0.5", "search.refine_per_generation=1",
        "search.front_finetune_steps=3", "recover.epochs=1", "recover.max_candidates=1"]


@pytest.fixture
def tiny_args():
    return list(TINY)
