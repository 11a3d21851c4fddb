// MPI's C interface for Swift: mpi.h, and its handles, which are macros Swift cannot import, as functions.
#ifndef CONFLUX_CMPI_SHIM_H
#define CONFLUX_CMPI_SHIM_H

#include <mpi.h>

static inline MPI_Comm cmpi_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype cmpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype cmpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype cmpi_byte(void) { return MPI_BYTE; }
static inline MPI_Datatype cmpi_int(void) { return MPI_INT; }
static inline MPI_Op cmpi_sum(void) { return MPI_SUM; }
static inline void *cmpi_in_place(void) { return MPI_IN_PLACE; }
static inline int cmpi_thread_serialized(void) { return MPI_THREAD_SERIALIZED; }
static inline MPI_Status *cmpi_status_ignore(void) { return MPI_STATUS_IGNORE; }

/// The largest tag a message may carry in the world communicator (at least 32767).
static inline int cmpi_tag_upper_bound(void) {
    int *bound = 0;
    int found = 0;
    MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_TAG_UB, &bound, &found);
    return found && bound ? *bound : 32767;
}

#endif
