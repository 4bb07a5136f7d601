"""Where one training step of the `reproduce` protocol goes: its parts, timed on this machine.

    python -m benchmarks.step_parts               # the baseline's step
    python -m benchmarks.step_parts --repeats 2 --rounds 1   # only proves it runs (the tests')
    python -m benchmarks.step_parts --variant wide --repeats 20
                                                             # a wide model's step, fewer calls

The study's setting: one thread, op determinism, float32, the protocol's batch, the
baseline model (or `--variant`'s). Each part is one tf.function called `--repeats` times on one batch of
random images after two warm-up calls, in `--rounds` rounds that take turns between
the two models (the median is printed), so every figure includes one call's overhead:
the `flatten` layer, a reshape, is about that overhead alone. Printed: the forward pass,
forward and backward, and Keras's whole train_step, with the spec's dropout and with
dropout off; each layer's forward; the first dropout's mask drawn three ways; and,
for a model with batch norm, the first one's forward and backward two ways.
Prints only; writes nothing. docs/speed.md holds the figures of these runs.
"""

import argparse
import os
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def milliseconds(function, *arguments, repeats):
    """The mean wall time of one call of `function`, after two warm-up calls."""
    import tensorflow as tf

    function(*arguments)
    function(*arguments)
    started = time.perf_counter()
    for _ in range(repeats):
        result = function(*arguments)
    tf.nest.map_structure(lambda tensor: tensor.numpy(), result)  # wait for the last call
    return (time.perf_counter() - started) / repeats * 1e3


def model_parts(spec, images, labels, repeats):
    """({part: ms}, {"dropout": (shape, rate) of the first dropout that drops, "batch norm": the first one's
    shape}, each None without one) of the model of `spec`: forward, forward + backward, train_step, and each
    layer's forward."""
    import keras
    import tensorflow as tf

    from study.training.models import build_model

    model = build_model(spec, steps_per_epoch=1)

    def gradients(x, y):
        with tf.GradientTape() as tape:
            loss = model.compute_loss(x, y, model(x, training=True))
        return tape.gradient(loss, model.trainable_variables)

    parts = {
        "forward": milliseconds(tf.function(lambda x: model(x, training=True)), images, repeats=repeats),
        "forward + backward": milliseconds(tf.function(gradients), images, labels, repeats=repeats),
        "train_step (+ Adam, metrics)": milliseconds(
            tf.function(lambda x, y: model.train_step((x, y))), images, labels, repeats=repeats
        ),
    }
    inputs = images
    for number, layer in enumerate(model.layers, start=1):
        forward = tf.function(lambda x, layer=layer: layer(x, training=True))
        # Named by place and kind: Keras numbers the names of each new model's layers afresh.
        parts[f"  forward of layer {number}, {type(layer).__name__}"] = milliseconds(
            forward, inputs, repeats=repeats
        )
        inputs = layer(inputs, training=True)
    dropout = next(
        (layer for layer in model.layers if isinstance(layer, keras.layers.Dropout) and layer.rate > 0), None
    )
    batch_norm = next(
        (layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)), None
    )
    return parts, {
        "dropout": dropout and (tuple(dropout.output.shape[1:]), dropout.rate),
        "batch norm": batch_norm and tuple(batch_norm.output.shape[1:]),
    }


