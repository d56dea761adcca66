"""The ONNX hub's speed: export and import times, imported models' inference against native builds and onnxruntime.

For each reference architecture and framework: the time of ``nu.to_onnx`` on the native build (its own exporter,
the checker and the onnxruntime parity check included), the time of ``nu.from_onnx`` importing the torch export
into that framework, and the inference time (batch 32, numpy in and out) of the imported model against the
natively built one (``nu.predict``; keras calls are traced from the second one on, for both) and against
onnxruntime on the same ONNX file, as ratios. Runs interleave (the six orders of native, imported and
onnxruntime in turn; onnxruntime's threads do not spin after a run, which slowed whatever ran next) after 5
warm-up calls each, and each time is the median of the repeats; only the frameworks named by --only are
loaded (torch always: it exports the reference).
Then the import time of a ResNet-50-sized graph (onnx's light_resnet50 with seeded weights; its size is
printed), median of 3 after one warm-up import. Goals (issue 5): imported/native <= 1.1 for torch and
<= 1.2 for keras and paddle; ResNet-50 import <= 2 s.

    python benchmarks/convert.py [--repeats 15] [--only torch,keras,paddle] [--specs mlp,lenet5] [--round-trips]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import numpy as np  # noqa: E402

import nbunify as nu  # noqa: E402
from nbunify.convert.hub import run  # noqa: E402
from nbunify.frameworks import load, set_threads  # noqa: E402
from reference_specs import REFERENCE_SPECS, random_inputs, random_weights  # noqa: E402

FRAMEWORKS = ("torch", "keras", "paddle")
GOALS = {"torch": 1.1, "keras": 1.2, "paddle": 1.2}
IMPORT_GOAL = 2.0
BATCH = 32
ORDERS = list(itertools.permutations(("native", "imported", "ort")))
WARM_UP = 5  # calls before timing: tracing (keras from the second call), allocators, oneDNN kernel choice


def timed(function, *args) -> float:
    started = time.perf_counter()
    function(*args)
    return time.perf_counter() - started


def session(proto):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 2
    # without this, onnxruntime's threads spin-wait after each run and slow whatever runs next on 2 cores
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    ort = onnxruntime.InferenceSession(proto.SerializeToString(), options, providers=["CPUExecutionProvider"])
    name = ort.get_inputs()[0].name
    return lambda x: ort.run(None, {name: x})


def inference(frameworks: list[str], specs: list[str], repeats: int) -> list[str]:
    missed = []
    print(f"{'architecture':<25}{'framework':<9}{'export s':>9}{'import s':>9}{'native ms':>10}{'imported ms':>12}"
          f"{'ORT ms':>8}{'imported/native':>16}{'imported/ORT':>13}   goal")
    for name in specs:
        spec = REFERENCE_SPECS[name]()
        weights = random_weights(spec)
        reference = nu.to_onnx(nu.build(spec, "torch", weights=weights))  # the file every framework imports
        x = random_inputs(spec, batch=BATCH)
        ort = session(reference)
        for framework in frameworks:
            native = nu.build(spec, framework, weights=weights)
            export = timed(nu.to_onnx, native)
            started = time.perf_counter()
            imported = nu.from_onnx(reference, framework)
            import_seconds = time.perf_counter() - started
            calls = {"native": lambda: nu.predict(native, x), "imported": lambda: run(imported, [x]),
                     "ort": lambda: ort(x)}
            for call in calls.values():  # warm-up: first calls trace, allocate, pick kernels
                for _ in range(WARM_UP):
                    call()
            samples: dict[str, list[float]] = {key: [] for key in calls}
            for repeat in range(repeats):
                order = ORDERS[repeat % len(ORDERS)]  # each call follows each other call equally often
                for key in order:
                    samples[key].append(timed(calls[key]))
            native_s, imported_s, ort_s = (statistics.median(samples[key]) for key in ("native", "imported", "ort"))
            ratio = imported_s / native_s
            met = ratio <= GOALS[framework]
            if not met:
                missed.append(f"{name} in {framework}: {ratio:.2f}x")
            print(f"{name:<25}{framework:<9}{export:>9.2f}{import_seconds:>9.3f}{native_s * 1e3:>10.2f}"
                  f"{imported_s * 1e3:>12.2f}{ort_s * 1e3:>8.2f}{ratio:>16.2f}{imported_s / ort_s:>13.2f}   "
                  f"<= {GOALS[framework]} {'met' if met else 'NOT met'}")
    return missed


def resnet50_import(frameworks: list[str]) -> list[str]:
    import onnx

    from nbunify.convert.conformance import light_model

    path = Path(onnx.__file__).parent / "backend/test/data/light/light_resnet50.onnx"
    proto = light_model(path)
    parameters = sum(int(np.prod(t.dims)) for t in proto.graph.initializer)
    print(f"\nimport of light_resnet50 ({len(proto.graph.node)} nodes, {parameters / 1e6:.1f}M parameters)")
    missed = []
    for framework in frameworks:
        first = timed(nu.from_onnx, proto, framework)
        times = [timed(nu.from_onnx, proto, framework) for _ in range(3)]
        median = statistics.median(times)
        met = median <= IMPORT_GOAL
        if not met:
            missed.append(f"ResNet-50 import in {framework}: {median:.2f} s")
        print(f"  {framework:<8} first {first:.2f} s, then median {median:.2f} s "
              f"(min {min(times):.2f})   goal <= {IMPORT_GOAL} s {'met' if met else 'NOT met'}")
    return missed


def round_trips(specs: list[str]) -> None:
    """The largest |converted - source| of nu.convert's proof, per architecture and direction."""
    directions = list(itertools.permutations(FRAMEWORKS, 2))
    print("\nround trips via nu.convert: max abs error of the parity proof (goal <= 1e-5)")
    print(f"{'architecture':<25}" + "".join(f"{f'{a}->{b}':>15}" for a, b in directions))
    worst = 0.0
    for name in specs:
        spec = REFERENCE_SPECS[name]()
        weights = random_weights(spec)
        models = {framework: nu.build(spec, framework, weights=weights) for framework in FRAMEWORKS}
        errors = [nu.convert(models[a], b)._nbunify_parity.max_abs_error for a, b in directions]
        worst = max(worst, *errors)
        print(f"{name:<25}" + "".join(f"{error:>15.2e}" for error in errors))
    print(f"largest: {worst:.2e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--only", default=",".join(FRAMEWORKS))
    parser.add_argument("--specs", default=",".join(REFERENCE_SPECS))
    parser.add_argument("--round-trips", action="store_true", help="also print the round-trip error matrix")
    options = parser.parse_args()
    frameworks = [name.strip() for name in options.only.split(",") if name.strip()]
    for name in ("paddle", "torch", "keras"):
        if name in frameworks or name == "torch":  # torch exports the reference files
            load(name)  # import cost is not conversion cost (and this order is the safe one)
    set_threads(2)
    missed = inference(frameworks, options.specs.split(","), options.repeats)
    missed += resnet50_import(frameworks)
    if options.round_trips:
        round_trips(options.specs.split(","))
    print("\nall goals met" if not missed else "\ngoals NOT met: " + "; ".join(missed))


if __name__ == "__main__":
    main()
