"""Image transforms with torchvision's names: ToTensor, Normalize, Compose, RandomCrop,
RandomHorizontalFlip, Lambda. Images are numpy arrays (H, W) or (H, W, C), PIL images, or
tensors (C, H, W)."""
import numbers

import numpy as _np

from .. import _C
from .._C import Tensor


class Compose:
    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self):
        body = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}({body}\n)"


def _to_tensor(a):
    """A channels-first image array (or batch) as a tensor: uint8 scaled to float32 in [0, 1],
    other dtypes as they are."""
    if a.dtype == _np.uint8:
        a = a.astype(_np.float32)  # a fresh array: divided in place (one pass fewer)
        a /= _np.float32(255.0)
    return _C._from_array(_np.ascontiguousarray(a))


def _batched(transform):
    """A function applying `transform` to a whole batch of images ([N, H, W] or [N, H, W, C]
    numpy) at once, giving an [N, C, H, W] tensor equal to stacking the per-image results; None
    when `transform` is not made only of transforms that work batch-wise (ToTensor, Normalize,
    Compose of them). Datasets' __getitems__ use it to skip per-image Python overhead."""
    parts = transform.transforms if isinstance(transform, Compose) else [transform]
    if not parts or type(parts[0]) is not ToTensor or any(type(t) is not Normalize for t in parts[1:]):
        return None

    def run(images):
        a = _np.asarray(images)
        if a.ndim == 3:
            a = a[:, :, :, None]
        x = _to_tensor(a.transpose(0, 3, 1, 2))
        for t in parts[1:]:
            x = t(x)
        return x
    return run


class ToTensor:
    """uint8 (H, W[, C]) image → float32 tensor (C, H, W) in [0, 1]; float arrays are not
    rescaled."""

    def __call__(self, pic):
        a = _np.asarray(pic)
        if a.ndim == 2:
            a = a[:, :, None]
        if a.ndim != 3:
            raise ValueError(f"ToTensor: pic should be 2 or 3 dimensional, got {a.ndim} dims")
        return _to_tensor(a.transpose(2, 0, 1))

    def __repr__(self):
        return "ToTensor()"


class Normalize:
    """(x - mean) / std per channel of a (..., C, H, W) float tensor."""

    def __init__(self, mean, std, inplace=False):
        self.mean, self.std, self.inplace = mean, std, inplace
        self._cache = {}

    def _stats(self, tensor):
        """mean and std as (C, 1, 1) tensors of the input's dtype and device, built (and std
        checked) once per dtype and device: a data pipeline calls this for every sample."""
        key = (tensor.dtype, _C._device_of(tensor))  # (not the device object: per sample)
        if key not in self._cache:
            from .. import tensor as make
            mean = make(list(self.mean) if not isinstance(self.mean, numbers.Number)
                        else [self.mean], dtype=tensor.dtype, device=tensor.device)
            std = make(list(self.std) if not isinstance(self.std, numbers.Number)
                       else [self.std], dtype=tensor.dtype, device=tensor.device)
            if (std == 0).any().item():
                raise ValueError(f"std evaluated to zero after conversion to {tensor.dtype}, "
                                 "leading to division by zero.")
            self._cache[key] = (mean.reshape(-1, 1, 1), std.reshape(-1, 1, 1))
        return self._cache[key]

    def __call__(self, tensor):
        if not isinstance(tensor, Tensor):
            raise TypeError(f"Normalize: input should be an ember Tensor, got "
                            f"{type(tensor).__name__}")
        if not tensor.dtype.is_floating_point:
            raise TypeError(f"Normalize: input tensor should be a float tensor, got "
                            f"{tensor.dtype}")
        mean, std = self._stats(tensor)
        out = (tensor - mean) / std
        return tensor.copy_(out) if self.inplace else out

    def __repr__(self):
        return f"Normalize(mean={self.mean}, std={self.std})"


class Lambda:
    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)


def _rand_int(high):
    from .. import randint
    return int(randint(0, high, (1,)).item())


def _rand():
    from .. import rand
    return float(rand(1).item())


def _hw(img):
    if isinstance(img, Tensor):
        return img.shape[-2], img.shape[-1]
    a = _np.asarray(img)
    return a.shape[0], a.shape[1]


class RandomCrop:
    """A random size crop after optional zero padding (ember's global RNG)."""

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant"):
        self.size = (size, size) if isinstance(size, int) else tuple(size)
        self.padding, self.fill = padding, fill
        if padding_mode != "constant":
            raise NotImplementedError("RandomCrop: only padding_mode='constant' is supported")

    def __call__(self, img):
        if self.padding:
            p = self.padding
            left, top, right, bottom = ((p,) * 4 if isinstance(p, int) else
                                        (p[0], p[1], p[0], p[1]) if len(p) == 2 else tuple(p))
            if isinstance(img, Tensor):
                from ..nn import functional as F
                img = F.pad(img, [left, right, top, bottom], value=self.fill)
            else:
                a = _np.asarray(img)
                widths = [(top, bottom), (left, right)] + [(0, 0)] * (a.ndim - 2)
                img = _np.pad(a, widths, constant_values=self.fill)
        h, w = _hw(img)
        th, tw = self.size
        if h < th or w < tw:
            raise ValueError(f"RandomCrop: required crop size {(th, tw)} is larger than input "
                             f"image size {(h, w)}")
        i = _rand_int(h - th + 1)
        j = _rand_int(w - tw + 1)
        if isinstance(img, Tensor):
            return img[..., i:i + th, j:j + tw]
        return _np.asarray(img)[i:i + th, j:j + tw]

    def __repr__(self):
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip:
    def __init__(self, p=0.5):
        self.p = p

    def __call__(self, img):
        if _rand() < self.p:
            if isinstance(img, Tensor):
                return img.flip(-1)
            return _np.ascontiguousarray(_np.asarray(img)[:, ::-1])
        return img

    def __repr__(self):
        return f"RandomHorizontalFlip(p={self.p})"
