"""Datasets as numpy batches shared by every framework: nu.data.load(...) -> Dataset (imports no framework)."""

from __future__ import annotations

from nbunify.data.dataset import Dataset
from nbunify.data.downloads import DATA_DIR_ENV, DatasetUnavailableError, cache_directory
from nbunify.data.sources import load, names

__all__ = ["DATA_DIR_ENV", "Dataset", "DatasetUnavailableError", "cache_directory", "load", "names"]
