"""ember.utils.data (datasets, samplers, DataLoader determinism, threaded workers),
ember.datasets (IDX reading, Fashion-MNIST, transforms), ember.save/ember.load (round trips,
interoperability with the safetensors package, atomic writes, hostile files), and a short
LeNet-5 training run on real Fashion-MNIST."""
import collections
import gzip
import json
import os
import struct
import sys

import numpy as np
import pytest
import torch

import ember
from ember.utils.data import (DataLoader, Dataset, IterableDataset, TensorDataset, Subset,
                              random_split, RandomSampler, SequentialSampler, BatchSampler,
                              default_collate)
from ember.datasets import FashionMNIST, MNIST, read_idx, transforms

FMNIST_ROOT = "/usr/share/datasets/fashion-mnist"
HAVE_FMNIST = os.path.isfile(os.path.join(FMNIST_ROOT, "train-images-idx3-ubyte.gz"))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def batches_as_lists(loader):
    out = []
    for b in loader:
        out.append([t.numpy().tolist() if isinstance(t, ember.Tensor) else t for t in b])
    return out


# ---------------------------------------------------------------------------------------------
# Datasets and samplers

def test_tensor_dataset_subset_random_split():
    x, y = ember.arange(20.0).reshape(10, 2), ember.arange(10)
    ds = TensorDataset(x, y)
    assert len(ds) == 10
    a, b = ds[3]
    assert a.tolist() == [6.0, 7.0] and b.item() == 3
    with pytest.raises(ValueError, match="Size mismatch"):
        TensorDataset(x, ember.arange(9))
    sub = Subset(ds, [9, 0, 4])
    assert len(sub) == 3 and sub[0][1].item() == 9
    g = ember.Generator().manual_seed(5)
    parts = random_split(ds, [7, 3], generator=g)
    idx = sorted(parts[0].indices + parts[1].indices)
    assert [len(p) for p in parts] == [7, 3] and idx == list(range(10))
    again = random_split(ds, [7, 3], generator=ember.Generator().manual_seed(5))
    assert again[0].indices == parts[0].indices
    fr = random_split(ds, [0.5, 0.3, 0.2], generator=g)
    assert [len(p) for p in fr] == [5, 3, 2]
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(ds, [3, 3])
    cat = ds + Subset(ds, [1])
    assert len(cat) == 11 and cat[10][1].item() == 1 and cat[-1][1].item() == 1


def test_samplers():
    ds = list(range(10))
    assert list(SequentialSampler(ds)) == list(range(10))
    perm = list(RandomSampler(ds, generator=ember.Generator().manual_seed(1)))
    assert sorted(perm) == list(range(10)) and perm != list(range(10))
    assert perm == list(RandomSampler(ds, generator=ember.Generator().manual_seed(1)))
    rep = list(RandomSampler(ds, replacement=True, num_samples=25,
                             generator=ember.Generator().manual_seed(2)))
    assert len(rep) == 25 and all(0 <= i < 10 for i in rep)
    bs = BatchSampler(SequentialSampler(ds), 4, drop_last=False)
    assert list(bs) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]] and len(bs) == 3
    assert len(BatchSampler(SequentialSampler(ds), 4, drop_last=True)) == 2
    with pytest.raises(ValueError, match="batch_size"):
        BatchSampler(ds, 0, False)


def test_default_collate():
    batch = [(ember.ones(2), 1, 0.5, "a", {"k": np.zeros(3, dtype=np.float32)}),
             (ember.zeros(2), 2, 1.5, "b", {"k": np.ones(3, dtype=np.float32)})]
    t, i, f, s, d = default_collate(batch)
    assert t.shape == (2, 2) and i.dtype == ember.int64 and i.tolist() == [1, 2]
    assert f.dtype == ember.float64 and s == ["a", "b"] and d["k"].shape == (2, 3)
    with pytest.raises(TypeError, match="default_collate"):
        default_collate([object(), object()])


# ---------------------------------------------------------------------------------------------
# DataLoader

def make_ds(n=23):
    return TensorDataset(ember.arange(float(n * 3)).reshape(n, 3), ember.arange(n))


