/* onnx_load.c — ONNX ModelProto → graph IR (models/onnx_load.h).
 *
 * Owns: the unpacked protobuf message while a graph is built (freed before returning), and
 * copies of every tensor payload (inline, typed fields or external data) in the new graph.
 * The protobuf parsing itself is protobuf-c's, from code generated at build time out of
 * Debian's onnx.proto (models/onnx.cmake). Everything read is checked here: counts, sizes,
 * element caps, names, opsets, attribute types; nothing in the file is trusted.
 *
 * Assumes a little-endian host (ONNX raw_data is little-endian; x86-64 and arm64 are).
 * Threading: no shared state.
 */
#include "models/onnx_load.h"

#include <errno.h>     /* errno for open/read failures */
#include <inttypes.h>  /* PRId64 */
#include <limits.h>    /* PATH_MAX */
#include <stdio.h>     /* FILE, fopen, snprintf */
#include <stdlib.h>    /* malloc, free, realpath, strtoll */
#include <string.h>    /* strcmp, strlen, strerror, memcpy */
#include <sys/stat.h>  /* stat: model folders */
#include <unistd.h>    /* close */

#include "core/infile.h" /* model files: opened without blocking, size checked first */
#include "onnx.pb-c.h"    /* generated at build time by protoc-c from onnx.proto */

static const char *str0(const char *s) { return s ? s : ""; }

/* ---- whole-file reads -------------------------------------------------------------- */

static bl_status read_file(const char *path, uint8_t **data, size_t *size) {
    *data = NULL;
    *size = 0;
    char *buf = NULL;
    bl_status s = bl_infile_read_all(path, "model", BL_ONNX_MAX_FILE_BYTES, &buf, size);
    if (s == BL_ERR_RANGE)
        return BL_ERROR(BL_ERR_MODEL, "%s: above protobuf's 2 GiB limit; store the weights as external data",
                        bl_error_message());
    BL_TRY(s);
    if (*size == 0) {
        free(buf);
        return BL_ERROR(BL_ERR_MODEL, "model %s is empty (0 bytes): not an ONNX file (was the export or the "
                        "download cut short?)", path);
    }
    *data = (uint8_t *)buf;
    return BL_OK;
}

/* ---- tensors ----------------------------------------------------------------------- */

typedef struct {
    const char *base_dir; /* folder external data is relative to, or NULL */
    const char *what;     /* model name for messages */
} load_ctx;

static bool dtype_supported(int32_t dt) {
    switch (dt) {
    case BL_DT_FLOAT: case BL_DT_UINT8: case BL_DT_INT8: case BL_DT_INT32:
    case BL_DT_INT64: case BL_DT_BOOL: case BL_DT_DOUBLE:
        return true;
    default:
        return false;
    }
}

/* Checks dims (non-negative, rank <= BL_MAX_RANK, product <= BL_MAX_TENSOR_ELEMS). */
static bl_status check_dims(const char *name, size_t n_dims, const int64_t *dims, int64_t *numel) {
    BL_RETURN_IF(n_dims > BL_MAX_RANK, BL_ERR_MODEL, "tensor '%s' has rank %zu, more than %d", name, n_dims,
                 BL_MAX_RANK);
    int64_t e = 1;
    for (size_t i = 0; i < n_dims; i++) {
        BL_RETURN_IF(dims[i] < 0, BL_ERR_MODEL, "tensor '%s' has a negative dimension (%" PRId64 " at axis %zu)",
                     name, dims[i], i);
        if (dims[i] == 0) e = 0;
        else BL_RETURN_IF(e > BL_MAX_TENSOR_ELEMS / dims[i], BL_ERR_MODEL,
                          "tensor '%s' is too large (more than 2^31 elements)", name);
        e *= dims[i];
    }
    *numel = e;
    return BL_OK;
}

static bool path_component_is_dotdot(const char *p) {
    for (const char *c = p; *c;) {
        const char *end = strchr(c, '/');
        size_t len = end ? (size_t)(end - c) : strlen(c);
        if (len == 2 && c[0] == '.' && c[1] == '.') return true;
        if (!end) break;
        c = end + 1;
    }
    return false;
}

