"""A Keras callback that times a benchmark's training: each step, and when it first reaches its target."""

import time


def make_timer(started, target, steps_per_call=1):
    import keras

    class Timer(keras.callbacks.Callback):
        """Step times per epoch, and the first epoch (and seconds since the start) reaching the
        target accuracy.

        With steps_per_execution > 1 Keras calls the batch callbacks once per call
        of `steps_per_call` steps, so each interval is divided among them.
        """

        def __init__(self):
            super().__init__()
            self.steps, self.epochs, self.reached = [[]], [], None

        def on_train_batch_begin(self, batch, logs=None):
            self.step_started = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            self.steps[-1].append((time.perf_counter() - self.step_started) / steps_per_call)

        def on_epoch_end(self, epoch, logs=None):
            self.steps.append([])
            if "val_accuracy" not in (logs or {}):
                return
            seconds = time.perf_counter() - started
            self.epochs.append(
                {"epoch": epoch + 1, "seconds": seconds, "val_accuracy": float(logs["val_accuracy"])}
            )
            if self.reached is None and logs["val_accuracy"] >= target:
                self.reached = {"epoch": epoch + 1, "seconds": seconds}

        def warm_steps(self):
            """The step times after the first epoch (which traces the graph)."""
            return [step for epoch in self.steps[1:] for step in epoch]

    return Timer()
