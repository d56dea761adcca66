"""paddle -> ONNX export time: one paddle2onnx process for every export against a new process per export.

``nu.to_onnx`` of a paddle model saves its static program (paddle.jit.save) and converts it with paddle2onnx in a
child process (paddle2onnx cannot live beside TensorFlow). That process now stays up: the first export starts it,
later ones reuse it. This script times, for each reference architecture, the whole ``nu.to_onnx`` (checker and
onnxruntime parity check included) with the process kept, and with a new process per export (the earlier way),
median of --repeats after one warm-up, and prints the ratio.

    python benchmarks/paddle_export.py [--repeats 5] [--specs mlp,lenet5,residual_cnn]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import nbunify as nu  # noqa: E402
from nbunify.frameworks import load  # noqa: E402

load("paddle")
from nbunify.backends.paddle import converter  # noqa: E402
from reference_specs import REFERENCE_SPECS  # noqa: E402


def timed(model, repeats: int, fresh: bool) -> list[float]:
    times = []
    for _ in range(repeats):
        if fresh:
            converter.CONVERTER.close()  # the next export starts a new process, as each export did before
        start = time.perf_counter()
        nu.to_onnx(model)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--specs", default="mlp,lenet5,residual_cnn,lstm_text_classifier,transformer_classifier")
    args = parser.parse_args()
    converter.CONVERTER.close()
    print(f"{'spec':<24}{'kept process (s)':>18}{'new process (s)':>18}{'ratio':>8}   first export (starts it)")
    for name in args.specs.split(","):
        model = nu.build(REFERENCE_SPECS[name](), "paddle", seed=0)
        converter.CONVERTER.close()
        start = time.perf_counter()
        nu.to_onnx(model)
        first = time.perf_counter() - start
        kept = statistics.median(timed(model, args.repeats, fresh=False))
        new = statistics.median(timed(model, args.repeats, fresh=True))
        print(f"{name:<24}{kept:>18.3f}{new:>18.3f}{kept / new:>8.3f}   {first:.2f} s")
    print(f"converter processes started: {converter.CONVERTER.started}")


if __name__ == "__main__":
    main()