static bl_status parse_size(const char *tname, const char *key, const char *v, int64_t *out) {
    char *end = NULL;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    BL_RETURN_IF(!v[0] || *end || errno || x < 0, BL_ERR_MODEL,
                 "tensor '%s': external data %s '%s' is not a non-negative integer", tname, key, v);
    *out = (int64_t)x;
    return BL_OK;
}

static bl_status read_external(const load_ctx *cx, const Onnx__TensorProto *tp, const char *tname,
                               size_t want, void *dst) {
    const char *loc = NULL, *off_s = NULL, *len_s = NULL;
    for (size_t i = 0; i < tp->n_external_data; i++) {
        const Onnx__StringStringEntryProto *e = tp->external_data[i];
        const char *k = str0(e->key);
        if (!strcmp(k, "location")) loc = str0(e->value);
        else if (!strcmp(k, "offset")) off_s = str0(e->value);
        else if (!strcmp(k, "length")) len_s = str0(e->value);
    }
    BL_RETURN_IF(!cx->base_dir, BL_ERR_MODEL,
                 "tensor '%s' is stored as external data, which needs the model loaded from a file", tname);
    BL_RETURN_IF(!loc || !loc[0], BL_ERR_MODEL, "tensor '%s': external data without a 'location'", tname);
    BL_RETURN_IF(loc[0] == '/' || path_component_is_dotdot(loc), BL_ERR_MODEL,
                 "tensor '%s': external data location '%s' must be a relative path inside the model's "
                 "folder (no leading '/', no '..')", tname, loc);
    int64_t off = 0, len = -1;
    if (off_s) BL_TRY(parse_size(tname, "offset", off_s, &off));
    if (len_s) BL_TRY(parse_size(tname, "length", len_s, &len));
    char full[PATH_MAX], real_dir[PATH_MAX], real_file[PATH_MAX];
    BL_RETURN_IF((size_t)snprintf(full, sizeof full, "%s/%s", cx->base_dir, loc) >= sizeof full, BL_ERR_MODEL,
                 "tensor '%s': external data path too long", tname);
    BL_RETURN_IF(!realpath(cx->base_dir, real_dir), BL_ERR_IO, "cannot resolve model folder '%s': %s",
                 cx->base_dir, strerror(errno));
    BL_RETURN_IF(!realpath(full, real_file), BL_ERR_MODEL,
                 "tensor '%s': external data file '%s' cannot be opened: %s (it must sit next to the model)",
                 tname, full, strerror(errno));
    size_t dl = strlen(real_dir);
    BL_RETURN_IF(strncmp(real_file, real_dir, dl) != 0 || (real_file[dl] != '/' && real_dir[dl - 1] != '/'),
                 BL_ERR_MODEL, "tensor '%s': external data '%s' resolves outside the model's folder (symlink?)",
                 tname, loc);
    int fd = -1;
    int64_t fsize = 0;
    if (bl_infile_open(real_file, "external data file", &fd, &fsize) != BL_OK)
        return BL_ERROR(BL_ERR_MODEL, "tensor '%s': %s", tname, bl_error_message());
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        close(fd);
        return BL_ERROR(BL_ERR_IO, "tensor '%s': cannot read external data '%s': %s", tname, full, strerror(errno));
    }
    if (len < 0) len = off <= fsize ? fsize - off : -1;
    bl_status st = BL_OK;
    if (off > fsize || len < 0 || len > fsize - off) {
        st = BL_ERROR(BL_ERR_MODEL,
                      "tensor '%s': external data range offset %" PRId64 " length %" PRId64
                      " lies outside '%s' (%" PRId64 " bytes): the data file is truncated or does not match",
                      tname, off, len, full, fsize);
    } else if ((uint64_t)len != (uint64_t)want) {
        st = BL_ERROR(BL_ERR_MODEL, "tensor '%s': external data length %" PRId64 " does not match its shape (%zu bytes)",
                      tname, len, want);
    } else if (fseeko(f, (off_t)off, SEEK_SET) != 0 || fread(dst, 1, want, f) != want) {
        st = BL_ERROR(BL_ERR_IO, "tensor '%s': short read of external data '%s'", tname, full);
    }
    fclose(f);
    return st;
}

