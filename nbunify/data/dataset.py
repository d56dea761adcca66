"""Dataset: train/validation(/test) numpy arrays and the one batch order every framework trains on."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

SPLITS = ("train", "validation", "test")
# Mixed into the seed so the split and each split's shuffling draw independent streams.
_SPLIT_STREAMS = {"train": 1, "validation": 2, "test": 3}


class Dataset:
    """A dataset split into numpy arrays, ready to feed torch, keras and paddle the same batches.

    Attributes:
        name: short name (``"digits"``, ``"mnist"``, ``"arrays"`` ...).
        task: ``"classification"`` or ``"regression"``.
        x_train, y_train, x_val, y_val: numpy arrays. ``x`` is float32, channels-first
            ``(N, C, H, W)`` for images and ``(N, F)`` for tables; ``y`` is int64 class ids
            ``(N,)`` for classification, float32 targets ``(N, T)`` for regression.
        x_test, y_test: the official test split of sources that ship one (mnist,
            fashion-mnist, cifar10), never used for training or validation; ``None`` otherwise.
        input_shape: the shape of one sample, e.g. ``(1, 8, 8)`` or ``(30,)``.
        num_classes: number of classes, ``None`` for regression.
        classes: label names when known (a tuple, index = class id), else ``None``.
        seed: the seed of the split and of the batch order.

    ``len(dataset)`` counts every sample (train + validation + test). Batches are canonical
    (channels-first); converting to channels-last for keras is the training code's job.
    """

    def __init__(
        self,
        name: str,
        task: str,
        x_train: np.ndarray,
        y_train: np.ndarray,
        x_val: np.ndarray,
        y_val: np.ndarray,
        *,
        num_classes: int | None = None,
        classes: tuple[str, ...] | None = None,
        seed: int = 0,
        x_test: np.ndarray | None = None,
        y_test: np.ndarray | None = None,
    ) -> None:
        self.name = name
        self.task = task
        self.x_train, self.y_train = x_train, y_train
        self.x_val, self.y_val = x_val, y_val
        self.x_test, self.y_test = x_test, y_test
        self.num_classes = num_classes
        self.classes = tuple(classes) if classes is not None else None
        self.seed = seed

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The shape of one sample (batch dimension excluded)."""
        return tuple(int(size) for size in self.x_train.shape[1:])

    def __len__(self) -> int:
        test = 0 if self.x_test is None else len(self.x_test)
        return len(self.x_train) + len(self.x_val) + test

    def __repr__(self) -> str:
        shape = "x".join(str(size) for size in self.input_shape)
        target = f"{self.num_classes} classes" if self.task == "classification" else "regression"
        sizes = f"train {len(self.x_train)}, validation {len(self.x_val)}"
        if self.x_test is not None:
            sizes += f", test {len(self.x_test)}"
        return f"<Dataset {self.name!r}: {target}, input {shape}, {sizes}, seed {self.seed}>"

    def arrays(self, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
        """``(x, y)`` of one split: ``"train"``, ``"validation"`` (or ``"val"``) or ``"test"``."""
        split = _split_name(split)
        if split == "train":
            return self.x_train, self.y_train
        if split == "validation":
            return self.x_val, self.y_val
        if self.x_test is None:
            raise ValueError(
                f"Dataset {self.name!r} has no test split: only mnist, fashion-mnist and cifar10 ship an "
                'official test set. Use split="train" or split="validation".'
            )
        return self.x_test, self.y_test

    def order(self, split: str = "train", epoch: int = 0, shuffle: bool | None = None) -> np.ndarray:
        """The sample indices of one epoch, in the order batches() yields them.

        Shuffled (by default only for ``"train"``) with a generator seeded by ``(seed, epoch,
        split)``: the same dataset, epoch and split always give the same order, in any process.
        """
        split = _split_name(split)
        count = len(self.arrays(split)[0])
        if shuffle is None:
            shuffle = split == "train"
        if not shuffle:
            return np.arange(count)
        _check_count("epoch", epoch)
        generator = np.random.default_rng([self.seed, _SPLIT_STREAMS[split], epoch])
        return generator.permutation(count)

    def steps(self, batch_size: int, split: str = "train", drop_last: bool = False) -> int:
        """How many batches batches() yields for one epoch of ``split``."""
        _check_batch_size(batch_size)
        count = len(self.arrays(split)[0])
        return count // batch_size if drop_last else -(-count // batch_size)

    def batches(
        self,
        batch_size: int,
        split: str = "train",
        epoch: int = 0,
        shuffle: bool | None = None,
        drop_last: bool = False,
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(x, y)`` numpy batches of one epoch of ``split``, in the order of order().

        Every framework trained from these batches sees exactly the same samples in the same
        order. The last batch is smaller unless ``drop_last``. Batches are copies: changing one
        leaves the dataset as it was.
        """
        _check_batch_size(batch_size)
        x, y = self.arrays(split)
        indices = self.order(split, epoch, shuffle)
        stop = len(indices) - len(indices) % batch_size if drop_last else len(indices)
        for start in range(0, stop, batch_size):
            chosen = indices[start : start + batch_size]
            yield x[chosen], y[chosen]


def _split_name(split: Any) -> str:
    name = {"val": "validation", "valid": "validation"}.get(split, split)
    if name not in SPLITS:
        raise ValueError(f"Unknown split {split!r}: use one of {', '.join(map(repr, SPLITS))}.")
    return name


def _check_batch_size(batch_size: Any) -> None:
    _check_count("batch_size", batch_size, minimum=1)


def _check_count(label: str, value: Any, minimum: int = 0) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{label} must be a whole number >= {minimum}, got {value!r}.")
