"""The facts of Fashion-MNIST that the code relies on, in one place.

Fashion-MNIST (Zalando Research, MIT licence): 60,000 training and 10,000 test
images, 28 x 28 grayscale, unsigned bytes, 10 classes of 6,000 training and 1,000
test images each, in four IDX files (study/data/idx.py). Debian's package
dataset-fashion-mnist ships them gzipped with rewritten gzip headers, so its .gz
files differ from the official ones while the decompressed bytes are identical:
params.yaml `data.sha256` therefore checks the decompressed files, the same from
every source.

Nothing here imports anything: every module may depend on it.
"""

IMAGE_SIZE = 28
IMAGE_SHAPE = (IMAGE_SIZE, IMAGE_SIZE, 1)  # grayscale, channels last
CLASS_NAMES = (  # in label order, 0 to 9
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
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
