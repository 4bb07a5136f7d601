"""Every model of the study, built from one spec (params.yaml `baseline` + a variant's overrides).

The baseline spec gives the published study's Annex 1 network:
    Conv2D(32, 3x3) -> MaxPool(2) -> Dropout(.25) -> Conv2D(64, 3x3) -> MaxPool(2)
    -> Dropout(.25) -> Flatten -> Dense(128) -> Dropout -> Dense(10, softmax)
with 225,034 parameters, trained with Adam.
"""

import functools
import os
import zipfile

from study.config import StepDecay
from study.data.facts import IMAGE_SHAPE, NUM_CLASSES
from study.errors import DataError

# Evaluation and prediction after training, and the per-epoch validation, run at
# this batch: the wide models' first conv makes a tensor of batch x 26 x 26 x 64 floats,
# and a small batch keeps it within the memory a stage may use (docs/reliability.md).
EVALUATION_BATCH_SIZE = 250


def learning_rate_schedule(spec, steps_per_epoch=None):
    """The learning rate of `spec` as what Keras's optimizers take: a number, or a schedule of the step.

    - lr_schedule null: the constant `learning_rate`.
    - {drop_every_epochs: N, factor: F}: the published step decay as a staircase,
      `learning_rate * F ** floor(step / (N * steps_per_epoch))`, so epochs 0 to N-1
      train at the initial rate, N to 2N-1 at F times it, and so on.
    - {warmup_epochs: W, decay: cosine}: a linear warm-up from 0 to `learning_rate`
      over W epochs, then a cosine decay to 0 at the last step. A high rate early,
      when the loss is far from its minimum, and a small one at the end, so fewer
      epochs reach the same accuracy.
    The rate lives in the optimizer and changes per step, so training never asks
    which kind it has.
    """
    import keras

    schedule = spec.lr_schedule
    if schedule is None:
        return float(spec.learning_rate)
    if steps_per_epoch is None:
        raise ValueError("a learning-rate schedule needs steps_per_epoch")
    if isinstance(schedule, StepDecay):
        return keras.optimizers.schedules.ExponentialDecay(
            initial_learning_rate=float(spec.learning_rate),
            decay_steps=schedule.drop_every_epochs * steps_per_epoch,
            decay_rate=float(schedule.factor),
            staircase=True,
        )
    total_steps = spec.epochs * steps_per_epoch
    warmup_steps = min(schedule.warmup_epochs * steps_per_epoch, total_steps - 1)
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0,
        decay_steps=max(total_steps - warmup_steps, 1),
        warmup_target=float(spec.learning_rate),
        warmup_steps=warmup_steps,
    )


def learning_rate_at(rate, step):
    """The rate at 0-based optimizer `step` of what learning_rate_schedule returned."""
    return float(rate(step)) if callable(rate) else float(rate)


def build_optimizer(spec, steps_per_epoch=None):
    """The optimizer of `spec`, its rate from learning_rate_schedule."""
    import keras

    learning_rate = learning_rate_schedule(spec, steps_per_epoch)
    if spec.optimizer == "adam":
        return keras.optimizers.Adam(learning_rate=learning_rate)
    if spec.optimizer == "sgd":
        return keras.optimizers.SGD(learning_rate=learning_rate, momentum=spec.momentum)
    if spec.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate=learning_rate, momentum=spec.momentum)
    raise ValueError(f"unknown optimizer {spec.optimizer!r}")


@functools.cache
def smoothed_crossentropy_class():
    """The loss class of label smoothing on integer labels, registered with Keras once per process.

    Keras's sparse cross-entropy has no label smoothing, and its categorical one
    wants one-hot labels. This loss one-hots the integer labels inside the step,
    so the data, the accuracy metric and every stage keep their integer labels.
    Registration lets saved models and checkpoints with this loss load again
    under safe_mode; it happens when the class is first asked for, so modules
    that never train or load a model never import Keras.
    """
    import keras

    @keras.saving.register_keras_serializable(package="study")
    class SmoothedSparseCategoricalCrossentropy(keras.losses.Loss):
        def __init__(self, label_smoothing, name="smoothed_sparse_categorical_crossentropy", **kwargs):
            super().__init__(name=name, **kwargs)
            self.label_smoothing = float(label_smoothing)

        def call(self, y_true, y_pred):
            labels = keras.ops.cast(keras.ops.reshape(y_true, (-1,)), "int32")
            one_hot = keras.ops.one_hot(labels, NUM_CLASSES, dtype=y_pred.dtype)
            return keras.losses.categorical_crossentropy(
                one_hot, y_pred, label_smoothing=self.label_smoothing
            )

        def get_config(self):
            return {**super().get_config(), "label_smoothing": self.label_smoothing}

    return SmoothedSparseCategoricalCrossentropy


