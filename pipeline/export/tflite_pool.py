"""Convert many models to TFLite side by side, in worker processes.

One litert-torch conversion takes seconds (torch.export, decompositions, MLIR lowering) on one
core, so a search on a TFLite device spends most of its time converting. A generation's models
are converted by a few worker processes at once; the caller measures only after every file is
written, so no conversion ever runs next to a timing.
"""
from __future__ import annotations

import atexit
import os
from pathlib import Path

from pipeline.errors import UserError
from pipeline.progress import progress

# The pool is replaced, between batches, once its workers have done this many conversions each:
# whatever a long series of torch.export calls leaves behind in a process stays bounded.
# (Not ProcessPoolExecutor's max_tasks_per_child: on Python 3.11 it can hang the pool.)
TASKS_PER_WORKER = 20
MAX_AUTO_WORKERS = 4   # each worker holds torch + litert-torch (about 1 GB)

_pool = None
_pool_workers = 0
_pool_tasks = 0


def default_workers() -> int:
    """One worker per usable core, at most MAX_AUTO_WORKERS."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(MAX_AUTO_WORKERS, cores))


def export_for_runtime(models: list, example_input, folder, names: list[str], runtime: str,
                       workers: int = 0, simplify: bool = False) -> list[Path]:
    """`folder/<name>.tflite` or `.onnx` for each model, in the format `runtime` runs.

    TFLite files are converted side by side (export_tflite_many); ONNX export is fast and stays
    in this process (`simplify` runs onnxslim, worth it for files that ship, not for a search).
    """
    from pipeline.export.onnx_export import export_onnx

    folder = Path(folder)
    if runtime == "tflite":
        return export_tflite_many(models, example_input, [folder / f"{n}.tflite" for n in names],
                                  workers=workers)
    return [export_onnx(m, example_input, folder / f"{n}.onnx", simplify=simplify)
            for m, n in zip(models, names)]


def export_tflite_many(models: list, example_input, paths: list, workers: int = 0) -> list[Path]:
    """export_tflite for each (model, path); `workers` 0 = default_workers(), 1 = in this process."""
    from pipeline.export.tflite_export import export_tflite

    workers = workers or default_workers()
    if workers == 1 or len(models) <= 1:
        return [export_tflite(m, example_input, p)
                for m, p in zip(progress(models, desc="TFLite conversion", unit="model"), paths)]
    from concurrent.futures import as_completed
    from concurrent.futures.process import BrokenProcessPool

    pool = _get_pool(workers, len(models))
    futures, here = {}, []
    for i, (m, p) in enumerate(zip(models, paths)):
        try:
            futures[pool.submit(_convert, _to_bytes(m, example_input), str(p))] = i
        except Exception:  # noqa: BLE001 - cannot be pickled (a class defined in a function)
            here.append(i)
    done: list[Path | None] = [None] * len(models)
    for i in here:   # converted in this process, while the workers convert the rest
        done[i] = export_tflite(models[i], example_input, paths[i])
    try:
        for future in progress(as_completed(futures), total=len(futures),
                               desc=f"TFLite conversion ({workers} workers)", unit="model"):
            i = futures[future]
            try:
                done[i] = Path(future.result())
            except (UserError, BrokenProcessPool):
                raise
            except Exception:  # noqa: BLE001 - export_tflite turns its own failures into UserError
                # The model could not travel to a worker (say, a class defined inside a
                # function cannot be pickled): convert it here instead.
                done[i] = export_tflite(models[i], example_input, paths[i])
    except BrokenProcessPool as exc:
        shutdown()
        raise UserError("a TFLite conversion worker died (out of memory?); convert in this "
                        "process with search.export_workers=1") from exc
    except BaseException:
        for future in futures:
            future.cancel()
        raise
    return done  # type: ignore[return-value]


def _get_pool(workers: int, tasks: int):
    global _pool, _pool_workers, _pool_tasks
    if _pool is not None and (_pool_workers != workers
                              or _pool_tasks >= TASKS_PER_WORKER * workers):
        shutdown()
    if _pool is None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # spawn, not fork: forking a process that already ran torch's thread pools can hang.
        _pool = ProcessPoolExecutor(max_workers=workers,
                                    mp_context=multiprocessing.get_context("spawn"),
                                    initializer=_init_worker)
        _pool_workers, _pool_tasks = workers, 0
    _pool_tasks += tasks
    return _pool


def shutdown() -> None:
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=True, cancel_futures=True)
        _pool = None


atexit.register(shutdown)


def _init_worker() -> None:
    import signal

    import torch

    # Ctrl-C is the parent's to handle (it saves state); workers just stop with it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # One conversion is single-threaded work; more OpenMP threads per worker only contend.
    torch.set_num_threads(1)


def _to_bytes(model, example_input) -> bytes:
    """The model and input as one plain pickle, made here. Handed to the pool as they are,
    torch would move every tensor into shared memory and keep a file descriptor open for each
    while the model lives: 200 models of a predictor fit ran out of descriptors (EMFILE)."""
    import pickle

    return pickle.dumps((model, example_input), protocol=pickle.HIGHEST_PROTOCOL)


def _convert(blob: bytes, path: str) -> str:
    import pickle

    from pipeline.export.tflite_export import export_tflite

    # bytes this run's parent process made from its own objects a moment ago, never a file
    model, example_input = pickle.loads(blob)
    return str(export_tflite(model, example_input, path))
