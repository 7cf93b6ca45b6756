"""ember.utils.data: datasets, samplers and DataLoader with PyTorch's API.

Shuffling draws from an ember.Generator (or, without one, a seed taken from ember's global RNG,
so ember.manual_seed makes it reproducible). num_workers > 0 loads batches on threads with
prefetching; batches come back in sampler order, so they equal the num_workers=0 batches."""
import bisect
import collections.abc
import concurrent.futures
import itertools
import math
import numbers

import numpy as _np

from .. import _C
from .._C import Tensor


class Generator:
    """A seeded random stream for shuffling and splitting (ember.Generator().manual_seed(s))."""

    def __init__(self, device="cpu"):
        self._seed = int(_np.random.SeedSequence().entropy % (2 ** 63))
        self._rng = _np.random.default_rng(self._seed)

    def manual_seed(self, seed):
        self._seed = int(seed)
        self._rng = _np.random.default_rng(self._seed)
        return self

    def initial_seed(self):
        return self._seed

    def seed(self):
        self.manual_seed(int(_np.random.SeedSequence().entropy % (2 ** 63)))
        return self._seed

    def get_state(self):
        return self._rng.bit_generator.state

    def set_state(self, state):
        self._rng.bit_generator.state = state
        return self

    def _permutation(self, n):
        return self._rng.permutation(n).tolist()

    def _integers(self, high, size):
        return self._rng.integers(0, high, size=size).tolist()

    def _multinomial(self, weights, num_samples, replacement):
        """num_samples indices drawn with probabilities weights / weights.sum() (float64
        NumPy array), with or without replacement, with torch.multinomial's checks."""
        if not _np.all(_np.isfinite(weights)) or _np.any(weights < 0):
            raise RuntimeError("invalid multinomial distribution (encountering probability "
                               "entry < 0 or inf or nan)")
        total = weights.sum()
        if total <= 0:
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        if not replacement:
            if num_samples > weights.shape[0]:
                raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples "
                                   "without replacement")
            if num_samples > int(_np.count_nonzero(weights)):
                raise RuntimeError("invalid multinomial distribution (with replacement=False, "
                                   "not enough non-negative category to sample)")
        return self._rng.choice(weights.shape[0], size=num_samples, replace=replacement,
                                p=weights / total).tolist()


def _default_generator():
    """A Generator seeded from ember's global RNG (so ember.manual_seed controls it)."""
    from .. import randint
    seed = int(randint(0, 2 ** 62, (1,)).item())
    return Generator().manual_seed(seed)


# Datasets.

class Dataset:
    """A map-style dataset: __getitem__(index) and __len__."""

    def __getitem__(self, index):
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A dataset that is an iterable stream of samples (__iter__)."""

    def __iter__(self):
        raise NotImplementedError("Subclasses of IterableDataset should implement __iter__.")

    def __add__(self, other):
        return ChainDataset([self, other])


class TensorDataset(Dataset):
    """Samples are tuples of the tensors' rows at an index."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        n = tensors[0].shape[0] if tensors[0].dim() else None
        if any(t.dim() == 0 or t.shape[0] != n for t in tensors):
            raise ValueError("Size mismatch between tensors: every tensor needs the same size "
                             f"in dim 0, got {[list(t.shape) for t in tensors]}")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]


class ConcatDataset(Dataset):
    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise ValueError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx = len(self) + idx
        d = bisect.bisect_right(self.cumulative_sizes, idx)
        prev = 0 if d == 0 else self.cumulative_sizes[d - 1]
        return self.datasets[d][idx - prev]


class ChainDataset(IterableDataset):
    def __init__(self, datasets):
        self.datasets = datasets

    def __iter__(self):
        for d in self.datasets:
            yield from d


class Subset(Dataset):
    """The samples of dataset at the given indices."""

    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __len__(self):
        return len(self.indices)