def eight_bit_dropout(inputs, rate, seed):
    """Dropout whose mask is cut from 8-bit draws: one 32-bit Philox draw gives four
    bytes, so a quarter of the draws of Keras's float32 uniforms. A byte keeps its
    value when it is at least round(rate * 256), so the rate is a multiple of 1/256
    (exact for the study's 0.25)."""
    import tensorflow as tf

    count = inputs.shape.num_elements()
    draws = tf.random.stateless_uniform([-(-count // 4)], seed, minval=None, maxval=None, dtype=tf.uint32)
    keep = tf.reshape(tf.bitcast(draws, tf.uint8), [-1])[:count] >= round(rate * 256)
    return tf.where(tf.reshape(keep, tf.shape(inputs)), inputs / (1 - rate), tf.zeros_like(inputs))


def mask_parts(shape, rate, repeats):
    """{way: ms} of dropout at `rate` on a tensor of `shape`, the seed in a variable as Keras keeps it."""
    import tensorflow as tf

    inputs = tf.Variable(tf.ones(shape))
    seed = tf.Variable([1, 2], dtype=tf.int64)

    ways = {
        "Keras's way: float32 uniforms (Philox)": lambda: tf.nn.experimental.stateless_dropout(
            inputs, rate, seed=seed
        ),
        "a mask cut from 8-bit draws": lambda: eight_bit_dropout(inputs, rate, seed),
        "the multiply alone, no draws": lambda: inputs * (1 / (1 - rate)),
    }
    return {way: milliseconds(tf.function(function), repeats=repeats) for way, function in ways.items()}


def batch_norm_ways(shape):
    """{way: function(x, upstream) -> (outputs, gradients of x, gamma and beta)} of batch norm in training on
    `shape`: Keras's layer (the moments, then tf.nn.batch_normalization, each its own ops) and the study's
    FusedBatchNormalization (params.yaml `batch_norm_kernel: fused`: FusedBatchNormV3, one op each way)."""
    import keras
    import tensorflow as tf

    from study.training.models import fused_batch_norm_class

    def way(layer):
        layer.build(shape)

        def forward_and_backward(x, upstream):
            with tf.GradientTape() as tape:
                tape.watch(x)
                outputs = layer(x, training=True)
            return outputs, tape.gradient(outputs, [x, layer.gamma, layer.beta], output_gradients=upstream)

        return forward_and_backward

    return {
        "Keras's BatchNormalization": way(keras.layers.BatchNormalization()),
        "fused (batch_norm_kernel: fused)": way(fused_batch_norm_class()()),
    }


def batch_norm_parts(shape, repeats):
    """{way: ms} of batch norm's forward and backward on a tensor of `shape` (batch first)."""
    import tensorflow as tf

    inputs, upstream = tf.random.uniform(shape, seed=2), tf.random.uniform(shape, seed=3)
    return {
        way: milliseconds(tf.function(function), inputs, upstream, repeats=repeats)
        for way, function in batch_norm_ways(shape).items()
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=300, help="timed calls of each part")
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds, each timing both models; medians are printed"
    )
    parser.add_argument(
        "--variant", default="baseline", help="the variant of params.yaml whose step is timed"
    )
    arguments = parser.parse_args()
    from benchmarks.contender import variant_spec
    from benchmarks.machine import cpu_model
    from study import errors
    from study.training.fitting import set_up_tensorflow

    with errors.refused_in_one_line():
        spec = variant_spec(arguments.variant).replace(steps_per_execution=1)
    set_up_tensorflow(spec.seed, spec.threads)
    import tensorflow as tf

    images = tf.random.uniform((spec.batch_size, 28, 28, 1), seed=1)
    labels = tf.zeros((spec.batch_size,), tf.uint8)
    print(
        f"CPU: {cpu_model()}; {arguments.variant}, batch {spec.batch_size}, {spec.threads} thread(s), "
        f"op determinism, {spec.precision}; mean ms per call of {arguments.repeats}, "
        f"median of {arguments.rounds} rounds"
    )
    without = spec.replace(conv_dropout_rate=0.0, dense_dropout_rate=0.0)
    # The two models take turns, so a noisy stretch of the machine slows both alike.
    rounds = [
        [model_parts(s, images, labels, arguments.repeats) for s in (spec, without)]
        for _ in range(arguments.rounds)
    ]
    found = rounds[0][0][1]
    with_dropout, without_dropout = (
        {part: float(np.median([r[which][0][part] for r in rounds])) for part in rounds[0][which][0]}
        for which in (0, 1)
    )
    print(f"{'':40} {'dropout as the spec':>20} {'dropout off':>12}")
    for part in with_dropout:
        print(f"{part:40} {with_dropout[part]:20.2f} {without_dropout[part]:12.2f}")
    if found["dropout"]:
        shape, rate = (spec.batch_size, *found["dropout"][0]), found["dropout"][1]
        print(f"the first dropout ({' x '.join(map(str, shape))} values, rate {rate}):")
        for way, ms in mask_parts(shape, rate, arguments.repeats).items():
            print(f"  {way:40} {ms:6.2f}")
    if found["batch norm"]:
        shape = (spec.batch_size, *found["batch norm"])
        print(f"the first batch norm ({' x '.join(map(str, shape))} values), forward and backward:")
        for way, ms in batch_norm_parts(shape, arguments.repeats).items():
            print(f"  {way:40} {ms:6.2f}")


if __name__ == "__main__":
    main()
