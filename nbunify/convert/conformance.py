"""Run the ONNX backend test suite shipped in the onnx package through an importer: pass/fail/skip per op, totals.

    python -m nbunify.convert.conformance --framework torch [--kind node] [--filter conv] [--json out.json]

Suites: ``node`` (one op per model), ``pytorch-converted``, ``pytorch-operator``, ``simple`` and ``light`` (the
"real" models - ResNet-50, DenseNet-121, VGG-19 ... - whose weights the onnx package ships as ConstantOfShape
nodes: the "real" suite itself downloads its models, and nothing can be downloaded at run time; they ship no
inputs and their weights are all 0.02, so they run with seeded random weights (light_model) on seeded normal inputs
against onnxruntime, max abs error <= 1e-4). Every other model is
imported with nu.from_onnx, called on the test's inputs and compared with the expected outputs as
onnx.backend.test does (rtol 1e-3, atol 1e-7, or the test's own), dtypes and shapes included.

Outcomes: ``pass``; ``fail`` (wrong numbers or an error while importing/running); ``unsupported`` (the pre-flight
lists a missing converter); ``excluded`` (a category no importer takes, with its reason, see EXCLUDED).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

SUITES = ("node", "pytorch-converted", "pytorch-operator", "simple", "light")
#: Max abs error allowed for a light ("real") model against onnxruntime on seeded inputs.
LIGHT_TOLERANCE = 1e-4
#: Categories outside the importers' scope: (reason, predicate on the test name or model).
EXCLUDED_REASONS = {
    "training": "training ops (ai.onnx.preview.training: Adagrad, Adam, Momentum, Gradient) are optimizers of the "
                "ONNX runtime, not layers; nu.fit trains imported models",
    "sequence/optional": "sequence and optional values (SequenceInsert, Optional ...) are not tensors; native "
                         "models take and return tensors",
    "string": "string tensors (StringNormalizer, RegexFullMatch, string Cast ...) have no native tensor type in "
              "the frameworks' layers",
    "float8/int4": "float8, int4/uint4 and bfloat16-only tests: types torch, keras and paddle models do not compute in",
    "ai.onnx.ml": "models of the ai.onnx.ml domain only (Binarizer, LabelEncoder, TreeEnsemble ...): classical ML "
                  "operators, not neural-network layers",
}


@dataclass
class Outcome:
    suite: str
    test: str
    ops: list[str]
    status: str  # pass, fail, unsupported, excluded
    detail: str = ""
    seconds: float = 0.0


def data_dir() -> Path:
    import onnx.backend.test

    return Path(onnx.backend.test.__file__).parent / "data"


def test_dirs(suite: str, name_filter: str = "") -> list[Path]:
    """The suite's tests: a folder per test (model.onnx + test_data_set_*), or for "light" each .onnx file."""
    root = data_dir() / suite
    if suite == "light":
        return sorted(path for path in root.glob("*.onnx") if name_filter.lower() in path.name.lower())
    return sorted(path for path in root.iterdir() if path.is_dir() and name_filter.lower() in path.name.lower()
                  and any(path.glob("*.onnx")))


def _tensors(folder: Path, prefix: str) -> list[np.ndarray]:
    import onnx
    from onnx import numpy_helper

    arrays = []
    for path in sorted(folder.glob(f"{prefix}_*.pb"), key=lambda p: int(p.stem.split("_")[-1])):
        tensor = onnx.TensorProto()
        tensor.ParseFromString(path.read_bytes())
        arrays.append(numpy_helper.to_array(tensor))
    return arrays


def _exclusion(test: str, model: Any) -> str | None:
    import onnx

    types = [value.type for value in (*model.graph.input, *model.graph.output)]
    if any(node.domain == "ai.onnx.preview.training" for node in model.graph.node) or "training" in test and (
            "adagrad" in test or "adam" in test or "momentum" in test or "gradient" in test):
        return "training"
    if any(kind.WhichOneof("value") in ("sequence_type", "optional_type", "map_type") for kind in types) or any(
            node.op_type.startswith(("Sequence", "Optional", "ConcatFromSequence", "SplitToSequence"))
            for node in model.graph.node):
        return "sequence/optional"
    elem_types = [kind.tensor_type.elem_type for kind in types if kind.WhichOneof("value") == "tensor_type"]
    if onnx.TensorProto.STRING in elem_types:
        return "string"
    narrow = {onnx.TensorProto.FLOAT8E4M3FN, onnx.TensorProto.FLOAT8E4M3FNUZ, onnx.TensorProto.FLOAT8E5M2,
              onnx.TensorProto.FLOAT8E5M2FNUZ, onnx.TensorProto.INT4, onnx.TensorProto.UINT4,
              onnx.TensorProto.BFLOAT16}
    if narrow & set(elem_types) or any(word in test for word in ("float8", "e4m3", "e5m2", "int4", "bfloat16")):
        return "float8/int4"
    return None