/* Decode a TensorProto into dtype/dims and a malloc'ed row-major payload. */
static bl_status tensor_from_proto(const load_ctx *cx, const Onnx__TensorProto *tp, const char *tname,
                                   bl_dtype *dtype, int *rank, int64_t *dims, void **data, size_t *nbytes) {
    *data = NULL;
    int32_t dt = tp->has_data_type ? tp->data_type : 0;
    BL_RETURN_IF(!dtype_supported(dt), BL_ERR_MODEL,
                 "tensor '%s' has element type %d, which baleen does not support (float32, float64, int8, "
                 "uint8, int32, int64, bool): export the model in float32", tname, (int)dt);
    BL_RETURN_IF(tp->segment, BL_ERR_MODEL, "tensor '%s' is segmented, which is not supported", tname);
    int64_t numel = 0;
    BL_TRY(check_dims(tname, tp->n_dims, tp->dims, &numel));
    size_t es = bl_dtype_size((bl_dtype)dt);
    size_t want = (size_t)numel * es;
    uint8_t *buf = malloc(want ? want : 1);
    BL_RETURN_IF(!buf, BL_ERR_NOMEM, "out of memory for tensor '%s' (%zu bytes)", tname, want);
    bl_status st = BL_OK;
    size_t n = (size_t)numel;
    if (tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) {
        st = read_external(cx, tp, tname, want, buf);
    } else if (tp->has_raw_data) {
        if (tp->raw_data.len != want)
            st = BL_ERROR(BL_ERR_MODEL, "tensor '%s': raw_data holds %zu bytes but its shape needs %zu", tname,
                          tp->raw_data.len, want);
        else if (want) memcpy(buf, tp->raw_data.data, want);
    } else if (dt == BL_DT_FLOAT && tp->n_float_data) {
        if (tp->n_float_data != n) st = BL_ERROR(BL_ERR_MODEL, "tensor '%s': %zu float values for %zu elements", tname, tp->n_float_data, n);
        else memcpy(buf, tp->float_data, want);
    } else if (dt == BL_DT_INT64 && tp->n_int64_data) {
        if (tp->n_int64_data != n) st = BL_ERROR(BL_ERR_MODEL, "tensor '%s': %zu int64 values for %zu elements", tname, tp->n_int64_data, n);
        else memcpy(buf, tp->int64_data, want);
    } else if (dt == BL_DT_DOUBLE && tp->n_double_data) {
        if (tp->n_double_data != n) st = BL_ERROR(BL_ERR_MODEL, "tensor '%s': %zu double values for %zu elements", tname, tp->n_double_data, n);
        else memcpy(buf, tp->double_data, want);
    } else if ((dt == BL_DT_INT32 || dt == BL_DT_INT8 || dt == BL_DT_UINT8 || dt == BL_DT_BOOL) && tp->n_int32_data) {
        if (tp->n_int32_data != n) {
            st = BL_ERROR(BL_ERR_MODEL, "tensor '%s': %zu int32 values for %zu elements", tname, tp->n_int32_data, n);
        } else {
            for (size_t i = 0; i < n; i++) {
                int32_t v = tp->int32_data[i];
                if (dt == BL_DT_INT32) memcpy(buf + 4 * i, &v, 4);
                else if (dt == BL_DT_INT8) ((int8_t *)buf)[i] = (int8_t)v;
                else buf[i] = (uint8_t)v;
            }
        }
    } else if (n != 0) {
        st = BL_ERROR(BL_ERR_MODEL, "tensor '%s' (%zu elements) carries no data of its type %s", tname, n,
                      bl_dtype_name((bl_dtype)dt));
    }
    if (st != BL_OK) {
        free(buf);
        return st;
    }
    *dtype = (bl_dtype)dt;
    *rank = (int)tp->n_dims;
    for (size_t i = 0; i < tp->n_dims; i++) dims[i] = tp->dims[i];
    *data = buf;
    *nbytes = want;
    return BL_OK;
}

/* ---- graph inputs ------------------------------------------------------------------ */

