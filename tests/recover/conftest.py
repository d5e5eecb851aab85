"""Tiny real fixtures: scikit-learn digits at their native 8x8 and a tiny residual CNN trained
once per session, so every recovery test runs in seconds on one thread."""
import dataclasses

import pytest

torch = pytest.importorskip("torch")


def tiny_digits(train: int = 600):
    from pipeline.config import DataConfig
    from pipeline.data import load_data

    splits = load_data(DataConfig(image_size=8), seed=0)
    return dataclasses.replace(splits, x_train=splits.x_train[:train], y_train=splits.y_train[:train])


@pytest.fixture(scope="session")
def digits8():
    return tiny_digits()


def new_tiny_model(seed: int = 0):
    from pipeline.models import create_model

    torch.manual_seed(seed)
    return create_model("resnet20-tiny", num_classes=10, in_channels=1)


@pytest.fixture(scope="session")
def teacher(digits8):
    """resnet20-tiny trained for a few epochs: well above chance, not perfect."""
    from pipeline.config import TrainConfig
    from pipeline.recover import train_baseline

    torch.set_num_threads(1)
    model, hist = train_baseline(new_tiny_model(), digits8, TrainConfig(epochs=8, lr=0.1), seed=0,
                                 batch_size=32)
    return model, hist


def same_weights(a, b) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)
