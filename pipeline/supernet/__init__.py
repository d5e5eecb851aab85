"""One-shot accuracy estimates for the search: weights trained for every width (`train`),
channel masks that make one model behave as any genome's pruned one (`masks`), and the
`Supernet` the search prunes instead of the trained model (`store`)."""
from pipeline.supernet.store import Supernet, supernet_for_run

__all__ = ["Supernet", "supernet_for_run"]