static bl_status add_input(bl_graph *g, const Onnx__ValueInfoProto *vi) {
    const char *name = str0(vi->name);
    BL_RETURN_IF(!name[0], BL_ERR_MODEL, "a graph input has no name");
    const Onnx__TypeProto *tp = vi->type;
    BL_RETURN_IF(!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type, BL_ERR_MODEL,
                 "graph input '%s' is not a tensor (sequences, maps and sparse inputs are not supported)", name);
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    int32_t dt = tt->has_elem_type ? tt->elem_type : 0;
    BL_RETURN_IF(!dtype_supported(dt), BL_ERR_MODEL, "graph input '%s' has unsupported element type %d", name, (int)dt);
    BL_RETURN_IF(!tt->shape, BL_ERR_MODEL,
                 "graph input '%s' has no shape: export with a fixed example input (only the batch may vary)", name);
    BL_RETURN_IF(tt->shape->n_dim > BL_MAX_RANK, BL_ERR_MODEL, "graph input '%s' has rank %zu, more than %d", name,
                 tt->shape->n_dim, BL_MAX_RANK);
    int64_t dims[BL_MAX_RANK];
    int rank = (int)tt->shape->n_dim;
    int64_t numel = 1;
    for (int i = 0; i < rank; i++) {
        const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
        /* dim_value 0 is a real empty dimension (ONNX); only a dim_param or an unset
         * dimension is symbolic */
        bool symbolic = d->value_case != ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        if (symbolic) {
            BL_RETURN_IF(i != 0, BL_ERR_MODEL,
                         "graph input '%s': dimension %d is symbolic ('%s'); only the batch dimension (0) may "
                         "vary: re-export without that dynamic axis", name, i,
                         d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM ? str0(d->dim_param) : "?");
            dims[i] = BL_DIM_N;
            continue;
        }
        BL_RETURN_IF(d->dim_value < 0, BL_ERR_MODEL, "graph input '%s' has a negative dimension (%" PRId64 " at axis %d)",
                     name, d->dim_value, i);
        BL_RETURN_IF(d->dim_value && numel > BL_MAX_TENSOR_ELEMS / d->dim_value, BL_ERR_MODEL,
                     "graph input '%s' is too large (more than 2^31 elements per item)", name);
        numel *= d->dim_value;
        dims[i] = d->dim_value;
    }
    int idx;
    BL_TRY(bl_graph_add_tensor(g, name, (bl_dtype)dt, rank, dims, NULL, 0, &idx));
    g->tensors[idx].flags |= BL_TENSOR_INPUT;
    int *in = realloc(g->inputs, (size_t)(g->n_inputs + 1) * sizeof *in);
    BL_CHECK_ALLOC(in);
    g->inputs = in;
    g->inputs[g->n_inputs++] = idx;
    return BL_OK;
}

/* ---- attributes and nodes ---------------------------------------------------------- */

static bl_status convert_attr(const Onnx__AttributeProto *ap, bl_op op, const char *node, bl_attr *out) {
    memset(out, 0, sizeof *out);
    const char *an = str0(ap->name);
    BL_RETURN_IF(ap->ref_attr_name && ap->ref_attr_name[0], BL_ERR_MODEL,
                 "node '%s': attribute '%s' refers to a function attribute, which is invalid in a main graph", node, an);
    const bl_attr_schema *sc = bl_op_attr_schema(op, an);
    BL_RETURN_IF(!sc, BL_ERR_MODEL, "node '%s' (%s) has attribute '%s', which %s does not define (or baleen does "
                 "not support)", node, bl_op_name(op), an, bl_op_name(op));
    int type = ap->has_type ? (int)ap->type : 0;
    BL_RETURN_IF(type != (int)sc->type, BL_ERR_MODEL,
                 "node '%s' (%s): attribute '%s' has type %d, expected %s", node, bl_op_name(op), an, type,
                 bl_attr_type_name(sc->type));
    out->type = sc->type;
    out->name = strdup(an);
    BL_CHECK_ALLOC(out->name);
    switch (sc->type) {
    case BL_ATTR_FLOAT: out->f = ap->f; break;
    case BL_ATTR_INT: out->i = ap->i; break;
    case BL_ATTR_STRING:
        out->s = malloc(ap->s.len + 1);
        BL_CHECK_ALLOC(out->s);
        if (ap->s.len) memcpy(out->s, ap->s.data, ap->s.len);
        out->s[ap->s.len] = '\0';
        BL_RETURN_IF(strlen(out->s) != ap->s.len, BL_ERR_MODEL, "node '%s': attribute '%s' holds a NUL byte", node, an);
        break;
    case BL_ATTR_FLOATS:
        out->n = ap->n_floats;
        out->floats = malloc((ap->n_floats ? ap->n_floats : 1) * sizeof(float));
        BL_CHECK_ALLOC(out->floats);
        if (ap->n_floats) memcpy(out->floats, ap->floats, ap->n_floats * sizeof(float));
        break;
    case BL_ATTR_INTS:
        out->n = ap->n_ints;
        out->ints = malloc((ap->n_ints ? ap->n_ints : 1) * sizeof(int64_t));
        BL_CHECK_ALLOC(out->ints);
        if (ap->n_ints) memcpy(out->ints, ap->ints, ap->n_ints * sizeof(int64_t));
        break;
    case BL_ATTR_TENSOR:
        BL_RETURN_IF(!ap->t, BL_ERR_MODEL, "node '%s': tensor attribute '%s' has no tensor", node, an);
        break;
    }
    return BL_OK;
}