def test_dataloader_batches_and_drop_last():
    dl = DataLoader(make_ds(), batch_size=5)
    b = list(dl)
    assert len(dl) == 5 and len(b) == 5 and b[-1][0].shape == (3, 3)
    assert b[0][1].tolist() == [0, 1, 2, 3, 4]
    dl = DataLoader(make_ds(), batch_size=5, drop_last=True)
    assert len(dl) == 4 and len(list(dl)) == 4
    single = list(DataLoader(make_ds(4), batch_size=None))
    assert len(single) == 4 and single[2][1].item() == 2


def test_dataloader_shuffle_is_seeded_and_covers_everything():
    def run(seed):
        dl = DataLoader(make_ds(), batch_size=4, shuffle=True,
                        generator=ember.Generator().manual_seed(seed))
        return [y for _, ys in dl for y in ys.tolist()]
    a, b, c = run(0), run(0), run(1)
    assert a == b and a != c and sorted(a) == list(range(23))
    # Without a generator, ember.manual_seed makes shuffling reproducible.
    ember.manual_seed(4)
    x = [y.tolist() for _, y in DataLoader(make_ds(), batch_size=4, shuffle=True)]
    ember.manual_seed(4)
    assert x == [y.tolist() for _, y in DataLoader(make_ds(), batch_size=4, shuffle=True)]
    # Each epoch reshuffles.
    dl = DataLoader(make_ds(), batch_size=23, shuffle=True,
                    generator=ember.Generator().manual_seed(0))
    assert next(iter(dl))[1].tolist() != next(iter(dl))[1].tolist()


@pytest.mark.parametrize("num_workers", [1, 2, 4])
def test_workers_give_the_same_batches(num_workers):
    class Slow(Dataset):
        def __len__(self):
            return 37

        def __getitem__(self, i):
            import time
            time.sleep(0.001 * ((i * 7) % 3))  # finish out of order
            return ember.full((2,), float(i)), i

    kw = dict(batch_size=5, shuffle=True, drop_last=False)
    ref = batches_as_lists(DataLoader(Slow(), generator=ember.Generator().manual_seed(3), **kw))
    got = batches_as_lists(DataLoader(Slow(), num_workers=num_workers, prefetch_factor=2,
                                      generator=ember.Generator().manual_seed(3), **kw))
    assert got == ref and len(ref) == 8


def test_dataloader_custom_collate_sampler_batch_sampler():
    ds = make_ds(10)
    dl = DataLoader(ds, batch_size=3, collate_fn=lambda b: [int(y) for _, y in b])
    assert list(dl) == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    dl = DataLoader(ds, batch_size=4, sampler=[9, 8, 7, 6, 5])
    assert [y.tolist() for _, y in dl] == [[9, 8, 7, 6], [5]]
    dl = DataLoader(ds, batch_sampler=[[0, 5], [1]])
    assert [y.tolist() for _, y in dl] == [[0, 5], [1]]
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(ds, sampler=[1], shuffle=True)
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(ds, batch_sampler=[[0]], batch_size=2)
    with pytest.raises(ValueError, match="num_workers"):
        DataLoader(ds, num_workers=-1)


def test_iterable_dataset():
    class Stream(IterableDataset):
        def __iter__(self):
            return iter(range(11))

        def __len__(self):
            return 11

    dl = DataLoader(Stream(), batch_size=4)
    assert [b.tolist() for b in dl] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10]] and len(dl) == 3
    dl = DataLoader(Stream(), batch_size=4, drop_last=True)
    assert len(list(dl)) == 2 and len(dl) == 2
    with pytest.raises(ValueError, match="shuffle"):
        DataLoader(Stream(), shuffle=True)


# ---------------------------------------------------------------------------------------------
# IDX files and datasets

def write_idx(path, arr, gz):
    codes = {np.uint8: 0x08, np.int32: 0x0C, np.float32: 0x0D}
    header = bytes([0, 0, codes[arr.dtype.type], arr.ndim]) + b"".join(
        struct.pack(">i", s) for s in arr.shape)
    data = header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()
    with (gzip.open if gz else open)(path, "wb") as f:
        f.write(data)


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_and_mnist_layout(tmp_path, gz):
    imgs = np.random.default_rng(0).integers(0, 256, size=(5, 4, 3)).astype(np.uint8)
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    sfx = ".gz" if gz else ""
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    write_idx(raw / f"t10k-images-idx3-ubyte{sfx}", imgs, gz)
    write_idx(raw / f"t10k-labels-idx1-ubyte{sfx}", labels, gz)
    f32 = np.arange(6, dtype=np.float32).reshape(2, 3)
    write_idx(tmp_path / "f.idx", f32, False)
    np.testing.assert_array_equal(read_idx(str(tmp_path / "f.idx")), f32)
    ds = MNIST(str(tmp_path), train=False)
    assert len(ds) == 5 and ds.data.shape == (5, 4, 3) and ds.data.dtype == ember.uint8
    assert ds.targets.tolist() == [3, 1, 4, 1, 5] and ds.targets.dtype == ember.int64
    img, label = ds[2]
    np.testing.assert_array_equal(img, imgs[2])
    assert label == 4
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        MNIST(str(tmp_path), train=True)


