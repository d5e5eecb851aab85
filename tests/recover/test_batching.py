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
