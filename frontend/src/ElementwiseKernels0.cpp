// Elementwise kernels, part 0 of ElementwiseKernels.h's split.
#define EMBER_PART 0
#define EMBER_PART_FN elementwise_part0
#include "ElementwiseKernels.inc"
