"""The plain Keras script a user would write for the seed's baseline: contender (a) of the benchmark.

Adam with its defaults, batch 32, `model.fit` on NumPy arrays with validation
data, nothing else: no seeding, no checkpoints, no per-epoch permutation.
"""


def build_plain_model():
    import keras

    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            keras.layers.Conv2D(32, 3, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Dropout(0.25),
            keras.layers.Conv2D(64, 3, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Dropout(0.25),
            keras.layers.Flatten(),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dropout(0.25),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def train_plain(train_data, val_data, epochs, callbacks, batch_size=32):
    model = build_plain_model()
    model.fit(
        *train_data,
        batch_size=batch_size,
        epochs=epochs,
        validation_data=val_data,
        callbacks=callbacks,
        verbose=0,
    )
    return model
