#include "ember/runtime/ThreadPool.h"

#include "ember/runtime/Error.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace ember {
namespace {

thread_local bool t_in_parallel = false;

class Pool {
public:
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
  }

  int threads() const { return threads_.load(); }

  void resize(int n) {
    EMBER_CHECK(n >= 1, Value, "ember.set_num_threads", "the number of threads must be at least 1, got ", n);
    threads_ = n;
  }

  void run(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
    const int64_t chunks = std::min<int64_t>(threads_.load(), (n + grain - 1) / grain);
    if (chunks <= 1 || t_in_parallel) return fn(0, n);
    std::lock_guard<std::mutex> serial(run_mu_); // one parallel region at a time
    ensure_workers(static_cast<int>(chunks) - 1);
    auto job = std::make_shared<Job>(fn, n, chunks);
    {
      std::lock_guard<std::mutex> lock(mu_);
      job_ = job;
      ++generation_;
    }
    wake_.notify_all();
    work(*job);
    std::unique_lock<std::mutex> lock(mu_);
    finished_.wait(lock, [&] { return job->done == job->chunks; });
    job_.reset();
  }

private:
  // One parallel region. Workers hold it by shared_ptr, so one that wakes late only finds its
  // chunks all taken and never touches the next region's.
  struct Job {
    Job(const std::function<void(int64_t, int64_t)>& f, int64_t n_, int64_t c)
        : fn(f), n(n_), chunks(c) {}
    const std::function<void(int64_t, int64_t)>& fn;
    const int64_t n, chunks;
    std::atomic<int64_t> next{0};
    int64_t done = 0; // guarded by the pool's mutex
  };

  void ensure_workers(int count) {
    while (static_cast<int>(workers_.size()) < count)
      workers_.emplace_back([this] { loop(); });
  }

  // Takes chunks until none is left; chunk c is [c*n/chunks, (c+1)*n/chunks).
  void work(Job& job) {
    t_in_parallel = true;
    for (;;) {
      const int64_t c = job.next.fetch_add(1);
      if (c >= job.chunks) break;
      job.fn(c * job.n / job.chunks, (c + 1) * job.n / job.chunks);
      std::lock_guard<std::mutex> lock(mu_);
      if (++job.done == job.chunks) finished_.notify_one();
    }
    t_in_parallel = false;
  }

  void loop() {
    uint64_t seen = 0;
    for (;;) {
      std::shared_ptr<Job> job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
        job = job_;
      }
      if (job) work(*job);
    }
  }

  std::atomic<int> threads_{static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))};
  std::vector<std::thread> workers_;
  std::mutex mu_, run_mu_;
  std::condition_variable wake_, finished_;
  std::shared_ptr<Job> job_;
  uint64_t generation_ = 0;
  bool stop_ = false;
};

Pool& pool() {
  static Pool* p = new Pool(); // never destroyed: workers may outlive static destruction order
  return *p;
}

} // namespace

void set_num_threads(int n) { pool().resize(n); }
int get_num_threads() { return pool().threads(); }

void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  pool().run(n, std::max<int64_t>(grain, 1), fn);
}

} // namespace ember
