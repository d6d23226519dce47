/* graph.h — baleen's graph IR: the model as typed tensors and nodes in topological order,
 * shared by the loader (onnx_load.c), the shape pass (shape.c), the rewriting passes
 * (passes.c) and the executors (CPU oneDNN, CUDA cuDNN) that run it.
 *
 * Defines: bl_dtype, bl_tensor, bl_attr, bl_node, bl_graph, the functions that build and
 * query a graph, shape inference (shape.c), the passes (passes.c) and model statistics.
 *
 * Shapes and the batch dimension. Every tensor shape is known after bl_graph_prepare(),
 * except for the batch size N, which stays symbolic so that one prepared graph runs any
 * batch. A dimension d >= 0 is a fixed size; d < 0 means (-d)·N (BL_DIM_N = -1 is N itself;
 * -64 is 64·N, as after flattening an [N,64] tensor to one axis). At most one dimension of
 * a tensor depends on N. Use bl_dim_at(d, n) to get the size for a concrete batch.
 * In int64 constant data (what Shape folds to), the value BL_SHAPE_SYM_N stands for N.
 * Folding marks every constant it creates that holds BL_SHAPE_SYM_N with the tensor flag
 * BL_TENSOR_HAS_SYM_N (e.g. `x.shape[0]`: Shape → Gather folds to a scalar holding the
 * sentinel, and a Cast to float of it stays a node, since N is only known at run time).
 *
 * What an executor may rely on after bl_graph_prepare() returned BL_OK:
 *  - nodes[] is in topological order; no node is a Constant/Shape or a foldable shape chain;
 *  - every tensor has dtype, rank and dims; tensors with data != NULL are constants
 *    (initializers and folded values), row-major, little-endian, of tensor.nbytes bytes;
 *  - BatchNormalization that followed a Conv is folded into the Conv's weights and bias
 *    (the Conv then always has a bias input);
 *  - node.fused_act != BL_OP_NONE asks the executor to apply that activation to the node's
 *    output in place (act_alpha/act_beta hold its parameters, see bl_node); the activation's
 *    node is gone from nodes[] and its output tensor is now the Conv's output;
 *  - Reshape/Flatten/Squeeze/Unsqueeze outputs carry their full shape in dims (with N), so
 *    an executor never needs to read a Reshape's shape input;
 *  - a constant flagged BL_TENSOR_HAS_SYM_N (int64) contains BL_SHAPE_SYM_N. An executor that
 *    reads such a constant as data — anything but a shape-deciding input whose value the
 *    output dims already carry (Reshape shape, Resize sizes, Slice starts/ends, ...) — must
 *    replace each BL_SHAPE_SYM_N by the batch size before use (bl_tensor_subst_sym_n); the
 *    sentinel itself is a huge negative number, never a valid value;
 *  - ConstantOfShape (left only when it cannot fold: its output depends on N, is a graph
 *    output, or is larger than folding allows, 2^22 elements) has two
 *    inputs: the shape, and input 1, a one-element constant holding the fill value and the
 *    output dtype (the loader turns the ONNX `value` attribute into that input).
 *
 * Ownership: a bl_graph owns every string, array and constant buffer reachable from it;
 * bl_graph_free() releases all. Threading: a graph is built and prepared by one thread;
 * once prepared it is read-only and may be shared by executor threads.
 */
#ifndef BL_GRAPH_H
#define BL_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h" /* bl_status */
#include "models/ops.h" /* bl_op, bl_attr_type */

/* Element types; values equal onnx.TensorProto.DataType. Only these are kept. */
typedef enum {
    BL_DT_UNDEFINED = 0,
    BL_DT_FLOAT = 1,
    BL_DT_UINT8 = 2,
    BL_DT_INT8 = 3,
    BL_DT_INT32 = 6,
    BL_DT_INT64 = 7,
    BL_DT_BOOL = 9,
    BL_DT_DOUBLE = 11,
} bl_dtype;

#define BL_MAX_RANK 8
#define BL_DIM_N INT64_C(-1)
/* Value of an int64 constant element that means "the batch size N" (folded Shape output). */
#define BL_SHAPE_SYM_N (-(INT64_C(1) << 62))
/* Cap on the elements of any one tensor (per batch item), against hostile files. */
#define BL_MAX_TENSOR_ELEMS (INT64_C(1) << 31)

enum {
    BL_TENSOR_INPUT = 1u << 0,       /* a graph input (fed by the caller) */
    BL_TENSOR_OUTPUT = 1u << 1,      /* a graph output */
    BL_TENSOR_INITIALIZER = 1u << 2, /* came from the file's initializers (a parameter) */
    BL_TENSOR_HAS_SYM_N = 1u << 3,   /* int64 constant holding BL_SHAPE_SYM_N (set by folding;
                                      * see the executor contract above) */
};

