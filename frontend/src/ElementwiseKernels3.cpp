// Elementwise kernels, part 3 of ElementwiseKernels.h's split.
#define EMBER_PART 3
#define EMBER_PART_FN elementwise_part3
#include "ElementwiseKernels.inc"
