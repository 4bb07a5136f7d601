"""The machine a benchmark runs on: its processor's name and its fp32 matrix-multiply (GEMM) rate.

Every figure of the benchmarks is printed and recorded beside both, because rates
differ between CPU families and a share of the GEMM rate is comparable where
images per second are not.
"""

import time

import numpy as np

GEMM_SIZE = 2048


def cpu_model():
    """The processor's model name, as /proc/cpuinfo gives it."""
    try:
        with open("/proc/cpuinfo") as stream:
            for line in stream:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def gemm_gflops(size=GEMM_SIZE, repeats=15, dtype="float32"):
    """The median rate of an n x n matrix product (2 n^3 FLOPs) with TensorFlow on this machine."""
    import tensorflow as tf

    a = tf.random.uniform((size, size), dtype=dtype)
    b = tf.random.uniform((size, size), dtype=dtype)
    tf.linalg.matmul(a, b).numpy()  # the first product loads the kernels: not timed
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        tf.linalg.matmul(a, b).numpy()
        times.append(time.perf_counter() - started)
    return 2 * size**3 / float(np.median(times)) / 1e9