def test_read_idx_rejects_bad_files(tmp_path):
    p = tmp_path / "bad"
    p.write_bytes(b"\x01\x02\x03")
    with pytest.raises(ValueError, match="bad magic"):
        read_idx(str(p))
    p.write_bytes(bytes([0, 0, 8, 3]) + struct.pack(">iii", 10, 28, 28) + b"\x00" * 100)
    with pytest.raises(ValueError, match="needs"):
        read_idx(str(p))
    p.write_bytes(bytes([0, 0, 8, 3, 0, 0]))
    with pytest.raises(ValueError, match="truncated"):
        read_idx(str(p))
    g = tmp_path / "bad.gz"
    g.write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match="cannot read"):
        read_idx(str(g))


@pytest.mark.skipif(not HAVE_FMNIST, reason="dataset-fashion-mnist is not installed")
def test_fashion_mnist_real_files():
    test = FashionMNIST(train=False, transform=transforms.Compose(
        [transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))]))
    assert len(test) == 10000 and test.data.shape == (10000, 28, 28)
    assert sorted(set(test.targets.tolist())) == list(range(10))
    assert np.bincount(test.targets.numpy()).tolist() == [1000] * 10
    img, label = test[0]
    assert img.shape == (1, 28, 28) and img.dtype == ember.float32 and label == 9
    assert -1.0 <= img.numpy().min() and img.numpy().max() <= 1.0
    assert "Split: Test" in repr(test) and test.classes[9] == "Ankle boot"


@pytest.mark.skipif(not HAVE_FMNIST, reason="dataset-fashion-mnist is not installed")
@pytest.mark.parametrize("transform", ["none", "normalize", "crop"])
def test_fashion_mnist_getitems_equals_getitem_and_feeds_the_loader(transform):
    t = {"none": None,
         "normalize": transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.3,), (0.4,))]),
         "crop": transforms.Compose([transforms.ToTensor(), transforms.RandomCrop(28, padding=2)])}[transform]
    ds = FashionMNIST(train=False, transform=t, target_transform=lambda y: y + 100)
    idx = [5, 0, 9999, 5]
    ember.manual_seed(0)
    batch = ds.__getitems__(idx)
    ember.manual_seed(0)
    for (img, y), i in zip(batch, idx):
        want_img, want_y = ds[i]
        assert y == want_y == int(ds.targets[i]) + 100
        np.testing.assert_array_equal(np.asarray(img.numpy() if hasattr(img, "numpy") else img),
                                      np.asarray(want_img.numpy() if hasattr(want_img, "numpy") else want_img))
    if transform == "normalize":  # the DataLoader fetches whole batches through __getitems__
        calls = []
        orig = FashionMNIST.__getitems__
        ds.__class__ = type("Counting", (FashionMNIST,), {
            "__getitems__": lambda self, ix: calls.append(len(ix)) or orig(self, ix)})
        x, y = next(iter(ember.utils.data.DataLoader(ds, batch_size=16)))
        assert calls == [16] and x.shape == (16, 1, 28, 28)
        np.testing.assert_array_equal(x[3].numpy(), ds[3][0].numpy())


