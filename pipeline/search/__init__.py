"""The search: NSGA-II over per-group channel counts (ask/tell), fitness, sensitivity, resume.

The GA itself (`ga.py`) knows nothing about devices or models: it asks for genomes and is told
objective values. `fitness.py` turns genomes into measured numbers.
"""
