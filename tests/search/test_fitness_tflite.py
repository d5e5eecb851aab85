"""Step-1 fitness on the real host-tflite device: a generation converted by worker processes,
then measured; every individual gets its own file and a real latency."""
import pytest

from helpers.real_evaluator import tiny_evaluator


@pytest.mark.slow
def test_generation_on_host_tflite_is_converted_then_measured(tmp_path):
    from pipeline.export.tflite_pool import shutdown

    try:
        with tiny_evaluator("host-tflite", tmp_path, export_workers=2) as (evaluator, space):
            genomes = [space.uniform(k) for k in (0.8, 0.5, 0.3)]
            evals = evaluator.evaluate(genomes, generation=0)
    finally:
        shutdown()
    assert [e.channels for e in evals] == genomes
    assert sorted(p.stem for p in tmp_path.glob("*.tflite")) == sorted(e.key for e in evals)
    for ev in evals:
        assert ev.latency_source == "device" and ev.latency_ms["p50"] > 0
    assert evaluator.counters.measured == 3
    # The genomes really were applied: keeping 30% of the channels costs fewer MACs than 80%.
    assert evals[2].macs < evals[0].macs
