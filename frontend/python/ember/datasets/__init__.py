"""ember.datasets: MNIST and Fashion-MNIST read from IDX files, and ember.datasets.transforms."""
from .mnist import MNIST, FashionMNIST, read_idx  # noqa: F401
from . import transforms  # noqa: F401
