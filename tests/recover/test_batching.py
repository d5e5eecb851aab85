"""Forward passes without gradients are bounded by pixels, not by a fixed image count."""
import torch

from pipeline.batching import inference_batch
from pipeline.recover import evaluate


def test_small_images_go_256_at_a_time_and_large_ones_fewer():
    assert inference_batch(torch.zeros(1, 1, 8, 8)) == 256
    assert inference_batch(torch.zeros(1, 3, 64, 64)) == 256
    assert inference_batch(torch.zeros(1, 3, 96, 96)) == 113
    assert inference_batch(torch.zeros(1, 3, 224, 224)) == 20
    assert inference_batch(torch.zeros(1, 3, 4096, 4096)) == 1


def test_accuracy_does_not_depend_on_the_batch():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.AdaptiveAvgPool2d(1),
                                torch.nn.Flatten(), torch.nn.Linear(4, 3))
    x, y = torch.randn(50, 3, 224, 224), torch.randint(0, 3, (50,))
    assert evaluate(model, x, y) == evaluate(model, x, y, batch_size=50)


def test_data_batch_size_is_the_training_loops_batch_unless_told_otherwise():
    import dataclasses

    import torch.nn.functional as F

    from pipeline.config import DataConfig, TrainConfig
    from pipeline.data import load_data
    from pipeline.recover import train_baseline

    splits = load_data(DataConfig(name="digits", image_size=8, batch_size=16), seed=0)
    assert splits.batch_size == 16
    seen = []

    class Recording(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 10))

        def forward(self, x):
            if self.training:
                seen.append(x.shape[0])
            return self.net(x)

    train_baseline(Recording(), splits, TrainConfig(epochs=1, lr=0.05), seed=0)
    assert max(seen) == 16 and len(seen) >= len(splits.y_train) // 16
    seen.clear()
    train_baseline(Recording(), dataclasses.replace(splits, batch_size=16), TrainConfig(epochs=1),
                   seed=0, batch_size=100)
    assert max(seen) == 100


def test_calibration_slices_cover_the_same_images_at_any_size():
    from pipeline.batching import calibration_slices

    small, large = torch.zeros(600, 1, 32, 32), torch.zeros(600, 3, 224, 224)
    assert [len(s) for s in calibration_slices(small)] == [64] * 8
    sizes = [len(s) for s in calibration_slices(large)]
    assert sum(sizes) == 512 and max(sizes) == 20
    assert sum(len(s) for s in calibration_slices(torch.zeros(100, 1, 8, 8))) == 100
