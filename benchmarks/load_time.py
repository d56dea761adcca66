"""Time `%load_ext nbunify` in a fresh process and prove it imports no deep-learning framework."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys

GOAL_SECONDS = 0.3
RUNS = 7

# Baseline: an IPython shell alone. Measured: the same shell plus `%load_ext nbunify` and `%unify help`.
CHILD = r"""
import json, sys, time
from IPython.testing.globalipapp import start_ipython
ip = start_ipython()
start = time.perf_counter()
if sys.argv[1] == "nbunify":
    ip.run_line_magic("load_ext", "nbunify")
    ip.run_line_magic("unify", "help")
elapsed = time.perf_counter() - start
frameworks = sorted(name for name in ("torch", "tensorflow", "keras", "paddle") if name in sys.modules)
print(json.dumps({"seconds": elapsed, "frameworks": frameworks}))
"""


def measure(kind: str) -> dict:
    result = subprocess.run([sys.executable, "-c", CHILD, kind], capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> int:
    samples = [measure("nbunify") for _ in range(RUNS)]
    median = statistics.median(sample["seconds"] for sample in samples)
    imported = sorted({name for sample in samples for name in sample["frameworks"]})
    print(f"%load_ext nbunify + %unify help: median {median * 1000:.1f} ms over {RUNS} fresh processes "
          f"(min {min(s['seconds'] for s in samples) * 1000:.1f} ms, goal <= {GOAL_SECONDS * 1000:.0f} ms, "
          f"ratio to goal {median / GOAL_SECONDS:.2f})")
    print(f"frameworks in sys.modules afterwards: {imported or 'none'}")
    assert not imported, f"loading nbunify imported {imported}"
    return 0 if median <= GOAL_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main())
