/* onnx_load.h — read an ONNX ModelProto (protobuf-c, code generated from Debian's
 * onnx.proto at build time) into baleen's graph IR (models/graph.h).
 *
 * Defines: bl_onnx_load(), bl_onnx_load_buffer(), bl_model_load(), bl_model_resolve_path().
 * Accepts default-domain opsets 11 to 21, tensors stored inline or as external data
 * (location relative to the model's folder, never escaping it; offset/length checked against
 * the data file's size). Everything read from the file is validated: unsupported ops name
 * the op, the node and the supported list; malformed or hostile files fail with
 * BL_ERR_MODEL and a message, never a crash.
 *
 * Threading: no shared state; each call builds its own graph.
 */
#ifndef BL_ONNX_LOAD_H
#define BL_ONNX_LOAD_H

#include <stddef.h>

#include "core/error.h"   /* bl_status */
#include "models/graph.h" /* bl_graph */

#define BL_ONNX_OPSET_MIN 11
#define BL_ONNX_OPSET_MAX 21
/* Largest model file read (protobuf's own 2 GiB message limit). */
#define BL_ONNX_MAX_FILE_BYTES (INT64_C(2) << 30)

/* Turn MODEL (a .onnx file, or a folder holding model.onnx) into the .onnx path, written
 * to out (cap bytes). BL_ERR_NOT_FOUND when neither exists. */
bl_status bl_model_resolve_path(const char *model, char *out, size_t cap);

/* Parse the .onnx file at `path` into a new graph (topologically sorted and validated, but
 * not yet shape-inferred nor rewritten: call bl_graph_prepare()). *out owns everything. */
bl_status bl_onnx_load(const char *path, bl_graph **out);

/* Same from memory. `base_dir` is the folder external data is relative to; NULL forbids
 * external data. `what` names the source in messages (e.g. a file name). */
bl_status bl_onnx_load_buffer(const void *data, size_t size, const char *base_dir, const char *what,
                              bl_graph **out);

/* bl_model_resolve_path + bl_onnx_load + bl_graph_prepare(opts, or the defaults when NULL). */
bl_status bl_model_load(const char *model, const bl_prepare_opts *opts, bl_graph **out);

#endif