/* A Constant node becomes its output tensor's data: it is not an executable op. */
static bl_status constant_to_tensor(const load_ctx *cx, bl_graph *g, const Onnx__NodeProto *np, const char *node) {
    BL_RETURN_IF(np->n_attribute != 1, BL_ERR_MODEL, "Constant node '%s' must have exactly one value attribute", node);
    const Onnx__AttributeProto *ap = np->attribute[0];
    bl_attr tmp;
    bl_status cs = convert_attr(ap, BL_OP_CONSTANT, node, &tmp);
    if (cs != BL_OK) {
        free(tmp.name); free(tmp.s); free(tmp.floats); free(tmp.ints);
        return cs;
    }
    bl_dtype dt = BL_DT_UNDEFINED;
    int rank = 0;
    int64_t dims[BL_MAX_RANK];
    void *data = NULL;
    size_t nbytes = 0;
    bl_status st = BL_OK;
    switch (tmp.type) {
    case BL_ATTR_TENSOR:
        st = tensor_from_proto(cx, ap->t, node, &dt, &rank, dims, &data, &nbytes);
        break;
    case BL_ATTR_FLOAT: case BL_ATTR_INT:
        dt = tmp.type == BL_ATTR_FLOAT ? BL_DT_FLOAT : BL_DT_INT64;
        nbytes = bl_dtype_size(dt);
        data = malloc(nbytes);
        if (data && dt == BL_DT_FLOAT) memcpy(data, &tmp.f, 4);
        else if (data) memcpy(data, &tmp.i, 8);
        break;
    case BL_ATTR_FLOATS: case BL_ATTR_INTS:
        dt = tmp.type == BL_ATTR_FLOATS ? BL_DT_FLOAT : BL_DT_INT64;
        rank = 1;
        dims[0] = (int64_t)tmp.n;
        nbytes = tmp.n * bl_dtype_size(dt);
        data = malloc(nbytes ? nbytes : 1);
        if (data && nbytes) memcpy(data, dt == BL_DT_FLOAT ? (void *)tmp.floats : (void *)tmp.ints, nbytes);
        break;
    case BL_ATTR_STRING:
        st = BL_ERROR(BL_ERR_MODEL, "Constant node '%s' holds strings, which are not supported", node);
        break;
    }
    free(tmp.name); free(tmp.s); free(tmp.floats); free(tmp.ints);
    if (st != BL_OK) return st;
    BL_RETURN_IF(!data, BL_ERR_NOMEM, "out of memory for Constant '%s'", node);
    const char *oname = str0(np->output[0]);
    if (!oname[0]) {
        free(data);
        return BL_ERROR(BL_ERR_MODEL, "Constant node '%s' has an empty output name", node);
    }
    return bl_graph_add_tensor(g, oname, dt, rank, dims, data, nbytes, NULL);
}

/* ConstantOfShape's `value` (a one-element tensor; float 0 when absent) becomes a constant
 * tensor appended as the node's input 1, so that no IR node carries a tensor attribute
 * (graph.h); *index receives it. */
