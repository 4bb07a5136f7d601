"""Every model of the study, built from one spec (params.yaml `baseline` + a variant's overrides).

The baseline spec gives the seed's Annex 1 network:
    Conv2D(32, 3x3) -> MaxPool(2) -> Dropout(.25) -> Conv2D(64, 3x3) -> MaxPool(2)
    -> Dropout(.25) -> Flatten -> Dense(128) -> Dropout -> Dense(10, softmax)
with 225,034 parameters, trained with Adam.
"""

IMAGE_SHAPE = (28, 28, 1)
NUM_CLASSES = 10


def learning_rate_for_epoch(spec, epoch):
    """The learning rate of 0-based `epoch`: constant, or the seed's step decay.

    With lr_schedule {drop_every_epochs: 5, factor: 0.5} epochs 0-4 train at the
    initial rate, 5-9 at half of it, and so on.
    """
    schedule = spec["lr_schedule"]
    if schedule is None:
        return float(spec["learning_rate"])
    return float(spec["learning_rate"] * schedule["factor"] ** (epoch // schedule["drop_every_epochs"]))


def build_optimizer(spec):
    import keras

    if spec["optimizer"] == "adam":
        return keras.optimizers.Adam(learning_rate=spec["learning_rate"])
    if spec["optimizer"] == "sgd":
        return keras.optimizers.SGD(learning_rate=spec["learning_rate"], momentum=spec["momentum"])
    if spec["optimizer"] == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate=spec["learning_rate"], momentum=spec["momentum"])
    raise ValueError(f"unknown optimizer {spec['optimizer']!r}")


def _activated(make_layer, spec):
    """The layer `make_layer(activation)` makes, then its activation.

    With batch norm the layer is linear and the normalisation goes between it and
    its activation, as the seed places it.
    """
    import keras

    if not spec["batch_norm"]:
        return [make_layer(spec["activation"])]
    return [make_layer(None), keras.layers.BatchNormalization(), keras.layers.Activation(spec["activation"])]


def build_model(spec, name="model"):
    """The compiled Keras model that `spec` describes."""
    import keras

    layers = [keras.Input(shape=IMAGE_SHAPE)]
    for filters, kernel_size in zip(spec["filters"], spec["kernel_sizes"]):
        layers += _activated(
            lambda activation: keras.layers.Conv2D(filters, kernel_size, activation=activation), spec
        )
        layers += [
            keras.layers.MaxPooling2D(pool_size=spec["pool_size"]),
            keras.layers.Dropout(spec["conv_dropout_rate"]),
        ]
    layers.append(keras.layers.Flatten())
    layers += _activated(lambda activation: keras.layers.Dense(spec["dense_units"], activation=activation), spec)
    layers += [
        keras.layers.Dropout(spec["dense_dropout_rate"]),
        keras.layers.Dense(NUM_CLASSES, activation="softmax"),
    ]
    model = keras.Sequential(layers, name=name)
    model.compile(
        optimizer=build_optimizer(spec),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model
