"""Every model of the study, built from one spec (params.yaml `baseline` + a variant's overrides).

The baseline spec gives the seed's Annex 1 network:
    Conv2D(32, 3x3) -> MaxPool(2) -> Dropout(.25) -> Conv2D(64, 3x3) -> MaxPool(2)
    -> Dropout(.25) -> Flatten -> Dense(128) -> Dropout -> Dense(10, softmax)
with 225,034 parameters, trained with Adam.
"""

IMAGE_SHAPE = (28, 28, 1)
NUM_CLASSES = 10


def is_step_decay(spec):
    return spec["lr_schedule"] is not None and "drop_every_epochs" in spec["lr_schedule"]


def is_per_step_schedule(spec):
    """Warm-up + cosine changes the rate at every step, inside the optimizer."""
    return spec["lr_schedule"] is not None and "warmup_epochs" in spec["lr_schedule"]


def learning_rate_for_epoch(spec, epoch):
    """The learning rate of 0-based `epoch`: constant, or the seed's step decay.

    With lr_schedule {drop_every_epochs: 5, factor: 0.5} epochs 0-4 train at the
    initial rate, 5-9 at half of it, and so on. (A per-step schedule is read from
    the optimizer instead; see fitting.py.)
    """
    if not is_step_decay(spec):
        return float(spec["learning_rate"])
    schedule = spec["lr_schedule"]
    return float(spec["learning_rate"] * schedule["factor"] ** (epoch // schedule["drop_every_epochs"]))


def warmup_cosine(spec, steps_per_epoch):
    """A linear warm-up from 0 to `learning_rate` over warmup_epochs, then a cosine decay to 0 at the last step.

    The shape of a one-cycle schedule: a high rate early, when the loss is far from
    its minimum, and a small one at the end, so fewer epochs reach the same accuracy.
    """
    import keras

    total_steps = spec["epochs"] * steps_per_epoch
    warmup_steps = min(spec["lr_schedule"]["warmup_epochs"] * steps_per_epoch, total_steps - 1)
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0,
        decay_steps=max(total_steps - warmup_steps, 1),
        warmup_target=float(spec["learning_rate"]),
        warmup_steps=warmup_steps,
    )


def build_optimizer(spec, steps_per_epoch=None):
    """The optimizer of `spec`; a per-step schedule needs the number of steps in an epoch."""
    import keras

    learning_rate = spec["learning_rate"]
    if is_per_step_schedule(spec):
        if steps_per_epoch is None:
            raise ValueError("a warm-up + cosine schedule needs steps_per_epoch")
        learning_rate = warmup_cosine(spec, steps_per_epoch)
    if spec["optimizer"] == "adam":
        return keras.optimizers.Adam(learning_rate=learning_rate)
    if spec["optimizer"] == "sgd":
        return keras.optimizers.SGD(learning_rate=learning_rate, momentum=spec["momentum"])
    if spec["optimizer"] == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate=learning_rate, momentum=spec["momentum"])
    raise ValueError(f"unknown optimizer {spec['optimizer']!r}")


def _activated(make_layer, spec, dtype):
    """The layer `make_layer(activation)` makes, then its activation.

    With batch norm the layer is linear and the normalisation goes between it and
    its activation, as the seed places it.
    """
    import keras

    if not spec["batch_norm"]:
        return [make_layer(spec["activation"])]
    return [
        make_layer(None),
        keras.layers.BatchNormalization(**dtype),
        keras.layers.Activation(spec["activation"], **dtype),
    ]


def build_model(spec, name="model", steps_per_epoch=None):
    """The compiled Keras model that `spec` describes.

    With precision mixed_bfloat16 every layer computes in bfloat16 and keeps its
    weights in float32; the softmax layer stays float32 so the loss is computed in
    float32. With float32 no dtype is passed, so the model is exactly the seed's.
    """
    import keras

    dtype = {} if spec["precision"] == "float32" else {"dtype": spec["precision"]}
    layers = [keras.Input(shape=IMAGE_SHAPE)]
    for filters, kernel_size in zip(spec["filters"], spec["kernel_sizes"]):
        layers += _activated(
            lambda activation: keras.layers.Conv2D(filters, kernel_size, activation=activation, **dtype), spec, dtype
        )
        layers += [
            keras.layers.MaxPooling2D(pool_size=spec["pool_size"], **dtype),
            keras.layers.Dropout(spec["conv_dropout_rate"], **dtype),
        ]
    layers.append(keras.layers.Flatten(**dtype))
    layers += _activated(
        lambda activation: keras.layers.Dense(spec["dense_units"], activation=activation, **dtype), spec, dtype
    )
    layers += [
        keras.layers.Dropout(spec["dense_dropout_rate"], **dtype),
        keras.layers.Dense(NUM_CLASSES, activation="softmax", **({"dtype": "float32"} if dtype else {})),
    ]
    model = keras.Sequential(layers, name=name)
    model.compile(
        optimizer=build_optimizer(spec, steps_per_epoch),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        # Keras's "auto" already turns XLA off under op determinism; saying so keeps it off.
        jit_compile=spec["jit_compile"],
    )
    return model
