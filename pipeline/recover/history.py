"""What a training or recovery run did, epoch by epoch, as JSON-ready data."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field


@dataclass
class History:
    method: str = ""
    train_loss: list[float] = field(default_factory=list)   # mean loss per epoch
    val_acc: list[float] = field(default_factory=list)      # after each epoch
    best_epoch: int = -1                                     # 0-based; -1: never validated
    best_val_acc: float = 0.0
    steps: int = 0                                           # optimizer steps taken
    seconds: float = 0.0
    stopped_early: bool = False
    notes: dict = field(default_factory=dict)               # method-specific (factors, plans)

    @property
    def epochs_run(self) -> int:
        return len(self.val_acc)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["epochs_run"] = self.epochs_run
        return d