static bl_status constant_of_shape_value(const load_ctx *cx, bl_graph *g, const Onnx__NodeProto *np,
                                         const char *node, int *index) {
    const Onnx__AttributeProto *ap = NULL;
    for (size_t a = 0; a < np->n_attribute; a++)
        if (!strcmp(str0(np->attribute[a]->name), "value")) ap = np->attribute[a];
    bl_dtype dt = BL_DT_FLOAT;
    int rank = 1;
    int64_t dims[BL_MAX_RANK] = {1};
    void *data = NULL;
    size_t nbytes = 4;
    if (ap) {
        /* convert_attr already checked the attribute's type and that it holds a tensor */
        BL_TRY(tensor_from_proto(cx, ap->t, node, &dt, &rank, dims, &data, &nbytes));
        if (nbytes != bl_dtype_size(dt)) {
            free(data);
            return BL_ERROR(BL_ERR_MODEL, "node '%s' (ConstantOfShape): value must hold exactly one element", node);
        }
    } else {
        data = calloc(1, 4);
        BL_CHECK_ALLOC(data);
    }
    char base[300];
    snprintf(base, sizeof base, "%.250s_value", node);
    return bl_graph_add_tensor_unique(g, base, dt, rank, dims, data, nbytes, index);
}

static bl_status check_opset(const Onnx__ModelProto *m, int64_t *opset) {
    bool found = false;
    for (size_t i = 0; i < m->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = m->opset_import[i];
        const char *d = str0(o->domain);
        if (d[0] && strcmp(d, "ai.onnx") != 0) continue;
        found = true;
        *opset = o->has_version ? o->version : 0;
    }
    BL_RETURN_IF(!found, BL_ERR_MODEL, "the model imports no default-domain (ai.onnx) opset");
    BL_RETURN_IF(*opset < BL_ONNX_OPSET_MIN || *opset > BL_ONNX_OPSET_MAX, BL_ERR_MODEL,
                 "the model uses ONNX opset %" PRId64 "; baleen supports opsets %d to %d: re-export with "
                 "torch.onnx.export(..., opset_version=17)", *opset, BL_ONNX_OPSET_MIN, BL_ONNX_OPSET_MAX);
    return BL_OK;
}

