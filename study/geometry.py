"""The arithmetic of the study's conv stack on a 28 x 28 image: pure Python, no TensorFlow.

params.yaml's check refuses a stack that shrinks the image to nothing, and the FLOP
count follows each layer's output size; both use this one rule.
"""


def conv_output_size(size, kernel_size, padding):
    """The height (or width) of a Conv2D's output on a size x size input: a 'valid' kernel
    only visits positions where it fits whole, a 'same' one zero-pads to keep the size."""
    return size if padding == "same" else size - kernel_size + 1