def test_transforms():
    a = np.random.default_rng(1).integers(0, 256, size=(6, 5, 3)).astype(np.uint8)
    t = transforms.ToTensor()(a)
    np.testing.assert_allclose(t.numpy(), a.transpose(2, 0, 1) / 255.0, rtol=1e-6)
    n = transforms.Normalize([0.1, 0.2, 0.3], [0.5, 0.25, 2.0])(t)
    ref = (a.transpose(2, 0, 1) / 255.0 - np.array([0.1, 0.2, 0.3])[:, None, None]) / \
        np.array([0.5, 0.25, 2.0])[:, None, None]
    np.testing.assert_allclose(n.numpy(), ref, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="std evaluated to zero"):
        transforms.Normalize([0.0], [0.0])(t)
    with pytest.raises(TypeError):
        transforms.Normalize([0.0], [1.0])(a)
    ember.manual_seed(0)
    crop = transforms.RandomCrop(4, padding=2)
    outs = [crop(a[:, :, 0]) for _ in range(20)]
    assert all(o.shape == (4, 4) for o in outs)
    assert len({o.tobytes() for o in outs}) > 1
    tc = crop(t)
    assert tc.shape == (3, 4, 4)
    flip = transforms.RandomHorizontalFlip(p=1.0)
    np.testing.assert_array_equal(flip(t).numpy(), t.numpy()[:, :, ::-1])
    np.testing.assert_array_equal(flip(a), a[:, ::-1])
    assert transforms.RandomHorizontalFlip(p=0.0)(a) is a
    with pytest.raises(ValueError, match="larger than input"):
        transforms.RandomCrop(10)(a)


# ---------------------------------------------------------------------------------------------
# Serialization

def test_save_load_tensor_and_state_dict(tmp_path):
    t = ember.randn(3, 4)
    ember.save(t, tmp_path / "t.st")
    back = ember.load(tmp_path / "t.st")
    np.testing.assert_array_equal(back.numpy(), t.numpy())
    model = ember.nn.Sequential(ember.nn.Linear(3, 4), ember.nn.BatchNorm1d(4))
    ember.save(model.state_dict(), tmp_path / "m.st")
    sd = ember.load(tmp_path / "m.st")
    assert list(sd) == list(model.state_dict())
    m2 = ember.nn.Sequential(ember.nn.Linear(3, 4), ember.nn.BatchNorm1d(4))
    m2.load_state_dict(sd)
    for (n, a), (_, b) in zip(model.state_dict().items(), m2.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        assert a.dtype == b.dtype
    assert not os.listdir(tmp_path) or all(not f.endswith(".tmp") for f in os.listdir(tmp_path))


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16", "int64",
                                   "int32", "int16", "int8", "uint8", "bool"])
def test_dtypes_round_trip(tmp_path, dtype):
    x = ember.tensor(np.arange(-6, 6).reshape(3, 4) * 3 % 7).to(getattr(ember, dtype))
    ember.save({"x": x, "empty": ember.zeros(0, 2).to(getattr(ember, dtype)),
                "scalar": ember.tensor(2).to(getattr(ember, dtype))}, tmp_path / "d.st")
    d = ember.load(tmp_path / "d.st")
    assert d["x"].dtype == x.dtype and d["x"].tolist() == x.tolist()
    assert d["empty"].shape == (0, 2) and d["empty"].dtype == x.dtype
    assert d["scalar"].shape == () and d["scalar"].item() == ember.tensor(2).to(x.dtype).item()


def test_nested_containers(tmp_path):
    obj = {"model": collections.OrderedDict(w=ember.ones(2)), "step": 7, "lr": 0.5,
           "name": "run", "hist": [ember.zeros(1), (1, None, True)], 3: {"x": ember.ones(1)}}
    ember.save(obj, tmp_path / "n.st")
    back = ember.load(tmp_path / "n.st")
    assert isinstance(back["model"], collections.OrderedDict)
    assert back["step"] == 7 and back["lr"] == 0.5 and back["name"] == "run"
    assert back["hist"][1] == (1, None, True) and back["hist"][0].tolist() == [0.0]
    assert back[3]["x"].tolist() == [1.0]
    with pytest.raises(TypeError, match="cannot save an object of type object"):
        ember.save({"bad": object()}, tmp_path / "x.st")
    with pytest.raises(TypeError, match="dict keys"):
        ember.save({(1, 2): ember.ones(1)}, tmp_path / "x.st")
    assert not (tmp_path / "x.st").exists()


