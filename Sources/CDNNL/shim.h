// oneDNN's C interface for Swift (Debian's libdnnl-dev, which ships no pkg-config file), and the one call of its
// OpenMP runtime Conflux needs: each worker thread runs oneDNN on one thread of its own.
#ifndef CONFLUX_CDNNL_SHIM_H
#define CONFLUX_CDNNL_SHIM_H

#include <dnnl.h>

void omp_set_num_threads(int count);

#endif