def run_test(folder: Path, framework: str, suite: str) -> Outcome:
    """Import and run one backend test; never raises."""
    import onnx

    from nbunify.convert.errors import OnnxModelError, UnsupportedModelError
    from nbunify.convert.hub import from_onnx, run

    started = time.perf_counter()
    if folder.is_file():  # a light model: the .onnx file itself
        model_path = folder
    else:
        model_path = folder / "model.onnx" if (folder / "model.onnx").exists() else next(folder.glob("*.onnx"))
    try:
        model = onnx.load(str(model_path))
    except Exception as error:  # noqa: BLE001
        return Outcome(suite, folder.name, [], "fail", f"onnx.load: {error}")
    ops = sorted({node.op_type for node in model.graph.node})
    reason = _exclusion(folder.name, model)
    if reason:
        return Outcome(suite, folder.name, ops, "excluded", reason)
    if not any(entry.domain in ("", "ai.onnx") for entry in model.opset_import):
        return Outcome(suite, folder.name, ops, "excluded", "ai.onnx.ml")
    rtol, atol = 1e-3, 1e-7
    if (folder / "data.json").exists():
        settings = json.loads((folder / "data.json").read_text())
        rtol, atol = settings.get("rtol", rtol), settings.get("atol", atol)
    cases = [folder] if folder.is_file() else sorted(folder.glob("test_data_set_*"))
    if folder.is_file():
        model_path = light_model(model_path)
    try:
        native = from_onnx(model_path, framework)
    except UnsupportedModelError as error:
        return Outcome(suite, folder.name, ops, "unsupported", "; ".join(error.problems),
                       time.perf_counter() - started)
    except (OnnxModelError, Exception) as error:  # noqa: BLE001 - a conformance run reports, never stops
        return Outcome(suite, folder.name, ops, "fail", f"import: {type(error).__name__}: {error}"[:500],
                       time.perf_counter() - started)
    for case in cases:
        try:
            if case is folder:  # a light model ships no inputs: seeded ones, onnxruntime's outputs as reference
                inputs, expected = _light_case(model_path)  # the randomized light model
                outputs = run(native, inputs)
                error = max(float(np.abs(np.asarray(out, np.float64) - ref).max()) for out, ref in zip(outputs, expected))
                if error > LIGHT_TOLERANCE:
                    raise AssertionError(f"max abs error {error:.3g} against onnxruntime (> {LIGHT_TOLERANCE})")
                scale = max(float(np.abs(ref).max()) for ref in expected)
                detail = f"max abs error {error:.3g} against onnxruntime (outputs up to {scale:.3g})"
                return Outcome(suite, folder.name, ops, "pass", detail, time.perf_counter() - started)
            inputs, expected = _tensors(case, "input"), _tensors(case, "output")
            outputs = run(native, inputs)
            _compare(expected, outputs, rtol, atol)
        except Exception as error:  # noqa: BLE001
            detail = f"{type(error).__name__}: {error}"
            if not isinstance(error, AssertionError):
                detail += " | " + traceback.format_exc(limit=-2).strip().splitlines()[-3]
            return Outcome(suite, folder.name, ops, "fail", detail[:500], time.perf_counter() - started)
    return Outcome(suite, folder.name, ops, "pass", "", time.perf_counter() - started)