def test_interop_with_safetensors_package(tmp_path):
    from safetensors.numpy import load_file, save_file
    sd = {"a": ember.randn(2, 3), "b": ember.arange(5), "c": ember.ones(2).to(ember.float16)}
    ember.save(sd, tmp_path / "e.safetensors")
    got = load_file(str(tmp_path / "e.safetensors"))
    for k, v in sd.items():
        np.testing.assert_array_equal(got[k], v.numpy())
    save_file({"x": np.arange(6, dtype=np.int32).reshape(2, 3),
               "y": np.ones((2,), dtype=np.float64)}, str(tmp_path / "o.safetensors"))
    mine = ember.load(tmp_path / "o.safetensors")
    assert mine["x"].dtype == ember.int32 and mine["x"].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert mine["y"].dtype == ember.float64
    # Nested objects are still plain safetensors files: their tensors by dotted path.
    ember.save({"opt": {"state": {0: {"m": ember.ones(2)}}}}, tmp_path / "n.safetensors")
    assert list(load_file(str(tmp_path / "n.safetensors"))) == ["opt.state.0.m"]
    # torch's safetensors loader agrees too.
    from safetensors.torch import load_file as torch_load
    assert torch.equal(torch_load(str(tmp_path / "e.safetensors"))["b"], torch.arange(5))


def test_file_objects(tmp_path):
    import io
    buf = io.BytesIO()
    ember.save({"w": ember.ones(3)}, buf)
    buf.seek(0)
    assert ember.load(buf)["w"].tolist() == [1.0, 1.0, 1.0]


def test_atomic_write_keeps_old_file(tmp_path, monkeypatch):
    path = tmp_path / "ck.st"
    ember.save({"w": ember.ones(2)}, path)
    before = path.read_bytes()

    def boom(fd):
        raise OSError("disk full")
    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError, match="disk full"):
        ember.save({"w": ember.zeros(1000)}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ck.st"]


def good_file(tmp_path):
    ember.save({"w": ember.arange(6.0).reshape(2, 3)}, tmp_path / "g.st")
    return (tmp_path / "g.st").read_bytes()


def rewrite_header(data, fn):
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    fn(header)
    h = json.dumps(header).encode()
    return len(h).to_bytes(8, "little") + h + data[8 + n:]


HOSTILE = {
    "empty": lambda d: b"",
    "short": lambda d: d[:5],
    "truncated-data": lambda d: d[:-4],
    "header-past-end": lambda d: (len(d)).to_bytes(8, "little") + d[8:],
    "huge-header-length": lambda d: (2 ** 63).to_bytes(8, "little") + d[8:],
    "not-json": lambda d: (4).to_bytes(8, "little") + b"{{{{",
    "json-list": lambda d: (2).to_bytes(8, "little") + b"[]",
    "unknown-dtype": lambda d: rewrite_header(d, lambda h: h["w"].update(dtype="F128")),
    "offsets-out-of-range": lambda d: rewrite_header(
        d, lambda h: h["w"].update(data_offsets=[0, 10 ** 12])),
    "negative-offset": lambda d: rewrite_header(
        d, lambda h: h["w"].update(data_offsets=[-8, 16])),
    "offsets-shape-mismatch": lambda d: rewrite_header(d, lambda h: h["w"].update(shape=[5, 3])),
    "bad-shape": lambda d: rewrite_header(d, lambda h: h["w"].update(shape=[-2, -3])),
    "bad-entry": lambda d: rewrite_header(d, lambda h: h.update(w=7)),
    "bad-metadata": lambda d: rewrite_header(d, lambda h: h.update(__metadata__={"a": 1})),
    "bad-structure": lambda d: rewrite_header(
        d, lambda h: h.update(__metadata__={"ember.structure": '{"t": "nope"}'})),
    "structure-not-json": lambda d: rewrite_header(
        d, lambda h: h.update(__metadata__={"ember.structure": "{"})),
    "deep-structure": lambda d: rewrite_header(
        d, lambda h: h.update(__metadata__={"ember.structure": '{"l": [' * 5000 + "]}" * 5000})),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_files_raise_clear_errors(tmp_path, case):
    data = HOSTILE[case](good_file(tmp_path))
    p = tmp_path / "h.st"
    p.write_bytes(data)
    with pytest.raises(ValueError, match=r"ember\.load: .*h\.st: "):
        ember.load(p)


def test_load_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        ember.load(tmp_path / "nope.st")


# ---------------------------------------------------------------------------------------------
# End to end: LeNet-5 on a slice of real Fashion-MNIST

@pytest.mark.skipif(not HAVE_FMNIST, reason="dataset-fashion-mnist is not installed")
def test_lenet_fashion_mnist_short_run():
    sys.path.insert(0, os.path.join(REPO, "examples"))
    try:
        import lenet_fashion_mnist as ex
    finally:
        sys.path.pop(0)
    logs = []
    model, acc = ex.train(epochs=1, num_train=6400, num_test=2000, batch_size=32, lr=0.05,
                          log=logs.append, optimizer="sgd")
    # 200 steps on 6400 images: well above chance (10%); the full 2-epoch run reaches 0.89.
    assert acc > 0.70, logs
    model, acc = ex.train(epochs=1, num_train=6400, num_test=2000, batch_size=64, lr=0.05,
                          log=logs.append, model="mlp", optimizer="sgd")
    assert acc > 0.70, logs
    model, acc = ex.train(epochs=1, num_train=6400, num_test=2000, log=logs.append)  # AdamW
    assert acc > 0.70, logs


@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "int64"])
def test_save_non_contiguous_views(tmp_path, dtype):
    base = ember.arange(24).reshape(4, 6).to(getattr(ember, dtype))
    views = {"t": base.t(), "slice": base[1:, ::2], "row": base[2]}
    ember.save(views, tmp_path / "v.st")
    back = ember.load(tmp_path / "v.st", map_location="cpu")
    for k, v in views.items():
        assert back[k].shape == v.shape and back[k].dtype == v.dtype
        assert back[k].tolist() == v.tolist()