typedef struct {
    char *name;
    bl_dtype dtype;
    int rank;                     /* -1 until shape inference */
    int64_t dims[BL_MAX_RANK];    /* see "Shapes and the batch dimension" above */
    void *data;                   /* constant value or NULL (computed at run time) */
    size_t nbytes;                /* size of data */
    int producer;                 /* index of the producing node, -1 for inputs/constants */
    int n_consumers;              /* node input slots reading it (bl_graph_link) */
    unsigned flags;               /* BL_TENSOR_* */
} bl_tensor;

typedef struct {
    char *name;
    bl_attr_type type;
    float f;        /* BL_ATTR_FLOAT */
    int64_t i;      /* BL_ATTR_INT */
    char *s;        /* BL_ATTR_STRING (NUL-terminated copy) */
    size_t n;       /* element count of floats/ints */
    float *floats;  /* BL_ATTR_FLOATS */
    int64_t *ints;  /* BL_ATTR_INTS */
} bl_attr;        /* BL_ATTR_TENSOR only occurs on Constant, which the loader turns into a
                   * constant tensor, and on ConstantOfShape, whose `value` becomes a constant
                   * input 1: no node of a graph carries a tensor attribute. */

typedef struct {
    char *name;      /* node name from the file, or "<OpType>_<k>" when it had none */
    bl_op op;
    int n_inputs;
    int *inputs;     /* tensor indices; -1 for an omitted optional input */
    int n_outputs;
    int *outputs;    /* tensor indices; -1 for an omitted optional output */
    int n_attrs;
    bl_attr *attrs;
    /* Activation fused into this node's output (Conv only), BL_OP_NONE when none:
     * RELU; LEAKY_RELU (alpha = act_alpha); CLIP (min = act_alpha, max = act_beta, ±INFINITY
     * when absent; ReLU6 is CLIP 0..6); SIGMOID; HARD_SIGMOID (alpha, beta); HARD_SWISH;
     * ELU (alpha); TANH. A Relu followed by Clip(lo, hi) (how PyTorch exports ReLU6) becomes
     * one CLIP with min = max(lo, 0). Only Conv carries fused activations for now. */
    bl_op fused_act;
    float act_alpha, act_beta;
    char *fused_name; /* name of the (last) activation node fused here, for messages; or NULL */
} bl_node;

typedef struct bl_graph bl_graph;

struct bl_graph {
    bl_tensor *tensors;
    int n_tensors, cap_tensors;
    bl_node *nodes;   /* topological order after bl_graph_toposort() */
    int n_nodes, cap_nodes;
    int *inputs;      /* graph inputs (not initializers), in file order */
    int n_inputs;
    int *outputs;     /* graph outputs, in file order */
    int n_outputs;
    int64_t opset;    /* default-domain opset the model imports */
    int64_t ir_version;
    char *producer;   /* "pytorch 1.13.0" or "" */
    char *path;       /* file it was loaded from, or "" */
    /* Name → tensor index, open addressing; private to graph.c. */
    int *hash;
    int hash_cap;
    /* Op counts as loaded, before any pass (bl_graph_prepare fills it). */
    int op_counts_loaded[BL_OP_COUNT];
    bool prepared;
};

/* ---- building (graph.c) ------------------------------------------------------------ */

/* New empty graph. Returns BL_ERR_NOMEM on allocation failure. */
bl_status bl_graph_create(bl_graph **out);
/* Free a graph and everything it owns; NULL is fine. */
void bl_graph_free(bl_graph *g);
/* Free an array of n attributes and the strings/arrays each owns; NULL is fine. */
void bl_attrs_free(bl_attr *a, int n);
/* Add a tensor named `name` (copied); *index receives its index. Fails with BL_ERR_MODEL
 * when the name is already used ("duplicate tensor name"). `data`, when not NULL, is taken
 * over by the graph (must come from malloc) and marks the tensor constant. */
bl_status bl_graph_add_tensor(bl_graph *g, const char *name, bl_dtype dtype, int rank,
                              const int64_t *dims, void *data, size_t nbytes, int *index);
/* Add a tensor with a fresh unique name derived from `base` ("base", "base_1", ...). */
bl_status bl_graph_add_tensor_unique(bl_graph *g, const char *base, bl_dtype dtype, int rank,
                                     const int64_t *dims, void *data, size_t nbytes, int *index);
/* Index of the tensor named `name`, or -1. */
int bl_graph_find(const bl_graph *g, const char *name);
/* Append a node; inputs/outputs are copied; attrs (n_attrs entries, malloc'ed, with their
 * strings and arrays) are taken over. *index (may be NULL) receives the node index. */
bl_status bl_graph_add_node(bl_graph *g, const char *name, bl_op op, const int *inputs, int n_inputs,
                            const int *outputs, int n_outputs, bl_attr *attrs, int n_attrs, int *index);