def light_model(model_path: Path) -> Any:
    """A light model with its ConstantOfShape weights (every one 0.02 in the shipped files, which makes outputs
    nearly flat) replaced by seeded initializers: He-normal for matrices and kernels, U(0.01, 0.03) for vectors
    (positive, so batch-norm variances stay valid)."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(model_path))
    static = {tensor.name: numpy_helper.to_array(tensor) for tensor in model.graph.initializer}
    rng = np.random.default_rng(0)
    kept = []
    for node in model.graph.node:
        if node.op_type == "ConstantOfShape" and node.input[0] in static:
            shape = [int(dim) for dim in static[node.input[0]]]
            if len(shape) >= 2:
                fan_in = int(np.prod(shape[1:]))
                value = rng.standard_normal(shape) * np.sqrt(2.0 / max(fan_in, 1))
            else:
                value = rng.uniform(0.01, 0.03, shape)
            model.graph.initializer.append(numpy_helper.from_array(value.astype(np.float32), node.output[0]))
        else:
            kept.append(node)
    del model.graph.node[:]
    model.graph.node.extend(kept)
    model.ir_version = max(model.ir_version, 4)  # IR 4 lets initializers be constants, not graph inputs
    return model


def _light_case(model: Any) -> tuple[list[np.ndarray], list[np.ndarray]]:
    import onnxruntime

    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    inputs = [rng.standard_normal([dim if isinstance(dim, int) else 1 for dim in value.shape]).astype(np.float32)
              for value in session.get_inputs()]
    expected = session.run(None, {value.name: array for value, array in zip(session.get_inputs(), inputs)})
    return inputs, [np.asarray(array, np.float64) for array in expected]


def _compare(expected: list[np.ndarray], outputs: list[Any], rtol: float, atol: float) -> None:
    if len(outputs) != len(expected):
        raise AssertionError(f"{len(outputs)} outputs, the graph has {len(expected)}")
    for index, (reference, output) in enumerate(zip(expected, outputs)):
        output = np.asarray(output)
        if output.dtype != reference.dtype:
            raise AssertionError(f"output {index}: dtype {output.dtype}, expected {reference.dtype}")
        if output.shape != reference.shape:
            raise AssertionError(f"output {index}: shape {output.shape}, expected {reference.shape}")
        if np.issubdtype(reference.dtype, np.number) or reference.dtype == bool:
            np.testing.assert_allclose(output, reference, rtol=rtol, atol=atol, err_msg=f"output {index}")
        elif reference.tolist() != output.tolist():
            raise AssertionError(f"output {index} differs")


def run_suites(framework: str, suites: tuple[str, ...] = SUITES, name_filter: str = "",
               progress: bool = True) -> list[Outcome]:
    outcomes = []
    for suite in suites:
        folders = test_dirs(suite, name_filter)
        for index, folder in enumerate(folders):
            outcomes.append(run_test(folder, framework, suite))
            if progress and (index + 1) % 50 == 0:
                print(f"  {suite}: {index + 1}/{len(folders)}", file=sys.stderr, flush=True)
    return outcomes


def summary(outcomes: list[Outcome]) -> dict[str, Any]:
    """Totals per suite and status, the node pass rate over tests not excluded, and per-op counts."""
    totals: dict[str, Counter] = defaultdict(Counter)
    per_op: dict[str, Counter] = defaultdict(Counter)
    for outcome in outcomes:
        totals[outcome.suite][outcome.status] += 1
        if outcome.suite == "node":
            for op in outcome.ops or ["?"]:
                per_op[op][outcome.status] += 1
    node = totals.get("node", Counter())
    considered = node["pass"] + node["fail"] + node["unsupported"]
    return {"totals": {suite: dict(counter) for suite, counter in totals.items()},
            "node_pass_rate": node["pass"] / considered if considered else 0.0,
            "per_op": {op: dict(counter) for op, counter in sorted(per_op.items())}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nbunify.convert.conformance", description=__doc__.splitlines()[0])
    parser.add_argument("--framework", required=True, choices=["torch", "keras", "paddle"])
    parser.add_argument("--kind", action="append", choices=SUITES, help="a suite (repeatable; default: all)")
    parser.add_argument("--filter", default="", help="only tests whose name contains this")
    parser.add_argument("--json", default=None, help="write every outcome and the summary to this file")
    parser.add_argument("--failures", action="store_true", help="print each failing test with its reason")
    options = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from nbunify.frameworks import load

    load(options.framework if options.framework != "keras" else "keras")
    outcomes = run_suites(options.framework, tuple(options.kind or SUITES), options.filter)
    result = summary(outcomes)
    print(f"{'op':<28}{'pass':>6}{'fail':>6}{'unsupp.':>9}{'excl.':>7}")
    for op, counts in result["per_op"].items():
        print(f"{op:<28}{counts.get('pass', 0):>6}{counts.get('fail', 0):>6}{counts.get('unsupported', 0):>9}"
              f"{counts.get('excluded', 0):>7}")
    print("\ntotals")
    for suite, counts in result["totals"].items():
        print(f"  {suite:<20} " + ", ".join(f"{status} {count}" for status, count in sorted(counts.items())))
    if "node" in result["totals"]:
        print(f"node tests passed: {result['node_pass_rate']:.1%} of those not excluded")
    for suite, counts in result["totals"].items():
        if suite != "node":
            ran = sum(count for status, count in counts.items() if status != "excluded")
            print(f"{suite} models passed: {counts.get('pass', 0)} of {ran}")
    for reason, text in EXCLUDED_REASONS.items():
        print(f"  excluded '{reason}': {text}")
    if options.failures:
        for outcome in outcomes:
            if outcome.status in ("fail", "unsupported"):
                print(f"{outcome.status:<12}{outcome.suite}/{outcome.test}: {outcome.detail}")
    if options.json:
        Path(options.json).write_text(json.dumps({"framework": options.framework, **result,
                                                  "outcomes": [asdict(outcome) for outcome in outcomes]}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