@functools.cache
def fused_batch_norm_class():
    """Batch norm that trains through TensorFlow's fused kernel, registered with Keras once per process.

    Keras's BatchNormalization trains through a dozen ops of its own (the moments,
    tf.nn.batch_normalization, and their gradients), each a pass over the whole
    activation, where FusedBatchNormV3 makes one pass; at the wide model's first batch
    norm that is most of a step (docs/speed.md, `python -m benchmarks.step_parts`).
    This layer computes the same normalisation and moving
    averages as Keras's, to rounding, and is Keras's layer when not training. Other
    rounding means other results: a variant takes it through `batch_norm_kernel: fused`.
    """
    import keras
    import tensorflow as tf

    @keras.saving.register_keras_serializable(package="study")
    class FusedBatchNormalization(keras.layers.BatchNormalization):
        def call(self, inputs, training=None, mask=None):
            # The kernel normalises the last axis only; Keras keeps `axis` as given (-1 by default).
            last_axis = self.axis % len(inputs.shape) == len(inputs.shape) - 1
            if not (training and self.trainable) or mask is not None or not last_axis:
                return super().call(inputs, training=training, mask=mask)
            channels = inputs.shape[-1]
            # The kernel takes images (batch, height, width, channels); a Dense layer's
            # output is a batch of 1 x 1 images. Statistics stay float32, as in Keras's layer.
            images = (
                tf.reshape(tf.cast(inputs, "float32"), [-1, 1, 1, channels])
                if len(inputs.shape) == 2
                else tf.cast(inputs, "float32")
            )
            outputs, mean, sample_variance = tf.compat.v1.nn.fused_batch_norm(
                images, self.gamma, self.beta, epsilon=self.epsilon, is_training=True
            )
            # The kernel's variance is the sample variance (divided by n - 1); Keras's
            # moving variance averages the batch's own (divided by n).
            count = tf.cast(tf.size(images) // channels, "float32")
            variance = sample_variance * ((count - 1.0) / count)
            self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
            self.moving_variance.assign(
                self.moving_variance * self.momentum + variance * (1.0 - self.momentum)
            )
            return tf.cast(tf.reshape(outputs, tf.shape(inputs)), self.compute_dtype)

    return FusedBatchNormalization


def build_loss(spec):
    """The loss of `spec`: the published cross-entropy, or with its targets smoothed.

    With label_smoothing S > 0 the target of each image is 1 - S + S/10 on its class
    and S/10 on the other nine (Szegedy et al. 2016), which keeps the model from
    driving its answers to certainty on training images. At 0 it is Keras's own
    sparse cross-entropy, so a model without smoothing trains exactly as the published one.
    """
    if spec.label_smoothing == 0:
        return "sparse_categorical_crossentropy"
    return smoothed_crossentropy_class()(label_smoothing=spec.label_smoothing)


def _activated(make_layer, spec, dtype):
    """The layer `make_layer(activation)` makes, then its activation.

    With batch norm the layer is linear and the normalisation goes between it and
    its activation, as the published study places it.
    """
    import keras

    if not spec.batch_norm:
        return [make_layer(spec.activation)]
    batch_norm = (
        fused_batch_norm_class() if spec.batch_norm_kernel == "fused" else keras.layers.BatchNormalization
    )
    return [
        make_layer(None),
        batch_norm(**dtype),
        keras.layers.Activation(spec.activation, **dtype),
    ]


def build_model(spec, name="model", steps_per_epoch=None):
    """The compiled Keras model that `spec` describes.

    With precision mixed_bfloat16 every layer computes in bfloat16 and keeps its
    weights in float32; the softmax layer stays float32 so the loss is computed in
    float32. With float32 no dtype is passed, so the model is exactly the published one.
    """
    import keras

    dtype = {} if spec.precision == "float32" else {"dtype": spec.precision}
    layers = [keras.Input(shape=IMAGE_SHAPE)]
    for filters, kernel_size in zip(spec.filters, spec.kernel_sizes):
        layers += _activated(
            lambda activation: keras.layers.Conv2D(
                filters, kernel_size, padding=spec.padding, activation=activation, **dtype
            ),
            spec,
            dtype,
        )
        layers += [
            keras.layers.MaxPooling2D(pool_size=spec.pool_size, **dtype),
            keras.layers.Dropout(spec.conv_dropout_rate, **dtype),
        ]
    layers.append(keras.layers.Flatten(**dtype))
    layers += _activated(
        lambda activation: keras.layers.Dense(spec.dense_units, activation=activation, **dtype), spec, dtype
    )
    layers += [
        keras.layers.Dropout(spec.dense_dropout_rate, **dtype),
        keras.layers.Dense(NUM_CLASSES, activation="softmax", **({"dtype": "float32"} if dtype else {})),
    ]
    model = keras.Sequential(layers, name=name)
    model.compile(
        optimizer=build_optimizer(spec, steps_per_epoch),
        loss=build_loss(spec),
        metrics=["accuracy"],
        # Several steps per call into TensorFlow: the same steps in the same order,
        # with less of Python's overhead between them, which dominates at small batches.
        steps_per_execution=spec.steps_per_execution,
        # Keras's "auto" already turns XLA off under op determinism; saying so keeps it off.
        jit_compile=spec.jit_compile,
    )
    return model


def check_model_file(path):
    """Refuses a model file that is missing or not a zip archive (as .keras files are),
    before TensorFlow loads."""
    if not os.path.isfile(path):
        raise DataError(f"{path}: missing (run `dvc repro` to train it)")
    if not zipfile.is_zipfile(path):
        raise DataError(f"{path}: not a Keras model (a .keras file is a zip archive, this one is not)")


def load_keras_model(path):
    """Keras's load_model with safe_mode (no arbitrary code from the file), after registering the
    study's own loss and batch norm, which a model trained with label smoothing or the fused kernel names."""
    import keras

    smoothed_crossentropy_class()
    fused_batch_norm_class()
    return keras.models.load_model(path, safe_mode=True)


def load_model(path):
    """A trained model of the study; a missing or unreadable file ends in one DataError naming it."""
    check_model_file(path)
    try:
        return load_keras_model(path)
    except Exception as error:  # Keras raises many kinds for a file that is not a model.
        raise DataError(f"{path}: not a Keras model ({type(error).__name__}: {error})") from None


def predict_probabilities(model, x):
    return model.predict(x, batch_size=EVALUATION_BATCH_SIZE, verbose=0)


def mirrored_probabilities(model, images):
    """The mean of the model's probabilities on `images` (N, height, width, channels) and on their mirrors."""
    mirrored = images[:, :, ::-1, :]
    return (predict_probabilities(model, images) + predict_probabilities(model, mirrored)) / 2
