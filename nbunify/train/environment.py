"""What a run records about where it ran: versions, threads and the machine."""

from __future__ import annotations

import os
import platform
import sys
from typing import Any

from nbunify._version import __version__


def environment(framework: str) -> dict[str, Any]:
    """Python, nbunify and framework versions, thread counts and the machine, for one run."""
    info: dict[str, Any] = {
        "python": platform.python_version(), "platform": platform.platform(), "machine": platform.machine(),
        "cpu_count": os.cpu_count(), "nbunify": __version__, "numpy": sys.modules["numpy"].__version__,
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", ""),
    }
    if framework == "torch":
        torch = sys.modules["torch"]
        info.update(torch=torch.__version__, threads=torch.get_num_threads(), interop_threads=torch.get_num_interop_threads())
    elif framework == "keras":
        keras, tf = sys.modules["keras"], sys.modules.get("tensorflow")
        info.update(keras=keras.__version__, keras_backend=keras.backend.backend())
        if tf is not None:
            threading = tf.config.threading
            info.update(tensorflow=tf.__version__, threads=threading.get_intra_op_parallelism_threads(),
                        interop_threads=threading.get_inter_op_parallelism_threads())
    elif framework == "paddle":
        paddle = sys.modules["paddle"]
        info.update(paddle=paddle.__version__, device=str(paddle.get_device()))
    return info
