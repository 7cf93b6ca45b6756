// Elementwise kernels, part 2 of ElementwiseKernels.h's split.
#define EMBER_PART 2
#define EMBER_PART_FN elementwise_part2
#include "ElementwiseKernels.inc"
