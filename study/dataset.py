"""The facts of Fashion-MNIST that the code relies on, in one place (../shared/study/DATA.md).

Nothing here imports anything: every module may depend on it.
"""

IMAGE_SIZE = 28
IMAGE_SHAPE = (IMAGE_SIZE, IMAGE_SIZE, 1)  # grayscale, channels last
CLASS_NAMES = (  # in label order, 0 to 9
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
NUM_CLASSES = len(CLASS_NAMES)
TEST_SIZE = 10_000
# The four official IDX files, decompressed names.
IDX_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
