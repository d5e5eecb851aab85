"""Real digits at 8x8 and resnet20-tiny trained for a few seconds (the recover tests' fixtures)."""
import pytest

torch = pytest.importorskip("torch")

from tests.recover.conftest import new_tiny_model, tiny_digits  # noqa: E402


@pytest.fixture(scope="session")
def digits8():
    return tiny_digits()


@pytest.fixture(scope="session")
def trained(digits8):
    """resnet20-tiny trained briefly: its criteria scores are not those of a fresh init."""
    from pipeline.config import TrainConfig
    from pipeline.recover import train_baseline

    torch.set_num_threads(1)
    model, _ = train_baseline(new_tiny_model(), digits8, TrainConfig(epochs=4, lr=0.1), seed=0,
                              batch_size=32)
    return model


@pytest.fixture(scope="session")
def batches(digits8):
    from pipeline.search.fitness import calibration_batches

    return calibration_batches(digits8, 2, seed=0)
