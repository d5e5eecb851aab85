"""Ray executor on a local Ray instance with 2 CPUs: a tiny search gives the same front as the
local executor, and a Ray worker killed mid-generation costs no task. Skipped without Ray
(`pip install 'edgeprune[ray]'`); Ray starts once for the module (seconds on 2 cores)."""
import dataclasses
import os
import signal

import pytest

pytest.importorskip("ray")
torch = pytest.importorskip("torch")

from pipeline.config import RecoverConfig, SearchConfig, TrainConfig  # noqa: E402
from pipeline.executors.local import LocalExecutor  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ray_executor():
    import ray

    from pipeline.executors.ray import RayExecutor

    if ray.is_initialized():
        pytest.skip("a Ray instance is already running in this process")
    # workers import the same `pipeline` as this process (a worktree on PYTHONPATH included)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(__import__("pipeline").__path__[0].rsplit(os.sep, 1)[0])]
        + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
    ex = RayExecutor(num_cpus=2, device="cpu")
    yield ex
    ex.close()


def test_results_come_back_in_submission_order(ray_executor):
    import time

    def slow_first(shared, item):
        time.sleep(0.3 if item == 0 else 0.0)
        return shared + item

    assert ray_executor.map(slow_first, [0, 1, 2, 3], shared=100) == [100, 101, 102, 103]


def test_a_killed_worker_is_replaced_and_its_task_rerun(ray_executor, tmp_path):
    marker = str(tmp_path / "killed-once")

    def dies_once(shared, item):
        if item == 2:
            try:
                os.close(os.open(marker, os.O_CREAT | os.O_EXCL))
            except FileExistsError:
                pass  # the retry, on a fresh worker
            else:
                os.kill(os.getpid(), signal.SIGKILL)  # the worker dies mid-generation
        return item * item

    assert ray_executor.map(dies_once, range(6)) == [0, 1, 4, 9, 16, 25]
    assert os.path.exists(marker)  # the first attempt really died


def tiny_search(executor, splits, model, supernet=None):
    """Sensitivity-free NSGA-II, 4 x 2 with step 2, latency by MACs: the accuracy side is all
    the executor's, so equal fronts mean equal accuracies. With a supernet, the workers cut it
    (it travels inside the accuracy context)."""
    from pipeline.prune import SearchSpace
    from pipeline.search.fitness import Evaluator
    from pipeline.search.ga import Baseline, GeneticSearch, Objectives, non_dominated
    from pipeline.search.genes import GeneSpace, initial_population

    import numpy as np

    sc = SearchConfig(population=4, generations=2, latency_source="flops", calib_batches=2,
                      front_finetune_steps=3, refine_per_generation=1, sensitivity=False)
    space = SearchSpace.from_model(model, torch.zeros(splits.input_shape), round_to=2)
    ev = Evaluator(base_model=model, space=space, splits=splits, search_cfg=sc,
                   recover_cfg=RecoverConfig(), device=None, workdir=splits_dir(), seed=0,
                   executor=executor, supernet=supernet)
    (base,) = ev.evaluate([space.full()], generation=-1)
    genes = GeneSpace.from_space(space, min_keep=sc.min_keep)
    objectives = Objectives(mode="nsga2", baseline=Baseline(base.accuracy_bn,
                            base.latency_objective(), base.params))
    initial = initial_population(genes, sc.population, np.random.default_rng(0), sc.min_keep)
    search = GeneticSearch(genes, objectives, sc.population, sc.generations, 0,
                           refine_per_generation=sc.refine_per_generation)
    evals = search.run(ev.evaluate, ev.refine, initial, lambda summary: None)
    front = non_dominated(evals, objectives)
    return sorted((e.key, e.accuracy_bn, e.accuracy_kd) for e in evals), \
        sorted(e.key for e in front), {"front": front, "supernet": supernet, "baseline": {
            "channels": space.full(), "accuracy": base.accuracy_bn}}


def one_epoch_supernet(model, splits):
    from pipeline.prune import SearchSpace, channel_order
    from pipeline.search.genes import GeneSpace
    from pipeline.supernet import Supernet
    from pipeline.supernet.train import train_supernet

    example = torch.zeros(splits.input_shape)
    space = SearchSpace.from_model(model, example, round_to=2)
    order = channel_order(model, example, "l1")
    weights, _ = train_supernet(model, GeneSpace.from_space(space, min_keep=0.0), order, splits,
                                RecoverConfig(), epochs=1, lr=0.05, seed=0)
    return Supernet(weights, order)


def splits_dir():
    import tempfile

    return tempfile.mkdtemp(prefix="edgeprune-ray-test-")


def test_same_seed_same_front_locally_and_on_ray(ray_executor):
    from pipeline.config import DataConfig
    from pipeline.data import load_data
    from pipeline.models import create_model
    from pipeline.recover import train_baseline

    splits = load_data(DataConfig(image_size=8), seed=0)
    splits = dataclasses.replace(splits, x_train=splits.x_train[:400], y_train=splits.y_train[:400])
    torch.manual_seed(0)
    model = create_model("resnet20-tiny", num_classes=10, in_channels=1)
    model, _ = train_baseline(model, splits, TrainConfig(epochs=2, lr=0.1), seed=0, batch_size=32)
    supernet = one_epoch_supernet(model, splits)
    local_evals, local_front, search = tiny_search(LocalExecutor(), splits, model, supernet)
    ray_evals, ray_front, _ = tiny_search(ray_executor, splits, model, supernet)
    assert any(kd is not None for _, _, kd in local_evals)   # step 2 ran too
    assert ray_evals == local_evals
    assert ray_front == local_front

    # the winners' full recovery: side by side on Ray, one by one locally, same picks
    from pipeline.config import load_config
    from pipeline.finish import _pick_and_recover

    budget = ["recover.epochs=1", "recover.max_candidates=2", "winners=2", "seed=0"]
    picks = {}
    for executor in ("local", "ray"):
        cfg = load_config(overrides=budget + [f"search.executor={executor}"])
        picks[executor] = [(reason, rec.ev.key, rec.accuracy_val)
                           for reason, rec in _pick_and_recover(cfg, model, search, splits)]
    assert picks["local"] and picks["ray"] == picks["local"]
