/* npy.h — NumPy .npy files (format 1.0), float32 little-endian, C order.
 *
 * Defines bl_npy_write_f32() (whole array or streamed), bl_npy_format_header(),
 * bl_npy_read_f32().
 * Threading: no shared state.
 */
#ifndef BL_NPY_H
#define BL_NPY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../core/error.h"

#define BL_NPY_MAX_DIMS 8

/* Longest header bl_npy_format_header writes (8 dims of 20 digits fit with room). */
#define BL_NPY_HEADER_MAX 640
/* Format the header of a float32 array of `ndim` dims into buf[0..cap) (cap >=
 * BL_NPY_HEADER_MAX always suffices); *len is its length, a multiple of 64, where the
 * data starts. For writers that place the data themselves (pwrite at computed offsets). */
bl_status bl_npy_format_header(unsigned char *buf, size_t cap, const size_t *shape, int ndim,
                               size_t *len);
/* Write a header for a float32 array of `ndim` dims to `f`. The caller then writes the
 * prod(shape) float32 values. */
bl_status bl_npy_write_header(FILE *f, const size_t *shape, int ndim);
/* Write a whole float32 array to `path` atomically (temporary name, then rename). */
bl_status bl_npy_write_f32(const char *path, const float *data, const size_t *shape, int ndim);
/* Read a float32 (<f4, C order) .npy. *data is malloc'ed, owned by the caller. */
bl_status bl_npy_read_f32(const char *path, float **data, size_t *shape, int *ndim);
/* Parse the header held in buf[0..len): for the fuzz target and bl_npy_read_f32. On success
 * *header_len is the offset of the data. */
bl_status bl_npy_parse_header(const unsigned char *buf, size_t len, size_t *shape, int *ndim,
                              size_t *header_len);

#endif