def random_split(dataset, lengths, generator=None):
    """Splits dataset into non-overlapping Subsets of the given lengths (or fractions)."""
    n = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        subset_lengths = [int(math.floor(n * frac)) for frac in lengths]
        for frac in lengths:
            if frac < 0 or frac > 1:
                raise ValueError(f"Fraction at index {frac} is not between 0 and 1")
        remainder = n - sum(subset_lengths)
        for i in range(remainder):
            subset_lengths[i % len(subset_lengths)] += 1
        lengths = subset_lengths
    if sum(lengths) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    gen = generator or _default_generator()
    perm = gen._permutation(n)
    out, offset = [], 0
    for length in lengths:
        out.append(Subset(dataset, perm[offset:offset + length]))
        offset += length
    return out


# Samplers.

class Sampler:
    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError


class SequentialSampler(Sampler):
    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random permutation of the indices each epoch (or num_samples draws with replacement)."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source, self.replacement = data_source, replacement
        self._num_samples, self.generator = num_samples, generator
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n = len(self.data_source)
        gen = self.generator or _default_generator()
        if self.replacement:
            yield from gen._integers(n, self.num_samples)
            return
        for _ in range(self.num_samples // n):
            yield from gen._permutation(n)
        yield from gen._permutation(n)[:self.num_samples % n]

    def __len__(self):
        return self.num_samples


class WeightedRandomSampler(Sampler):
    """num_samples indices of range(len(weights)) drawn with probabilities proportional to
    weights (with replacement, or without: then distinct), from generator (or, without one, a
    seed taken from ember's global RNG)."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        if (not isinstance(num_samples, numbers.Integral) or isinstance(num_samples, bool)
                or num_samples <= 0):
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got "
                             f"replacement={replacement}")
        from .. import tensor, float64
        w = (weights.detach().to("cpu").numpy() if isinstance(weights, Tensor)
             else _np.asarray(weights))
        w = _np.asarray(w, dtype=_np.float64)
        if w.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape "
                             f"{tuple(w.shape)}")
        self.weights = tensor(w, dtype=float64)
        self.num_samples, self.replacement = int(num_samples), replacement
        self.generator = generator

    def __iter__(self):
        gen = self.generator or _default_generator()
        yield from gen._multinomial(self.weights.numpy(), self.num_samples, self.replacement)

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    def __init__(self, indices, generator=None):
        self.indices, self.generator = indices, generator

    def __iter__(self):
        gen = self.generator or _default_generator()
        for i in gen._permutation(len(self.indices)):
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class BatchSampler(Sampler):
    """Groups a sampler's indices into lists of batch_size."""

    def __init__(self, sampler, batch_size, drop_last):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def __iter__(self):
        batch = []
        for idx in self.sampler:
            batch.append(idx)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size


# Collation.

def default_convert(data):
    if isinstance(data, _np.ndarray) and data.dtype.kind in "biuf":
        return _C._from_array(_np.array(data, copy=True, order="C"))
    if isinstance(data, collections.abc.Mapping):
        return type(data)({k: default_convert(v) for k, v in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, (list, tuple)) and not isinstance(data, str):
        return type(data)(default_convert(d) for d in data)
    return data


def default_collate(batch):
    """Stacks a list of samples into a batch, recursing into tuples, lists and dicts (as torch's
    default_collate): tensors are stacked, numbers become 1-d tensors, strings stay lists."""
    from .. import stack, tensor, float64, int64
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(list(batch), 0)
    if isinstance(elem, _np.ndarray):
        return stack([_C._from_array(_np.array(b, copy=True, order="C")) for b in batch], 0)
    if isinstance(elem, _np.generic):
        return _C._from_array(_np.array(batch))
    if isinstance(elem, bool):
        return tensor(batch)
    if isinstance(elem, float):
        return tensor(batch, dtype=float64)
    if isinstance(elem, numbers.Integral):
        return tensor(batch, dtype=int64)
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, collections.abc.Mapping):
        return type(elem)({k: default_collate([d[k] for d in batch]) for k in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(s) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(e) != len(elem) for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        # a list, for tuple samples too (as torch's: ported code assigns into batch[0])
        return [default_collate(s) for s in zip(*batch)]
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, "
                    f"dicts or lists; found {type(elem).__name__}")


class _InfiniteConstant:
    pass


def _pin(batch):
    """The batch with every CPU tensor in it copied to pinned memory (DataLoader(pin_memory=True)),
    so `.cuda(non_blocking=True)` copies asynchronously."""
    if isinstance(batch, _C.Tensor):
        return batch.pin_memory() if not batch.is_cuda else batch
    if isinstance(batch, (list, tuple)):
        return type(batch)(_pin(b) for b in batch)
    if isinstance(batch, dict):
        return {k: _pin(v) for k, v in batch.items()}
    return batch


class DataLoader:
    """Batches of a dataset: a sampler (SequentialSampler, or RandomSampler with shuffle=True
    and the given generator) grouped by batch_size and passed through collate_fn.

    num_workers > 0 fetches batches on that many threads with prefetch_factor batches per
    worker in flight; batches are returned in sampler order, identical to num_workers=0."""

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device=""):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                             "disable multiprocessing.")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing."
                             "let num_workers > 0 to enable multiprocessing, otherwise set "
                             "prefetch_factor to None.")
        self.dataset, self.num_workers = dataset, num_workers
        self.prefetch_factor = 2 if (num_workers > 0 and prefetch_factor is None) \
            else prefetch_factor
        self.worker_init_fn, self.generator, self.timeout = worker_init_fn, generator, timeout
        self.pin_memory, self.drop_last = pin_memory, drop_last
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle not in (None, False):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            if sampler is not None or batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler "
                                 "and batch_sampler options")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is None and not self._iterable:
            sampler = RandomSampler(dataset, generator=generator) if shuffle \
                else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and not self._iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size, self.sampler, self.batch_sampler = batch_size, sampler, batch_sampler
        self.drop_last = drop_last
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self._pool = None

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None or (self._iterable and self.batch_size is not None)

    def _index_batches(self):
        if self.batch_sampler is not None:
            return iter(self.batch_sampler)
        return iter(self.sampler)  # batch_size=None: one sample at a time

    def _fetch(self, indices):
        if self._auto_collation:
            # A dataset's __getitems__ fetches a whole batch of samples at once (PyTorch's
            # protocol); otherwise one __getitem__ per index.
            getitems = getattr(self.dataset, "__getitems__", None)
            if getitems is not None:
                return self.collate_fn(getitems(list(indices)))
            return self.collate_fn([self.dataset[i] for i in indices])
        return self.collate_fn(self.dataset[indices])

    def _iter_iterable(self):
        it = iter(self.dataset)
        if self.batch_size is None:
            for sample in it:
                yield self.collate_fn(sample)
            return
        while True:
            batch = list(itertools.islice(it, self.batch_size))
            if not batch or (self.drop_last and len(batch) < self.batch_size):
                return
            yield self.collate_fn(batch)

    def __iter__(self):
        if self._iterable:
            it = self._iter_iterable()
        elif self.num_workers == 0:
            it = (self._fetch(b) for b in self._index_batches())
        else:
            it = self._iter_threads()
        if self.pin_memory and _C.cuda.is_available():
            return (_pin(batch) for batch in it)
        return it

    def _iter_threads(self):
        if self._pool is None:
            self._pool = concurrent.futures.ThreadPoolExecutor(
                self.num_workers, initializer=self._init_worker())
        batches = self._index_batches()
        window = collections.deque()
        depth = self.num_workers * self.prefetch_factor
        for b in itertools.islice(batches, depth):
            window.append(self._pool.submit(self._fetch, b))
        while window:
            fut = window.popleft()
            nxt = next(batches, None)
            if nxt is not None:
                window.append(self._pool.submit(self._fetch, nxt))
            yield fut.result(timeout=self.timeout or None)

    def _init_worker(self):
        if self.worker_init_fn is None:
            return None
        import threading
        counter = itertools.count()
        lock = threading.Lock()

        def init():
            with lock:
                wid = next(counter)
            self.worker_init_fn(wid)
        return init

    def __len__(self):
        if self._iterable:
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)

    def __del__(self):
        if getattr(self, "_pool", None) is not None:
            self._pool.shutdown(wait=False)
