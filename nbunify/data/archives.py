"""mnist, fashion-mnist and cifar10 from their published files: idx-ubyte.gz and the CIFAR python pickles."""

from __future__ import annotations

import gzip
import pickle
import tarfile
from pathlib import Path
from typing import Any

import numpy as np

from nbunify.data.dataset import Dataset
from nbunify.data.downloads import DatasetUnavailableError, RemoteFile, fetch
from nbunify.data.split import make_dataset

# The files torchvision and the datasets' authors publish, with their published MD5 sums.
# MNIST: PyTorch's S3 mirror of yann.lecun.com/exdb/mnist (the original site often refuses downloads).
MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"
# Fashion-MNIST: the data folder of Zalando Research's official repository.
FASHION_MNIST_URL = "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"
# CIFAR-10: Alex Krizhevsky's page at the University of Toronto, "CIFAR-10 python version".
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"

IDX_NAMES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
MNIST_MD5 = (
    "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "d53e105ee54ea40749a09fcbcd1e9432",
    "9fb629c4189551a2d022fa330f9573f3",
    "ec29112dd5afa0611ce80d1b7f02629c",
)
FASHION_MNIST_MD5 = (
    "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "25c81989df183df01b3e8a0aad5dffbe",
    "bef4ecab320f06d8554ea6380940ec79",
    "bb300cfdad3c16e7a12a480ee83cd310",
)
MNIST_FILES = tuple(RemoteFile(name, MNIST_URL + name, md5) for name, md5 in zip(IDX_NAMES, MNIST_MD5, strict=True))
FASHION_MNIST_FILES = tuple(
    RemoteFile(name, FASHION_MNIST_URL + name, md5) for name, md5 in zip(IDX_NAMES, FASHION_MNIST_MD5, strict=True)
)
CIFAR10_FILES = (RemoteFile("cifar-10-python.tar.gz", CIFAR10_URL, "c58f30108f718f92721af3b95e74349a"),)
FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
CIFAR10_FOLDER = "cifar-10-batches-py"
_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: Path) -> np.ndarray:
    """An array from an IDX file (gzip-compressed when its name ends in .gz), as LeCun's page defines it."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as stream:
            data = stream.read()
        zero, type_code, dimensions = int.from_bytes(data[:2], "big"), data[2], data[3]
        if zero != 0 or type_code not in _IDX_TYPES:
            raise ValueError("the header is not an IDX magic number")
        shape = tuple(int.from_bytes(data[4 + 4 * axis : 8 + 4 * axis], "big") for axis in range(dimensions))
        offset = 4 + 4 * dimensions
        array = np.frombuffer(data, dtype=_IDX_TYPES[type_code], offset=offset)
        return array.reshape(shape)
    except (OSError, EOFError, ValueError, IndexError) as error:
        raise _corrupt(path, error) from error


def _corrupt(path: Path, error: Exception) -> DatasetUnavailableError:
    return DatasetUnavailableError(
        f"The cached file {path} cannot be read ({type(error).__name__}: {error}). It is probably "
        "truncated or not the published file: delete it and load the dataset again to download it, "
        "or replace it with the original file."
    )


def _idx_dataset(
    name: str,
    files: tuple[RemoteFile, ...],
    classes: tuple[str, ...],
    validation: float,
    seed: int,
    cache_dir: Any,
    download: bool,
) -> Dataset:
    directory = fetch(name, files, cache_dir, download)
    train_images, train_labels, test_images, test_labels = (read_idx(directory / remote.name) for remote in files)
    return make_dataset(
        name, _scaled(train_images), train_labels, validation=validation, seed=seed, classes=classes,
        test=(_scaled(test_images), test_labels),
    )  # fmt: skip


def _scaled(images: np.ndarray) -> np.ndarray:
    """uint8 pixels -> float32 in [0, 1], channels-first: (N, 28, 28) -> (N, 1, 28, 28)."""
    scaled = images.astype(np.float32) / 255.0
    return scaled[:, None] if scaled.ndim == 3 else scaled


def mnist(*, validation: float, seed: int, cache_dir: Any = None, download: bool = True) -> Dataset:
    """MNIST digits: 60,000 training images (split by ``validation``) and 10,000 test images, 1x28x28 in [0, 1]."""
    classes = tuple(str(digit) for digit in range(10))
    return _idx_dataset("mnist", MNIST_FILES, classes, validation, seed, cache_dir, download)


def fashion_mnist(*, validation: float, seed: int, cache_dir: Any = None, download: bool = True) -> Dataset:
    """Fashion-MNIST: Zalando's 60,000 + 10,000 clothing images, 1x28x28 in [0, 1], 10 classes."""
    files, classes = FASHION_MNIST_FILES, FASHION_MNIST_CLASSES
    return _idx_dataset("fashion-mnist", files, classes, validation, seed, cache_dir, download)


def cifar10(*, validation: float, seed: int, cache_dir: Any = None, download: bool = True) -> Dataset:
    """CIFAR-10: 50,000 training images (split by ``validation``) and 10,000 test images, 3x32x32 in [0, 1]."""
    directory = fetch("cifar10", CIFAR10_FILES, cache_dir, download)
    x_train, y_train, x_test, y_test, classes = read_cifar10(directory / CIFAR10_FILES[0].name)
    return make_dataset(
        "cifar10", _scaled(x_train), y_train, validation=validation, seed=seed, classes=classes,
        test=(_scaled(x_test), y_test),
    )  # fmt: skip


def read_cifar10(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, tuple[str, ...]]:
    """uint8 images (N, 3, 32, 32) and labels of data_batch_1..5 and test_batch, and the class names.

    Reads cifar-10-python.tar.gz in place (nothing is unpacked to disk). The batches are pickles;
    they are read with an unpickler that builds only plain containers and numpy arrays.
    """
    try:
        with tarfile.open(path, "r:gz") as archive:
            train = [_batch(archive, f"data_batch_{index}") for index in range(1, 6)]
            test = _batch(archive, "test_batch")
            meta = _member(archive, "batches.meta")
        names = tuple(_text(label) for label in meta[b"label_names"])
        x_train = np.concatenate([images for images, _ in train])
        y_train = np.concatenate([labels for _, labels in train])
        return x_train, y_train, test[0], test[1], names
    except (OSError, EOFError, KeyError, ValueError, pickle.UnpicklingError, tarfile.TarError) as error:
        raise _corrupt(path, error) from error


def _batch(archive: tarfile.TarFile, member: str) -> tuple[np.ndarray, np.ndarray]:
    batch = _member(archive, member)
    images = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)  # rows are R, G, B planes
    return images, np.asarray(batch[b"labels"], dtype=np.int64)


def _member(archive: tarfile.TarFile, member: str) -> dict:
    stream = archive.extractfile(f"{CIFAR10_FOLDER}/{member}")
    if stream is None:
        raise KeyError(f"{CIFAR10_FOLDER}/{member} is not a file in the archive")
    with stream:
        return _ArrayUnpickler(stream, encoding="bytes").load()


def _text(label: Any) -> str:
    return label.decode() if isinstance(label, bytes) else str(label)


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles only numpy arrays and plain containers: a tampered archive cannot run code."""

    _ALLOWED = {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.numeric", "_frombuffer"),
        ("_codecs", "encode"),  # bytes in protocol-2 pickles written by Python 3
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a CIFAR-10 batch")
        return super().find_class(module, name)
