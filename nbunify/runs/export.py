"""Runs to CSV (long format) and to TensorBoard event files, written directly (no TensorFlow needed)."""

from __future__ import annotations

import csv
import math
import os
import re
import socket
import struct
import time
from pathlib import Path
from typing import Iterable

from nbunify.runs.run import Run

CSV_COLUMNS = ("run_id", "name", "framework", "kind", "step", "epoch", "seconds", "metric", "value")


def to_csv(runs: Iterable[Run], path: str | os.PathLike) -> Path:
    """One row per point of every run (see CSV_COLUMNS); ``epoch`` counts from 1. Returns the path."""
    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for run in runs:
            for kind, step, epoch, seconds, metric, value in run.points:
                writer.writerow((run.id, run.name, run.framework, kind, step, epoch + 1, f"{seconds:.6f}", metric, repr(value)))
    return path


def to_tensorboard(runs: Iterable[Run], logdir: str | os.PathLike) -> list[Path]:
    """One event file per run under ``logdir/<run name>-<run id>/``: scalars ``step/<metric>`` by optimizer
    step and ``epoch/<metric>`` by epoch number, so ``tensorboard --logdir LOGDIR`` overlays the runs."""
    logdir = Path(logdir).expanduser()
    files = []
    for run in runs:
        folder = logdir / _safe(f"{run.name}-{run.id}")
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"events.out.tfevents.{int(run.created or time.time())}.{socket.gethostname()}.{os.getpid()}"
        start = run.created or time.time()
        with path.open("wb") as handle:
            handle.write(_record(_event(start, 0, file_version="brain.Event:2")))
            for kind, step, epoch, seconds, metric, value in run.points:
                if not math.isfinite(value):
                    continue  # TensorBoard draws gaps badly; NaN/Inf stay in the CSV and the store
                x = step if kind == "step" else epoch + 1
                handle.write(_record(_event(start + seconds, x, tag=f"{kind}/{metric}", value=value)))
        files.append(path)
    return files


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "run"


# -- the event file format: TFRecord framing around tensorflow.Event protobuf messages -------------
def _varint(value: int) -> bytes:
    out = bytearray()
    value &= (1 << 64) - 1
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, wire: int, payload: bytes) -> bytes:
    return _varint(number << 3 | wire) + payload


def _length_delimited(number: int, payload: bytes) -> bytes:
    return _field(number, 2, _varint(len(payload)) + payload)


def _event(wall_time: float, step: int, file_version: str | None = None, tag: str | None = None,
           value: float | None = None) -> bytes:
    """tensorflow.Event{wall_time=1 double, step=2 int64, file_version=3 string, summary=5 Summary}."""
    message = _field(1, 1, struct.pack("<d", wall_time)) + _field(2, 0, _varint(step))
    if file_version is not None:
        message += _length_delimited(3, file_version.encode())
    if tag is not None:
        # Summary{value=1 repeated Value}; Value{tag=1 string, simple_value=2 float}
        summary_value = _length_delimited(1, tag.encode()) + _field(2, 5, struct.pack("<f", value))
        message += _length_delimited(5, _length_delimited(1, summary_value))
    return message


def _record(data: bytes) -> bytes:
    length = struct.pack("<Q", len(data))
    return length + struct.pack("<I", _masked_crc(length)) + data + struct.pack("<I", _masked_crc(data))


def _crc32c_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _crc32c_table()


def _crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _masked_crc(data: bytes) -> int:
    crc = _crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF
