"""Data sets: the embedded default (scikit-learn digits) and files the user already has."""
from pipeline.data.splits import Splits, load_data

__all__ = ["Splits", "load_data"]
