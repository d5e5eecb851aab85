"""Splits hold tensors with canonical strides, whatever layout numpy handed over.

A 1-channel batch whose channel stride is 1 is also a valid channels-last tensor; torch 2.13's
single-threaded convolution backward on such tensors corrupted the heap (aborts in the Taylor
criterion's backward, about half of the runs with torch.set_num_threads(1)).
"""
from pipeline.config import DataConfig
from pipeline.data import load_data


def test_one_channel_images_have_canonical_strides():
    s = load_data(DataConfig(name="digits", image_size=8), seed=0)
    for x in (s.x_train, s.x_val, s.x_test):
        n, c, h, w = x.shape
        assert x.stride() == (c * h * w, h * w, w, 1)
