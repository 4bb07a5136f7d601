"""The batches of a training: each epoch a permutation drawn from (seed, epoch) alone.

The order of batches never depends on how many epochs ran in this process, so a
resumed run sees the same batches as one never interrupted.
"""

import numpy as np

from study.data.on_the_fly import random_transform


def epoch_order(seed, epoch, count):
    """The order of the training images in 0-based `epoch`: a permutation drawn from (seed, epoch) alone."""
    return np.random.default_rng([seed, epoch]).permutation(count)


def training_batches(x, y, seed, first_epoch, epochs, batch_size, augmentation=None):
    """A tf.data.Dataset of every batch of epochs first_epoch..epochs-1, in order.

    The images are held once, as a tensor; each batch is gathered from it by the
    indices of its epoch's permutation, where copying the whole set in permuted order
    each epoch, as fit(x[order]) does, would hold a second copy of it and build a new
    input pipeline per epoch. The last batch of an epoch may be short; no batch spans
    two epochs.

    With `augmentation` (params.yaml `augment_on_the_fly`) every
    batch is transformed afresh, seeded by (seed, the batch's number from the
    first epoch), so each epoch sees new transforms of every image.
    """
    import tensorflow as tf

    orders = np.stack([epoch_order(seed, epoch, len(x)) for epoch in range(first_epoch, epochs)])
    batch_indices = tf.data.Dataset.from_tensor_slices(orders).flat_map(
        lambda order: tf.data.Dataset.from_tensor_slices(order).batch(batch_size)
    )
    # The arrays enter as one repeated element rather than as a constant captured
    # by the map function, and tf.data's default graph rewrites are off: either
    # would serialize the whole training set into the graph, as Keras's own
    # array adapter also avoids.
    whole_set = tf.data.Dataset.from_tensors((tf.convert_to_tensor(x), tf.convert_to_tensor(y))).repeat()
    options = tf.data.Options()
    options.experimental_optimization.apply_default_optimizations = False
    # Nothing here is tuned (one map, a fixed prefetch), and autotuning's background
    # thread, which wakes at most once a minute, can hold up the iterator's deletion
    # at the end of fit by up to a minute (docs/speed.md).
    options.autotune.enabled = False
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    batches = tf.data.Dataset.zip((batch_indices, whole_set)).map(
        lambda indices, arrays: (tf.gather(arrays[0], indices), tf.gather(arrays[1], indices))
    )
    if augmentation is not None:
        steps_per_epoch = -(-len(x) // batch_size)
        batches = batches.enumerate(start=first_epoch * steps_per_epoch).map(
            lambda number, batch: (
                random_transform(batch[0], augmentation, tf.stack([tf.constant(seed, tf.int64), number])),
                batch[1],
            )
        )
    return batches.prefetch(2).with_options(options)


def whole_calls(steps_per_epoch, steps_per_execution):
    """The most steps per call into TensorFlow, at most `steps_per_execution`, that divide an epoch's steps.

    Keras runs whole calls: at 16 steps per call an epoch of 1,500 steps would run
    1,504, the last 4 taken from the next epoch's batches, so every later epoch
    would end late and a resumed run would replay them. 1,500 runs as 100 calls of 15.
    """
    return max(d for d in range(1, steps_per_execution + 1) if steps_per_epoch % d == 0)
