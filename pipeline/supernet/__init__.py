"""One-shot accuracy estimates for the search: weights trained for every width (train.py),
channel masks that make one model behave as any genome's pruned one (masks.py), and the
`Supernet` the search prunes instead of the trained model (store.py)."""
from pipeline.supernet.store import Supernet, supernet_for_run

__all__ = ["Supernet", "supernet_for_run"]