static bl_status build_graph(const load_ctx *cx, const Onnx__ModelProto *m, bl_graph *g) {
    BL_TRY(check_opset(m, &g->opset));
    g->ir_version = m->has_ir_version ? m->ir_version : 0;
    const Onnx__GraphProto *gp = m->graph;
    BL_RETURN_IF(!gp, BL_ERR_MODEL, "the file holds no graph (is it an ONNX model?)");
    BL_RETURN_IF(gp->n_sparse_initializer, BL_ERR_MODEL, "sparse initializers are not supported");
    BL_RETURN_IF(gp->n_output == 0, BL_ERR_MODEL, "the graph has no outputs");
    char pname[256];
    snprintf(pname, sizeof pname, "%s%s%s", str0(m->producer_name), m->producer_version ? " " : "",
             str0(m->producer_version));
    free(g->producer);
    g->producer = strdup(pname);
    BL_CHECK_ALLOC(g->producer);

    for (size_t i = 0; i < gp->n_initializer; i++) {
        const Onnx__TensorProto *tp = gp->initializer[i];
        const char *name = str0(tp->name);
        BL_RETURN_IF(!name[0], BL_ERR_MODEL, "initializer %zu has no name", i);
        bl_dtype dt;
        int rank;
        int64_t dims[BL_MAX_RANK];
        void *data;
        size_t nbytes;
        BL_TRY(tensor_from_proto(cx, tp, name, &dt, &rank, dims, &data, &nbytes));
        int idx;
        BL_TRY(bl_graph_add_tensor(g, name, dt, rank, dims, data, nbytes, &idx));
        g->tensors[idx].flags |= BL_TENSOR_INITIALIZER;
    }
    for (size_t i = 0; i < gp->n_input; i++) {
        /* Older exporters also list initializers as inputs: those are constants. */
        int t = bl_graph_find(g, str0(gp->input[i]->name));
        if (t >= 0 && (g->tensors[t].flags & BL_TENSOR_INITIALIZER)) continue;
        BL_TRY(add_input(g, gp->input[i]));
    }
    /* A graph without inputs (all constants) loads: callers that feed data (model run, the
     * scan pipeline, model cards) check the input count themselves. */

    /* Pass 1: check every node and create its outputs, so inputs can refer forward. */
    for (size_t n = 0; n < gp->n_node; n++) {
        const Onnx__NodeProto *np = gp->node[n];
        const char *type = str0(np->op_type), *dom = str0(np->domain);
        char nname[256];
        if (np->name && np->name[0]) snprintf(nname, sizeof nname, "%s", np->name);
        else snprintf(nname, sizeof nname, "%.64s_%zu", type, n);
        bl_op op = (dom[0] && strcmp(dom, "ai.onnx") != 0) ? BL_OP_NONE : bl_op_from_name(type);
        BL_RETURN_IF(op == BL_OP_NONE, BL_ERR_MODEL,
                     "node '%s' uses op '%s'%s%s%s, which baleen does not support; supported ops: %s", nname, type,
                     dom[0] ? " (domain '" : "", dom, dom[0] ? "')" : "", bl_op_supported_list());
        g->op_counts_loaded[op]++;
        const bl_op_schema *sc = bl_op_schema_get(op);
        BL_RETURN_IF((int)np->n_input < sc->min_inputs || (int)np->n_input > sc->max_inputs, BL_ERR_MODEL,
                     "node '%s' (%s) has %zu inputs, expected %d to %d", nname, type, np->n_input, sc->min_inputs,
                     sc->max_inputs);
        BL_RETURN_IF((int)np->n_output < sc->min_outputs || (int)np->n_output > sc->max_outputs, BL_ERR_MODEL,
                     "node '%s' (%s) has %zu outputs, expected %d to %d", nname, type, np->n_output,
                     sc->min_outputs, sc->max_outputs);
        if (op == BL_OP_CONSTANT) {
            BL_TRY(constant_to_tensor(cx, g, np, nname));
            continue;
        }
        for (size_t k = 0; k < np->n_output; k++) {
            const char *o = str0(np->output[k]);
            if (!o[0]) continue;
            BL_TRY(bl_graph_add_tensor(g, o, BL_DT_UNDEFINED, -1, NULL, NULL, 0, NULL));
        }
    }
    /* Pass 2: nodes with resolved inputs and parsed attributes. */
    for (size_t n = 0; n < gp->n_node; n++) {
        const Onnx__NodeProto *np = gp->node[n];
        bl_op op = bl_op_from_name(str0(np->op_type));
        if (op == BL_OP_CONSTANT) continue;
        char nname[256];
        if (np->name && np->name[0]) snprintf(nname, sizeof nname, "%s", np->name);
        else snprintf(nname, sizeof nname, "%.64s_%zu", str0(np->op_type), n);
        int ins[1024], outs[1024];
        for (size_t k = 0; k < np->n_input; k++) {
            const char *in = str0(np->input[k]);
            ins[k] = in[0] ? bl_graph_find(g, in) : -1;
            BL_RETURN_IF(in[0] && ins[k] < 0, BL_ERR_MODEL,
                         "node '%s' reads '%s', which is neither a graph input, an initializer nor the output of "
                         "any node (missing initializer or dangling input)", nname, in);
        }
        for (size_t k = 0; k < np->n_output; k++) {
            const char *o = str0(np->output[k]);
            outs[k] = o[0] ? bl_graph_find(g, o) : -1;
        }
        bl_attr *attrs = calloc(np->n_attribute ? np->n_attribute : 1, sizeof *attrs);
        BL_CHECK_ALLOC(attrs);
        for (size_t a = 0; a < np->n_attribute; a++) {
            bl_status st = convert_attr(np->attribute[a], op, nname, &attrs[a]);
            for (size_t b = 0; st == BL_OK && b < a; b++)
                if (!strcmp(attrs[b].name, attrs[a].name))
                    st = BL_ERROR(BL_ERR_MODEL, "node '%s': attribute '%s' appears twice", nname, attrs[a].name);
            if (st != BL_OK) {
                bl_attrs_free(attrs, (int)a + 1);
                return st;
            }
        }
        for (const bl_attr_schema *as = bl_op_schema_get(op)->attrs; as->name; as++) {
            bool have = false;
            for (size_t a = 0; a < np->n_attribute; a++) have |= !strcmp(attrs[a].name, as->name);
            if (as->required && !have) {
                bl_attrs_free(attrs, (int)np->n_attribute);
                return BL_ERROR(BL_ERR_MODEL, "node '%s' (%s) lacks its required attribute '%s'", nname,
                                bl_op_name(op), as->name);
            }
        }
        int n_in = (int)np->n_input, n_attrs = (int)np->n_attribute;
        if (op == BL_OP_CONSTANT_OF_SHAPE) {
            bl_status st = constant_of_shape_value(cx, g, np, nname, &ins[n_in]);
            if (st != BL_OK) {
                bl_attrs_free(attrs, n_attrs);
                return st;
            }
            n_in++;
            bl_attrs_free(attrs, n_attrs); /* `value` (its only attribute) is now input 1 */
            attrs = NULL;
            n_attrs = 0;
        }
        BL_TRY(bl_graph_add_node(g, nname, op, ins, n_in, outs, (int)np->n_output, attrs, n_attrs, NULL));
    }
    for (size_t i = 0; i < gp->n_output; i++) {
        const char *o = str0(gp->output[i]->name);
        int t = bl_graph_find(g, o);
        BL_RETURN_IF(t < 0, BL_ERR_MODEL, "graph output '%s' is produced by no node", o);
        for (int j = 0; j < g->n_outputs; j++)
            BL_RETURN_IF(g->outputs[j] == t, BL_ERR_MODEL, "graph output '%s' is listed twice", o);
        g->tensors[t].flags |= BL_TENSOR_OUTPUT;
        int *outs = realloc(g->outputs, (size_t)(g->n_outputs + 1) * sizeof *outs);
        BL_CHECK_ALLOC(outs);
        g->outputs = outs;
        g->outputs[g->n_outputs++] = t;
    }
    return bl_graph_toposort(g);
}

