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


@pytest.fixture(params=[1, 2])
def threads(request):
    """Runs the test at 1 and at 2 threads (restoring the count after)."""
    old = ember.get_num_threads()
    ember.set_num_threads(request.param)
    yield request.param
    ember.set_num_threads(old)
