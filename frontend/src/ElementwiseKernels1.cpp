// Elementwise kernels, part 1 of ElementwiseKernels.h's split.
#define EMBER_PART 1
#define EMBER_PART_FN elementwise_part1
#include "ElementwiseKernels.inc"
