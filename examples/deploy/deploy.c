/* Deploys the Fashion-MNIST model (LeNet-5 in the demo, or an MLP) compiled by ember-compile
 * (--name fmnist): reads the test set (the IDX files, gunzipped through `gzip -dc`), normalises
 * the images as the training script does, runs the model batch by batch through its C API and
 * prints the accuracy and latency.
 *
 *   cc deploy.c -I OUT -L OUT -lfmnist -lm -o deploy && LD_LIBRARY_PATH=OUT ./deploy [DATA_DIR]
 */
#include "fmnist.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static unsigned char* read_idx(const char* dir, const char* name, int64_t* count, int64_t* item) {
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "gzip -dc '%s/%s'", dir, name);
  FILE* f = popen(cmd, "r");
  if (!f) return NULL;
  unsigned char head[4];
  if (fread(head, 1, 4, f) != 4 || head[0] || head[1] || head[2] != 8) { pclose(f); return NULL; }
  int ndim = head[3];
  int64_t dims[4] = {1, 1, 1, 1}, total = 1;
  for (int d = 0; d < ndim && d < 4; ++d) {
    unsigned char b[4];
    if (fread(b, 1, 4, f) != 4) { pclose(f); return NULL; }
    dims[d] = ((int64_t)b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3];
    total *= dims[d];
  }
  unsigned char* data = malloc((size_t)total);
  if (!data || fread(data, 1, (size_t)total, f) != (size_t)total) { free(data); pclose(f); return NULL; }
  pclose(f);
  *count = dims[0];
  *item = total / dims[0];
  return data;
}

int main(int argc, char** argv) {
  const char* dir = argc > 1 ? argv[1] : "/usr/share/datasets/fashion-mnist";
  int64_t n = 0, pixels = 0, nl = 0, one = 0;
  unsigned char* images = read_idx(dir, "t10k-images-idx3-ubyte.gz", &n, &pixels);
  unsigned char* labels = read_idx(dir, "t10k-labels-idx1-ubyte.gz", &nl, &one);
  if (!images || !labels || n != nl) {
    fprintf(stderr, "cannot read the Fashion-MNIST test set from %s\n", dir);
    return 1;
  }
  /* [batch, 784] (an MLP) or [batch, 1, 28, 28] (LeNet): the pixels per image either way. */
  const int64_t batch = fmnist_input_shape(0)[0], classes = fmnist_output_shape(0)[1];
  int64_t per_image = 1;
  for (int64_t d = 1; d < fmnist_input_rank(0); ++d) per_image *= fmnist_input_shape(0)[d];
  if (per_image != pixels) {
    fprintf(stderr, "the model takes %lld pixels per image, the data has %lld\n",
            (long long)per_image, (long long)pixels);
    return 1;
  }
  fmnist_session* s = fmnist_create();
  float* x = malloc((size_t)(batch * pixels) * sizeof(float));
  if (!s || !x) return 1;
  int64_t correct = 0, seen = 0;
  double seconds = 0;
  for (int64_t start = 0; start + batch <= n; start += batch) {
    for (int64_t i = 0; i < batch * pixels; ++i)
      x[i] = (images[start * pixels + i] / 255.0f - 0.2860f) / 0.3530f;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (fmnist_set_input(s, fmnist_input_name(0), x) || fmnist_run(s)) {
      fprintf(stderr, "run failed: %s\n", fmnist_last_error(s));
      return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    seconds += (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
    const float* logits = fmnist_get_output(s, fmnist_output_name(0));
    for (int64_t i = 0; i < batch; ++i) {
      int64_t best = 0;
      for (int64_t c = 1; c < classes; ++c)
        if (logits[i * classes + c] > logits[i * classes + best]) best = c;
      correct += best == labels[start + i];
    }
    seen += batch;
  }
  printf("deployed (C): accuracy %.4f on %lld test images, %.3f ms per batch of %lld\n",
         (double)correct / (double)seen, (long long)seen, seconds * 1e3 / (double)(seen / batch),
         (long long)batch);
  fmnist_destroy(s);
  free(x);
  free(images);
  free(labels);
  return 0;
}