/* Recompute producer and n_consumers of every tensor from the node list; fails with
 * BL_ERR_MODEL when two nodes write the same tensor or a node writes an input/constant. */
bl_status bl_graph_link(bl_graph *g);
/* Reorder nodes topologically (stable: keeps file order where free). Fails with
 * BL_ERR_MODEL naming a node on a cycle, or a tensor read but never produced. */
bl_status bl_graph_toposort(bl_graph *g);
/* Drop nodes marked with op == BL_OP_NONE and tensors no node, input or output uses,
 * renumbering indices; then relinks. */
bl_status bl_graph_compact(bl_graph *g);

/* ---- queries (graph.c) ------------------------------------------------------------- */

/* Size of dimension d for batch size n (d >= 0: d; d < 0: -d·n). */
static inline int64_t bl_dim_at(int64_t d, int64_t n) { return d >= 0 ? d : -d * n; }
/* Elements of tensor t for batch size n; -1 when the shape is unknown. */
int64_t bl_tensor_numel(const bl_tensor *t, int64_t n);
/* Bytes per element of a dtype; 0 for BL_DT_UNDEFINED or unknown values. */
size_t bl_dtype_size(bl_dtype dt);
const char *bl_dtype_name(bl_dtype dt);
/* "N×1×64×128"-style text of t's shape into buf (never more than cap bytes); returns buf. */
char *bl_tensor_shape_str(const bl_tensor *t, char *buf, size_t cap);
/* Copy the values of int64 constant t (t->dtype == BL_DT_INT64, t->data set) into dst
 * (bl_tensor_numel(t, 1) values), with each BL_SHAPE_SYM_N replaced by the batch size n. */
void bl_tensor_subst_sym_n(const bl_tensor *t, int64_t n, int64_t *dst);
/* Attribute `name` of node, or NULL. */
const bl_attr *bl_node_attr(const bl_node *node, const char *name);
/* Typed getters with defaults (the attribute's presence and type were checked at load). */
int64_t bl_node_attr_int(const bl_node *node, const char *name, int64_t dflt);
float bl_node_attr_float(const bl_node *node, const char *name, float dflt);
const char *bl_node_attr_str(const bl_node *node, const char *name, const char *dflt);
/* ints attribute: *n receives its length (0 when absent) and the array is returned. */
const int64_t *bl_node_attr_ints(const bl_node *node, const char *name, size_t *n);
/* Input k of node as a tensor, or NULL when absent/omitted. */
const bl_tensor *bl_node_input(const bl_graph *g, const bl_node *node, int k);

/* ---- shape inference (shape.c) ----------------------------------------------------- */

/* Infer dtype, rank and dims of every output of node `ni` from its inputs (which must be
 * inferred). Fails with BL_ERR_MODEL naming the node and the inconsistency. */
bl_status bl_shape_infer_node(bl_graph *g, int ni);

/* ---- passes (passes.c) ------------------------------------------------------------- */

typedef struct {
    bool fold_constants; /* evaluate Shape/Gather/Unsqueeze/Concat/... chains (default on). Off,
                          * a graph whose Reshape/Slice/... inputs come from such chains fails
                          * shape inference: only for tests and debugging. */
    bool fold_batchnorm; /* fold BatchNormalization into the preceding Conv (default on) */
    bool fuse_activations; /* mark activations as fused into the preceding Conv (default on) */
} bl_prepare_opts;

/* Defaults: everything on. */
bl_prepare_opts bl_prepare_opts_default(void);
/* Shape inference interleaved with constant folding (in topological order), then
 * BatchNormalization folding, Identity/Dropout removal, activation fusion and compaction.
 * On success the graph satisfies the executor contract at the top of this file. */
bl_status bl_graph_prepare(bl_graph *g, const bl_prepare_opts *opts);

/* ---- statistics (passes.c) --------------------------------------------------------- */

typedef struct {
    int op_counts[BL_OP_COUNT];   /* current node counts per op */
    int n_fused;                  /* nodes carrying a fused activation */
    int64_t params;               /* elements of floating-point constant tensors in use */
    int64_t flops;                /* per input item: 2 × multiply-adds of Conv, ConvTranspose,
                                   * Gemm and MatMul (other ops are not counted) */
    int64_t activation_bytes;     /* per item: sum of all node-produced tensor sizes */
    int64_t peak_activation_bytes; /* per item: peak of live tensors (graph inputs included)
                                    * when each is freed after its last use in node order */
} bl_graph_stats;

/* Statistics for batch size 1 (per input item). Needs a prepared (shape-inferred) graph. */
bl_status bl_graph_stats_compute(const bl_graph *g, bl_graph_stats *st);

#endif