bl_status bl_onnx_load_buffer(const void *data, size_t size, const char *base_dir, const char *what,
                              bl_graph **out) {
    *out = NULL;
    what = what ? what : "<memory>";
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, size, data);
    BL_RETURN_IF(!m, BL_ERR_MODEL,
                 "'%s' is not a valid ONNX protobuf (truncated or corrupt file, or not an .onnx model)", what);
    bl_graph *g = NULL;
    bl_status st = bl_graph_create(&g);
    if (st == BL_OK) {
        load_ctx cx = {base_dir, what};
        st = build_graph(&cx, m, g);
    }
    onnx__model_proto__free_unpacked(m, NULL);
    if (st != BL_OK) {
        bl_graph_free(g);
        bl_error_prefix("loading model '%s': ", what);
        return st;
    }
    *out = g;
    return BL_OK;
}

bl_status bl_onnx_load(const char *path, bl_graph **out) {
    *out = NULL;
    uint8_t *buf;
    size_t size;
    BL_TRY(read_file(path, &buf, &size));
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == dir) dir[1] = '\0';
    else *slash = '\0';
    bl_status st = bl_onnx_load_buffer(buf, size, dir, path, out);
    free(buf);
    if (st == BL_OK) {
        free((*out)->path);
        (*out)->path = strdup(path);
        if (!(*out)->path) {
            bl_graph_free(*out);
            *out = NULL;
            return BL_ERROR(BL_ERR_NOMEM, "out of memory");
        }
    }
    return st;
}

bl_status bl_model_resolve_path(const char *model, char *out, size_t cap) {
    struct stat sb;
    BL_RETURN_IF(stat(model, &sb) != 0, BL_ERR_NOT_FOUND, "model '%s' not found: give a .onnx file or a folder "
                 "holding model.onnx", model);
    int w = S_ISDIR(sb.st_mode) ? snprintf(out, cap, "%s/model.onnx", model) : snprintf(out, cap, "%s", model);
    BL_RETURN_IF(w < 0 || (size_t)w >= cap, BL_ERR_INVALID_ARG, "model path '%s' is too long", model);
    if (S_ISDIR(sb.st_mode))
        BL_RETURN_IF(stat(out, &sb) != 0, BL_ERR_NOT_FOUND, "folder '%s' holds no model.onnx", model);
    return BL_OK;
}

bl_status bl_model_load(const char *model, const bl_prepare_opts *opts, bl_graph **out) {
    *out = NULL;
    char path[PATH_MAX];
    BL_TRY(bl_model_resolve_path(model, path, sizeof path));
    bl_graph *g;
    BL_TRY(bl_onnx_load(path, &g));
    bl_prepare_opts def = bl_prepare_opts_default();
    bl_status st = bl_graph_prepare(g, opts ? opts : &def);
    if (st != BL_OK) {
        bl_error_prefix("preparing model '%s': ", path);
        bl_graph_free(g);
        return st;
    }
    *out = g;
    return BL_OK;
}
