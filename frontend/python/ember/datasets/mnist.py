"""MNIST / Fashion-MNIST from IDX files (gzipped or not), as torchvision's datasets.

Samples are (image, label): without a transform the image is a uint8 numpy array of shape
(28, 28) (torchvision gives a PIL image; transforms.ToTensor accepts either)."""
import gzip
import os

import numpy as _np

from .. import _C
from ..utils.data import Dataset

_IDX_DTYPES = {0x08: _np.uint8, 0x09: _np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4",
               0x0E: ">f8"}


def read_idx(path):
    """The array stored in an IDX file (.gz is decompressed). Raises ValueError naming the file
    when the header or the size is wrong."""
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as ex:
        raise ValueError(f"read_idx: cannot read {path}: {ex}") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise ValueError(f"read_idx: {path} is not an IDX file (bad magic number)")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"read_idx: {path} is truncated (header needs {header} bytes)")
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    dt = _np.dtype(_IDX_DTYPES[data[2]])
    need = header + int(_np.prod(dims, dtype=_np.int64)) * dt.itemsize
    if len(data) != need:
        raise ValueError(f"read_idx: {path} has {len(data)} bytes, but its header "
                         f"(shape {dims}, {dt}) needs {need}")
    return _np.frombuffer(data, dtype=dt, offset=header).reshape(dims).astype(dt.newbyteorder("="))


class MNIST(Dataset):
    """The MNIST digits: root holds train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz],
    t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz] (directly, or under
    <root>/<ClassName>/raw as torchvision lays them out). .data is a uint8 tensor (N, 28, 28),
    .targets an int64 tensor (N,)."""

    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five",
               "6 - six", "7 - seven", "8 - eight", "9 - nine"]
    default_root = os.environ.get("EMBER_MNIST_ROOT", "/usr/share/datasets/mnist")

    def __init__(self, root=None, train=True, transform=None, target_transform=None,
                 download=False):
        if download:
            raise NotImplementedError(f"{type(self).__name__}: download is not supported; put "
                                      "the IDX files under root")
        self.root = os.path.expanduser(root if root is not None else self.default_root)
        self.train, self.transform, self.target_transform = train, transform, target_transform
        prefix = "train" if train else "t10k"
        images = self._find(f"{prefix}-images-idx3-ubyte")
        labels = self._find(f"{prefix}-labels-idx1-ubyte")
        x, y = read_idx(images), read_idx(labels)
        if x.ndim != 3 or y.ndim != 1 or x.shape[0] != y.shape[0]:
            raise ValueError(f"{type(self).__name__}: {images} holds shape {list(x.shape)} and "
                             f"{labels} shape {list(y.shape)}; expected (N, H, W) and (N,)")
        self.data = _C._from_array(_np.ascontiguousarray(x))
        self.targets = _C._from_array(y.astype(_np.int64))
        self._images, self._labels = x, y.astype(_np.int64)

    def _find(self, name):
        dirs = [self.root, os.path.join(self.root, type(self).__name__, "raw")]
        for d in dirs:
            for candidate in (name, name + ".gz"):
                path = os.path.join(d, candidate)
                if os.path.isfile(path):
                    return path
        raise FileNotFoundError(f"{type(self).__name__}: missing file {name} (or {name}.gz) in "
                                f"{self.root}" + (f" or {dirs[1]}" if len(dirs) > 1 else "")
                                + "; pass root= the directory that holds the IDX files")

    def __len__(self):
        return len(self._labels)

    def __getitem__(self, index):
        img, target = self._images[index], int(self._labels[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __getitems__(self, indices):
        """Samples for a list of indices (what DataLoader fetches per batch, as in PyTorch):
        with no transform, or ToTensor/Normalize, the batch is converted at once and split into
        samples (equal to __getitem__'s), without per-image Python work."""
        from .transforms import _batched
        run = _batched(self.transform) if self.transform is not None else None
        if self.transform is not None and run is None:
            return [self[i] for i in indices]
        idx = _np.asarray(indices, dtype=_np.int64)
        # One unbind into per-sample views (indexing the batch 64 times cost 4x as much).
        images = run(self._images[idx]).unbind(0) if run is not None else None
        labels = self._labels[idx]
        out = []
        for j, i in enumerate(indices):
            img = images[j] if images is not None else self._images[i]
            target = int(labels[j])
            if self.target_transform is not None:
                target = self.target_transform(target)
            out.append((img, target))
        return out

    @property
    def class_to_idx(self):
        return {c: i for i, c in enumerate(self.classes)}

    def extra_repr(self):
        return f"Split: {'Train' if self.train else 'Test'}"

    def __repr__(self):
        return (f"Dataset {type(self).__name__}\n    Number of datapoints: {len(self)}\n"
                f"    Root location: {self.root}\n    {self.extra_repr()}")


class FashionMNIST(MNIST):
    """Fashion-MNIST (Zalando); the default root is where Debian's dataset-fashion-mnist
    package installs it."""

    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]
    default_root = os.environ.get("EMBER_FASHION_MNIST_ROOT", "/usr/share/datasets/fashion-mnist")
