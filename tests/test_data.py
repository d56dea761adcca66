"""nu.data: bundled, synthetic, cached (mnist/fashion-mnist/cifar10) and framework datasets -> the same batches."""

from __future__ import annotations

import gzip
import hashlib
import io
import pickle
import subprocess
import sys
import tarfile
import urllib.error
from pathlib import Path

import numpy as np
import pytest

import nbunify as nu
from nbunify.data import DatasetUnavailableError, archives, downloads
from nbunify.frameworks import load as load_framework

FRAMEWORKS = ("torch", "tensorflow", "paddle")


# ---------------------------------------------------------------- bundled and synthetic sets


def test_digits_is_1x8x8_float32_in_0_1_with_10_classes():
    dataset = nu.data.load("digits")
    assert dataset.name == "digits" and dataset.task == "classification"
    assert dataset.input_shape == (1, 8, 8) and dataset.num_classes == 10
    assert dataset.classes == tuple("0123456789")
    assert len(dataset) == 1797 and (len(dataset.x_train), len(dataset.x_val)) == (1438, 359)
    assert dataset.x_train.dtype == np.float32 and dataset.y_train.dtype == np.int64
    assert dataset.x_train.min() == 0.0 and dataset.x_train.max() == 1.0
    assert dataset.x_test is None
    assert repr(dataset) == "<Dataset 'digits': 10 classes, input 1x8x8, train 1438, validation 359, seed 0>"