def test_normalize_caches_its_statistics_per_dtype():
    from ember.datasets import transforms
    norm = transforms.Normalize((0.5, 0.25), (2.0, 4.0))
    x = np.random.default_rng(0).standard_normal((2, 3, 3))
    want = (x - np.array([0.5, 0.25])[:, None, None]) / np.array([2.0, 4.0])[:, None, None]
    for _ in range(2):  # the second call reuses the cached mean/std
        for dt in (ember.float32, ember.float64):
            got = norm(ember.tensor(x, dtype=dt))
            assert got.dtype == dt
            np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)
    with pytest.raises(ValueError, match="std evaluated to zero"):
        transforms.Normalize((0.0,), (0.0,))(ember.ones(1, 2, 2))


def test_tuple_samples_collate_into_a_list_as_torch():
    # A tuple batch made ported code that assigns batch[0] = batch[0].to(device) fail.
    import torch.utils.data as tud
    samples = [(ember.tensor([float(i)]), i) for i in range(3)]
    got = ember.utils.data.default_collate(samples)
    want = tud.default_collate([(torch.tensor([float(i)]), i) for i in range(3)])
    assert type(got) is type(want) is list
    got[0] = got[0] * 2
    np.testing.assert_array_equal(got[0].numpy(), want[0].numpy() * 2)
    np.testing.assert_array_equal(got[1].numpy(), want[1].numpy())


def test_save_and_load_keep_parameters_and_requires_grad():
    # They came back as plain tensors that do not require grad (torch restores both), so a
    # reloaded list of learned tensors silently stopped training.
    import io
    buf = io.BytesIO()
    ember.save({"p": ember.nn.Parameter(ember.ones(2)), "r": ember.ones(2, requires_grad=True),
                "f": ember.nn.Parameter(ember.ones(1), requires_grad=False), "n": ember.ones(2),
                "nested": [ember.nn.Parameter(ember.zeros(3))]}, buf)
    buf.seek(0)
    got = ember.load(buf)
    assert isinstance(got["p"], ember.nn.Parameter) and got["p"].requires_grad
    assert not isinstance(got["r"], ember.nn.Parameter) and got["r"].requires_grad
    assert isinstance(got["f"], ember.nn.Parameter) and not got["f"].requires_grad
    assert not got["n"].requires_grad
    assert isinstance(got["nested"][0], ember.nn.Parameter) and got["nested"][0].requires_grad
    # a module's state_dict holds detached tensors, as torch's
    buf = io.BytesIO()
    ember.save(ember.nn.Linear(2, 2).state_dict(), buf)
    buf.seek(0)
    assert not any(t.requires_grad for t in ember.load(buf).values())


def test_loading_a_torch_checkpoint_says_what_it_is(tmp_path):
    # It failed with "header length ... larger than the limit (corrupt or not a safetensors file)".
    for name, kw in (("new.pt", {}), ("old.pt", {"_use_new_zipfile_serialization": False})):
        torch.save({"a": torch.ones(2)}, tmp_path / name, **kw)
        with pytest.raises(ValueError, match="PyTorch checkpoint .*safetensors"):
            ember.load(tmp_path / name)
