"""Data sets: the embedded default (scikit-learn digits), Fashion-MNIST from its Debian
package, and files the user already has (MNIST, CIFAR-10, image folders, a CSV).

Readers: idx.py (MNIST/Fashion-MNIST), cifar.py (data-only unpickler), folders.py (Pillow),
sources.py (digits). select.py plans the splits, splits.py builds them in memory,
lazy.py / lazy_splits.py stream image files that do not fit.
"""
from pipeline.data.channels import first_conv_in_channels
from pipeline.data.load import load_data
from pipeline.data.splits import Splits

__all__ = ["Splits", "first_conv_in_channels", "load_data"]