def test_iris_and_breast_cancer_tables():
    iris = nu.data.load("iris")
    assert (iris.input_shape, iris.num_classes, len(iris)) == ((4,), 3, 150)
    assert iris.classes == ("setosa", "versicolor", "virginica")
    cancer = nu.data.load("breast_cancer", validation=0.25, seed=3)
    assert (cancer.input_shape, cancer.num_classes, len(cancer.x_val)) == ((30,), 2, 142)
    # standardized with the training split's statistics only
    np.testing.assert_allclose(cancer.x_train.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(cancer.x_train.std(axis=0), 1, atol=1e-4)
    assert np.abs(cancer.x_val.mean(axis=0)).max() > 1e-3


def test_synthetic_sets_are_deterministic_and_sized_by_options():
    images = nu.data.load("synthetic-images", seed=5)
    assert images.input_shape == (1, 16, 16) and images.num_classes == 4 and len(images) == 600
    assert 0.0 <= images.x_train.min() and images.x_train.max() <= 1.0
    again = nu.data.load("synthetic-images", seed=5)
    np.testing.assert_array_equal(images.x_train, again.x_train)
    other = nu.data.load("synthetic-images", seed=6)
    assert not np.array_equal(images.x_train[:10], other.x_train[:10])
    small = nu.data.load("synthetic-images", n_samples=60, image_size=10, channels=3, n_classes=6, validation=0.5)
    assert small.input_shape == (3, 10, 10) and small.num_classes == 6 and len(small.x_val) == 30

    table = nu.data.load("synthetic-classification", n_samples=90, n_features=5, n_classes=3)
    assert table.input_shape == (5,) and np.bincount(table.y_train).tolist() == [24, 24, 24]

    regression = nu.data.load("synthetic-regression", n_targets=2)
    assert regression.task == "regression" and regression.num_classes is None
    assert regression.y_train.shape == (800, 2) and regression.y_train.dtype == np.float32
    assert "regression" in repr(regression)


def test_unknown_option_is_named_with_the_accepted_ones():
    with pytest.raises(ValueError, match=r"does not take the option\(s\) n_sample\. Did you mean 'n_samples'\?"):
        nu.data.load("synthetic-images", n_sample=10)


# ---------------------------------------------------------------- split and batches


def test_split_is_deterministic_stratified_and_complete():
    x = np.arange(200, dtype=np.float32).reshape(100, 2)
    y = np.repeat([0, 1, 2, 3], [40, 30, 20, 10])
    first = nu.data.load(x, y, seed=1)
    second = nu.data.load(x, y, seed=1)
    other = nu.data.load(x, y, seed=2)
    np.testing.assert_array_equal(first.x_val, second.x_val)
    assert not np.array_equal(first.x_val, other.x_val)
    assert np.bincount(first.y_val).tolist() == [8, 6, 4, 2]  # every class gives its 20%
    every = np.concatenate([first.x_train[:, 0], first.x_val[:, 0]])
    assert sorted(every.tolist()) == x[:, 0].tolist()
    assert np.all(np.diff(first.x_train[:, 0]) > 0)  # each split keeps the original order

    everything = nu.data.load(x, y, validation=0)
    assert len(everything.x_train) == 100 and everything.x_val.shape == (0, 2)
    assert list(everything.batches(8, split="validation")) == [] and everything.steps(8, "validation") == 0


def test_batches_are_a_function_of_seed_and_epoch():
    dataset = nu.data.load("digits", seed=7)
    first = list(dataset.batches(64, epoch=0))
    again = list(nu.data.load("digits", seed=7).batches(64, epoch=0))
    assert len(first) == dataset.steps(64) == 23
    for (x_a, y_a), (x_b, y_b) in zip(first, again, strict=True):
        np.testing.assert_array_equal(x_a, x_b)
        np.testing.assert_array_equal(y_a, y_b)
    next_epoch = np.concatenate([y for _, y in dataset.batches(64, epoch=1)])
    labels = np.concatenate([y for _, y in first])
    assert not np.array_equal(labels, next_epoch)
    # every training sample appears exactly once per epoch
    order = dataset.order("train", epoch=1)
    assert sorted(order.tolist()) == list(range(len(dataset.x_train)))
    np.testing.assert_array_equal(next_epoch, dataset.y_train[order])
    assert first[0][0].shape == (64, 1, 8, 8) and first[-1][0].shape == (1438 - 22 * 64, 1, 8, 8)


def test_validation_batches_are_in_order_and_drop_last_works():
    dataset = nu.data.load("iris")
    x_val = np.concatenate([x for x, _ in dataset.batches(7, split="validation", epoch=3)])
    np.testing.assert_array_equal(x_val, dataset.x_val)
    shuffled = np.concatenate([x for x, _ in dataset.batches(7, split="val", shuffle=True)])
    assert not np.array_equal(shuffled, dataset.x_val)
    assert dataset.steps(7, "validation", drop_last=True) == 4
    assert [len(y) for _, y in dataset.batches(7, split="validation", drop_last=True)] == [7, 7, 7, 7]
    unshuffled = np.concatenate([y for _, y in dataset.batches(50, shuffle=False)])
    np.testing.assert_array_equal(unshuffled, dataset.y_train)
    with pytest.raises(ValueError, match="batch_size must be a whole number >= 1"):
        next(dataset.batches(0))
    with pytest.raises(ValueError, match="has no test split"):
        dataset.steps(8, "test")


# ---------------------------------------------------------------- clear errors


@pytest.mark.parametrize(
    ("arguments", "options", "message"),
    [
        (("digit",), {}, r"Unknown dataset 'digit'\. Did you mean 'digits'\? Known datasets: digits, iris"),
        ((np.zeros((5, 2)), np.zeros(4, np.int64)), {}, r"different lengths: 5 inputs but 4 labels"),
        ((np.zeros((0, 2)), np.zeros(0, np.int64)), {}, r"is empty: it has no samples"),
        ((np.zeros((4, 2)), np.array([0, 1, -1, 0])), {}, r"such as -1, that are negative.*class ids"),
        ((np.zeros((4, 2)), np.array([0, 1.5, 1, 0])), {"task": "classification"}, r"such as 1\.5, that are not whole"),
        ((np.array([[0.0, np.nan], [1, 2], [3, 4]]), np.array([0, 1, 0])), {}, r"contain 1 NaN or infinite value"),
        ((np.array([[0.0, np.inf], [1, 2], [3, 4]]), np.array([0, 1, 0])), {}, r"NaN or infinite"),
        (("iris",), {"validation": 1.0}, r"validation=1\.0 is not a fraction in \[0, 1\)"),
        (("iris",), {"validation": -0.1}, r"is not a fraction in \[0, 1\)"),
        ((np.zeros((10, 2)), np.arange(10) % 2), {"validation": 0.01}, r"leaves the validation split empty"),
        ((np.zeros((2, 2)), np.array([0, 1])), {"validation": 0.9}, r"leaves the training split empty"),
        ((np.zeros((3, 8, 8, 1)), np.array([0, 1, 0])), {}, r"looks channels-last.*transpose\(0, 3, 1, 2\)"),
        ((np.zeros((3, 2)), np.array([0, 1, 2])), {"num_classes": 2}, r"go up to 2, but the dataset has 2 classes"),
    ],
)
def test_bad_input_gets_a_clear_value_error(arguments, options, message):
    with pytest.raises(ValueError, match=message):
        nu.data.load(*arguments, **options)


# ---------------------------------------------------------------- numpy inputs


def test_numpy_arrays_as_x_y_or_a_pair():
    generator = np.random.default_rng(0)
    x = generator.normal(size=(50, 3))
    y = np.arange(50) % 5
    dataset = nu.data.load(x, y, name="mine")
    pair = nu.data.load((x, y))
    assert dataset.name == "mine" and pair.name == "arrays" and dataset.num_classes == 5
    np.testing.assert_array_equal(dataset.x_train, pair.x_train)
    assert dataset.x_train.dtype == np.float32 and dataset.y_train.dtype == np.int64
    assert nu.data.load(dataset) is dataset

    texts = nu.data.load(x, np.where(y % 2, "odd", "even"))
    assert texts.classes == ("even", "odd") and set(texts.y_train.tolist()) == {0, 1}
    regression = nu.data.load(x, y.astype(np.float64))
    assert regression.task == "regression" and regression.y_train.shape == (40, 1)
    grayscale = nu.data.load(np.zeros((20, 6, 6), np.uint8), np.arange(20) % 2)
    assert grayscale.input_shape == (1, 6, 6)


# ---------------------------------------------------------------- cached downloads, real file formats


def _idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(size.to_bytes(4, "big") for size in array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes())


def _write_idx_cache(folder: Path, train: int = 20, test: int = 10) -> dict[str, bytes]:
    generator = np.random.default_rng(0)
    contents = {
        "train-images-idx3-ubyte.gz": _idx_bytes(generator.integers(0, 256, (train, 28, 28))),
        "train-labels-idx1-ubyte.gz": _idx_bytes(np.arange(train) % 10),
        "t10k-images-idx3-ubyte.gz": _idx_bytes(generator.integers(0, 256, (test, 28, 28))),
        "t10k-labels-idx1-ubyte.gz": _idx_bytes(np.arange(test) % 10),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in contents.items():
        (folder / name).write_bytes(content)
    return contents


def _cifar_archive(path: Path, per_batch: int = 4) -> None:
    """cifar-10-python.tar.gz as published: pickled dicts with bytes keys in cifar-10-batches-py/."""
    names = [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog", b"frog", b"horse", b"ship", b"truck"]
    members = {"batches.meta": {b"label_names": names, b"num_cases_per_batch": per_batch, b"num_vis": 3072}}
    for index, member in enumerate([f"data_batch_{number}" for number in range(1, 6)] + ["test_batch"]):
        data = np.full((per_batch, 3072), index, dtype=np.uint8)
        data[:, 1024:2048] = 100  # the green plane
        labels = [(index + offset) % 10 for offset in range(per_batch)]
        filenames = [f"image_{index}_{offset}.png".encode() for offset in range(per_batch)]
        members[member] = {b"batch_label": member.encode(), b"labels": labels, b"data": data, b"filenames": filenames}
    with tarfile.open(path, "w:gz") as archive:
        for member, content in members.items():
            payload = pickle.dumps(content, protocol=2)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{member}")
            info.size = len(payload)
            archive.addfile(info, io.BytesIO(payload))


def _no_network(url, timeout=60.0):
    raise AssertionError(f"the test tried to download {url}")


def test_mnist_reads_the_idx_files_of_the_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(downloads, "open_url", _no_network)
    _write_idx_cache(tmp_path / "mnist")
    dataset = nu.data.load("mnist", cache_dir=tmp_path, validation=0.25)
    assert dataset.input_shape == (1, 28, 28) and dataset.num_classes == 10
    assert (len(dataset.x_train), len(dataset.x_val), len(dataset.x_test)) == (15, 5, 10)
    assert dataset.x_test.dtype == np.float32 and 0 <= dataset.x_test.min() and dataset.x_test.max() <= 1
    assert dataset.y_test.tolist() == list(range(10))
    assert "test 10" in repr(dataset) and len(list(dataset.batches(4, split="test"))) == 3
    raw = archives.read_idx(tmp_path / "mnist" / "t10k-images-idx3-ubyte.gz")
    np.testing.assert_allclose(dataset.x_test[:, 0] * 255, raw, atol=1e-3)


def test_fashion_mnist_cache_from_the_environment_variable(tmp_path, monkeypatch):
    monkeypatch.setattr(downloads, "open_url", _no_network)
    monkeypatch.setenv("NBUNIFY_DATA_DIR", str(tmp_path))
    _write_idx_cache(tmp_path / "fashion-mnist")
    dataset = nu.data.load("fashion-mnist", download=False)
    assert dataset.classes[0] == "T-shirt/top" and dataset.classes[9] == "Ankle boot"
    assert nu.data.cache_directory() == tmp_path


def test_cifar10_reads_the_python_pickle_archive(tmp_path, monkeypatch):
    monkeypatch.setattr(downloads, "open_url", _no_network)
    (tmp_path / "cifar10").mkdir()
    _cifar_archive(tmp_path / "cifar10" / "cifar-10-python.tar.gz")
    dataset = nu.data.load("cifar10", cache_dir=tmp_path, validation=0.2)
    assert dataset.input_shape == (3, 32, 32) and dataset.classes[1] == "automobile"
    assert (len(dataset.x_train), len(dataset.x_val), len(dataset.x_test)) == (16, 4, 4)
    # channels-first: the second plane of every image is the green one the test wrote
    np.testing.assert_allclose(dataset.x_test[:, 1], 100 / 255)
    np.testing.assert_allclose(dataset.x_test[:, 0], 5 / 255)
    assert dataset.y_test.tolist() == [5, 6, 7, 8]


def test_missing_files_offline_name_the_files_and_the_directory(tmp_path, monkeypatch):
    monkeypatch.setattr(downloads, "open_url", _no_network)
    with pytest.raises(DatasetUnavailableError) as raised:
        nu.data.load("mnist", cache_dir=tmp_path, download=False)
    message = str(raised.value)
    assert isinstance(raised.value, RuntimeError) and isinstance(raised.value, OSError)
    assert "download=False" in message and str(tmp_path / "mnist") in message
    for name in archives.IDX_NAMES:
        assert name in message
    assert "NBUNIFY_DATA_DIR" in message


def test_a_failed_download_leaves_nothing_and_says_what_to_do(tmp_path, monkeypatch):
    def refuse(url, timeout=60.0):
        raise urllib.error.URLError("no route to host")

    monkeypatch.setattr(downloads, "open_url", refuse)
    with pytest.raises(DatasetUnavailableError, match=r"downloading https://www\.cs\.toronto\.edu/.*no route to host"):
        nu.data.load("cifar10", cache_dir=tmp_path)
    assert list((tmp_path / "cifar10").iterdir()) == []


def test_a_download_goes_through_a_partial_file_with_progress(tmp_path, monkeypatch, capsys):
    contents = _write_idx_cache(tmp_path / "published")
    files = tuple(
        downloads.RemoteFile(name, f"https://example.invalid/{name}", hashlib.md5(data).hexdigest())
        for name, data in contents.items()
    )
    requested = []

    def serve(url, timeout=60.0):
        requested.append(url)
        response = io.BytesIO(contents[url.rsplit("/", 1)[1]])
        response.headers = {"Content-Length": str(len(response.getvalue()))}
        return response

    monkeypatch.setattr(downloads, "open_url", serve)
    monkeypatch.setattr(archives, "MNIST_FILES", files)
    dataset = nu.data.load("mnist", cache_dir=tmp_path / "cache")
    assert len(requested) == 4 and len(dataset.x_test) == 10
    assert sorted(path.name for path in (tmp_path / "cache" / "mnist").iterdir()) == sorted(contents)
    assert "Downloading mnist: train-images-idx3-ubyte.gz" in capsys.readouterr().err
    nu.data.load("mnist", cache_dir=tmp_path / "cache")  # second time: from the cache
    assert len(requested) == 4

    bad = (downloads.RemoteFile("train-images-idx3-ubyte.gz", files[0].url, "0" * 32), *files[1:])
    monkeypatch.setattr(archives, "MNIST_FILES", bad)
    with pytest.raises(DatasetUnavailableError, match="not the published 0000"):
        nu.data.load("mnist", cache_dir=tmp_path / "other")
    assert not (tmp_path / "other" / "mnist" / "train-images-idx3-ubyte.gz.partial").exists()


def test_a_corrupt_cached_file_says_to_delete_it(tmp_path):
    _write_idx_cache(tmp_path / "mnist")
    (tmp_path / "mnist" / "train-labels-idx1-ubyte.gz").write_bytes(b"<html>not found</html>")
    with pytest.raises(DatasetUnavailableError, match=r"train-labels-idx1-ubyte\.gz cannot be read.*delete it"):
        nu.data.load("mnist", cache_dir=tmp_path, download=False)


# ---------------------------------------------------------------- framework inputs


def test_loading_digits_imports_no_framework():
    code = (
        "import sys, nbunify as nu\n"
        "nu.data.load('digits').batches(32).__next__()\n"
        f"print(sorted(m for m in {FRAMEWORKS + ('keras',)!r} if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def _reference():
    generator = np.random.default_rng(3)
    return generator.normal(size=(40, 1, 4, 4)).astype(np.float32), (np.arange(40) % 4).astype(np.int64)


def _assert_same_as_arrays(dataset, x, y):
    expected = nu.data.load(x, y)
    np.testing.assert_allclose(dataset.x_train, expected.x_train)
    np.testing.assert_array_equal(dataset.y_train, expected.y_train)
    np.testing.assert_array_equal(dataset.y_val, expected.y_val)


def test_torch_tensor_dataset_dataloader_and_map_style_dataset():
    torch = load_framework("torch")
    x, y = _reference()
    tensors = torch.utils.data.TensorDataset(torch.from_numpy(x).requires_grad_(), torch.from_numpy(y))
    dataset = nu.data.load(tensors)
    assert dataset.name == "torch:TensorDataset" and dataset.input_shape == (1, 4, 4)
    _assert_same_as_arrays(dataset, x, y)
    _assert_same_as_arrays(nu.data.load(torch.utils.data.DataLoader(tensors, batch_size=16)), x, y)

    class Samples(torch.utils.data.Dataset):
        def __len__(self):
            return len(x)

        def __getitem__(self, index):
            return torch.from_numpy(x[index]), int(y[index])

    _assert_same_as_arrays(nu.data.load(Samples()), x, y)
    with pytest.raises(ValueError, match="brings its own labels"):
        nu.data.load(tensors, y)
    with pytest.raises(ValueError, match=r"yields elements of 1 parts.*\(input, label\) pairs"):
        nu.data.load(torch.utils.data.TensorDataset(torch.from_numpy(x)))


def test_paddle_dataset():
    paddle = load_framework("paddle")
    x, y = _reference()

    class Samples(paddle.io.Dataset):
        def __len__(self):
            return len(x)

        def __getitem__(self, index):
            return x[index], y[index : index + 1]  # paddle's habit: labels of shape (1,)

    dataset = nu.data.load(Samples())
    assert dataset.name == "paddle:Samples"
    _assert_same_as_arrays(dataset, x, y)
    tensors = paddle.io.TensorDataset([paddle.to_tensor(x), paddle.to_tensor(y)])
    _assert_same_as_arrays(nu.data.load(tensors), x, y)


def test_tf_data_dataset_per_sample_and_batched():
    tf = load_framework("tensorflow")
    x, y = _reference()
    samples = tf.data.Dataset.from_tensor_slices((x, y))
    _assert_same_as_arrays(nu.data.load(samples), x, y)
    _assert_same_as_arrays(nu.data.load(samples.batch(16).prefetch(2)), x, y)
    dictionaries = tf.data.Dataset.from_tensor_slices({"image": x, "label": y})
    _assert_same_as_arrays(nu.data.load(dictionaries), x, y)
