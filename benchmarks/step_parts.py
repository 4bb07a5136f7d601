"""Where one training step of the `reproduce` protocol goes: its parts, timed on this machine.

    python -m benchmarks.step_parts               # about a minute
    python -m benchmarks.step_parts --repeats 2 --rounds 1   # seconds: only proves it runs (the tests')

The study's setting: one thread, op determinism, float32, the protocol's batch, the
baseline model. Each part is one tf.function called `--repeats` times on one batch of
random images after two warm-up calls, in `--rounds` rounds that take turns between
the two models (the median is printed), so every figure includes one call's overhead:
the `flatten` layer, a reshape, is about that overhead alone. Printed: the forward pass,
forward and backward, and Keras's whole train_step, with the spec's dropout and with
dropout off; each layer's forward; and the first dropout's mask drawn three ways.
Prints only; writes nothing.
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
    """({part: ms}, the first dropout's output shape) of the model of `spec`: forward,
    forward + backward, train_step, and each layer's forward."""
    import keras
    import tensorflow as tf

    from study.models import build_model

    model = build_model(spec, steps_per_epoch=1)

    def gradients(x, y):
        with tf.GradientTape() as tape:
            loss = model.compute_loss(x, y, model(x, training=True))
        return tape.gradient(loss, model.trainable_variables)

    parts = {
        "forward": milliseconds(tf.function(lambda x: model(x, training=True)), images, repeats=repeats),
        "forward + backward": milliseconds(tf.function(gradients), images, labels, repeats=repeats),
        "train_step (+ Adam, metrics)": milliseconds(tf.function(lambda x, y: model.train_step((x, y))),
                                                     images, labels, repeats=repeats),
    }
    inputs = images
    for number, layer in enumerate(model.layers, start=1):
        forward = tf.function(lambda x, layer=layer: layer(x, training=True))
        # Named by place and kind: Keras numbers the names of each new model's layers afresh.
        parts[f"  forward of layer {number}, {type(layer).__name__}"] = milliseconds(forward, inputs, repeats=repeats)
        inputs = layer(inputs, training=True)
    first_dropout = next(layer for layer in model.layers if isinstance(layer, keras.layers.Dropout))
    return parts, tuple(first_dropout.output.shape[1:])


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
        "Keras's way: float32 uniforms (Philox)": lambda: tf.nn.experimental.stateless_dropout(inputs, rate, seed=seed),
        "a mask cut from 8-bit draws": lambda: eight_bit_dropout(inputs, rate, seed),
        "the multiply alone, no draws": lambda: inputs * (1 / (1 - rate)),
    }
    return {way: milliseconds(tf.function(function), repeats=repeats) for way, function in ways.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=300, help="timed calls of each part")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, each timing both models; medians are printed")
    arguments = parser.parse_args()
    from benchmarks.benchmark import cpu_model
    from benchmarks.contender import protocol_spec
    from study.fitting import set_up_tensorflow

    spec = {**protocol_spec("reproduce"), "steps_per_execution": 1}
    set_up_tensorflow(spec["seed"], spec["threads"])
    import tensorflow as tf

    images = tf.random.uniform((spec["batch_size"], 28, 28, 1), seed=1)
    labels = tf.zeros((spec["batch_size"],), tf.uint8)
    print(f"CPU: {cpu_model()}; batch {spec['batch_size']}, {spec['threads']} thread(s), op determinism, "
          f"{spec['precision']}; mean ms per call of {arguments.repeats}, "
          f"median of {arguments.rounds} rounds")
    without = {**spec, "conv_dropout_rate": 0.0, "dense_dropout_rate": 0.0}
    # The two models take turns, so a noisy stretch of the machine slows both alike.
    rounds = [[model_parts(s, images, labels, arguments.repeats) for s in (spec, without)]
              for _ in range(arguments.rounds)]
    shape = rounds[0][0][1]
    with_dropout, without_dropout = ({part: float(np.median([r[which][0][part] for r in rounds]))
                                      for part in rounds[0][which][0]} for which in (0, 1))
    print(f"{'':40} {'dropout as the spec':>20} {'dropout off':>12}")
    for part in with_dropout:
        print(f"{part:40} {with_dropout[part]:20.2f} {without_dropout[part]:12.2f}")
    rate = spec["conv_dropout_rate"]
    first_pool = (spec["batch_size"], *shape)
    print(f"the first dropout ({' x '.join(map(str, first_pool))} values, rate {rate}):")
    for way, ms in mask_parts(first_pool, rate, arguments.repeats).items():
        print(f"  {way:40} {ms:6.2f}")


if __name__ == "__main__":
    main()
