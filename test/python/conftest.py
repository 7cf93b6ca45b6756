import atexit
import os
import shutil
import tempfile

import pytest

# Compiled code goes to a disk cache (EMBER_CACHE_DIR): the tests use their own, fresh per run,
# so a run never reuses code that an earlier build compiled, and nothing leaks into ~/.cache.
if "EMBER_CACHE_DIR" not in os.environ:
    _cache = tempfile.mkdtemp(prefix="ember-test-cache-")
    os.environ["EMBER_CACHE_DIR"] = _cache
    atexit.register(shutil.rmtree, _cache, ignore_errors=True)

import ember  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("markers", "gpu: needs a CUDA GPU; skipped cleanly where none is present")


def pytest_collection_modifyitems(config, items):
    if ember.cuda.is_available():
        return
    skip = pytest.mark.skip(reason=f"no GPU: {ember.cuda.unavailable_reason()}")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
