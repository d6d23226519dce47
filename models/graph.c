/* graph.c — building and querying the graph IR (models/graph.h): tensors with a name index,
 * nodes, producer/consumer links, topological sort with cycle detection, compaction.
 *
 * Owns: every allocation hanging off a bl_graph. Threading: one thread per graph while it is
 * built; the query functions are read-only.
 */
#include "models/graph.h"

#include <inttypes.h> /* PRId64 in shape strings */
#include <stdio.h>    /* snprintf */
#include <stdlib.h>   /* malloc, calloc, realloc, free */
#include <string.h>   /* strcmp, strdup, memcpy */

bl_status bl_graph_create(bl_graph **out) {
    *out = NULL;
    bl_graph *g = calloc(1, sizeof *g);
    BL_CHECK_ALLOC(g);
    g->producer = strdup("");
    g->path = strdup("");
    if (!g->producer || !g->path) {
        bl_graph_free(g);
        return BL_ERROR(BL_ERR_NOMEM, "out of memory creating a graph");
    }
    *out = g;
    return BL_OK;
}

void bl_attrs_free(bl_attr *a, int n) {
    for (int i = 0; i < n; i++) {
        free(a[i].name);
        free(a[i].s);
        free(a[i].floats);
        free(a[i].ints);
    }
    free(a);
}

static void free_node(bl_node *nd) {
    free(nd->name);
    free(nd->inputs);
    free(nd->outputs);
    bl_attrs_free(nd->attrs, nd->n_attrs);
    free(nd->fused_name);
}

void bl_graph_free(bl_graph *g) {
    if (!g) return;
    for (int i = 0; i < g->n_tensors; i++) {
        free(g->tensors[i].name);
        free(g->tensors[i].data);
    }
    for (int i = 0; i < g->n_nodes; i++) free_node(&g->nodes[i]);
    free(g->tensors);
    free(g->nodes);
    free(g->inputs);
    free(g->outputs);
    free(g->producer);
    free(g->path);
    free(g->hash);
    free(g);
}

/* ---- name index: FNV-1a, open addressing, load factor <= 1/2 ------------------------ */

static uint64_t hash_name(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static void hash_insert(bl_graph *g, int idx) {
    size_t mask = (size_t)g->hash_cap - 1;
    size_t k = (size_t)hash_name(g->tensors[idx].name) & mask;
    while (g->hash[k] >= 0) k = (k + 1) & mask;
    g->hash[k] = idx;
}

static bl_status hash_rebuild(bl_graph *g, int cap) {
    int *h = malloc((size_t)cap * sizeof *h);
    BL_CHECK_ALLOC(h);
    for (int i = 0; i < cap; i++) h[i] = -1;
    free(g->hash);
    g->hash = h;
    g->hash_cap = cap;
    for (int i = 0; i < g->n_tensors; i++) hash_insert(g, i);
    return BL_OK;
}

int bl_graph_find(const bl_graph *g, const char *name) {
    if (!g->hash_cap || !name) return -1;
    size_t mask = (size_t)g->hash_cap - 1;
    size_t k = (size_t)hash_name(name) & mask;
    while (g->hash[k] >= 0) {
        if (!strcmp(g->tensors[g->hash[k]].name, name)) return g->hash[k];
        k = (k + 1) & mask;
    }
    return -1;
}

bl_status bl_graph_add_tensor(bl_graph *g, const char *name, bl_dtype dtype, int rank,
                              const int64_t *dims, void *data, size_t nbytes, int *index) {
    if (bl_graph_find(g, name) >= 0) {
        free(data);
        return BL_ERROR(BL_ERR_MODEL, "duplicate tensor name '%s' (each value must be defined once)", name);
    }
    if (rank > BL_MAX_RANK) {
        free(data);
        return BL_ERROR(BL_ERR_MODEL, "tensor '%s' has rank %d, more than the %d baleen supports", name,
                        rank, BL_MAX_RANK);
    }
    if (g->n_tensors == g->cap_tensors) {
        int cap = g->cap_tensors ? g->cap_tensors * 2 : 64;
        bl_tensor *t = realloc(g->tensors, (size_t)cap * sizeof *t);
        if (!t) {
            free(data);
            return BL_ERROR(BL_ERR_NOMEM, "out of memory adding tensor '%s'", name);
        }
        g->tensors = t;
        g->cap_tensors = cap;
    }
    bl_tensor *t = &g->tensors[g->n_tensors];
    memset(t, 0, sizeof *t);
    t->name = strdup(name);
    if (!t->name) {
        free(data);
        return BL_ERROR(BL_ERR_NOMEM, "out of memory adding tensor '%s'", name);
    }
    t->dtype = dtype;
    t->rank = rank;
    for (int i = 0; i < rank && dims; i++) t->dims[i] = dims[i];
    t->data = data;
    t->nbytes = nbytes;
    t->producer = -1;
    int idx = g->n_tensors++;
    if (2 * g->n_tensors > g->hash_cap) {
        bl_status s = hash_rebuild(g, g->hash_cap ? g->hash_cap * 2 : 128);
        if (s) return s;
    } else {
        hash_insert(g, idx);
    }
    if (index) *index = idx;
    return BL_OK;
}

bl_status bl_graph_add_tensor_unique(bl_graph *g, const char *base, bl_dtype dtype, int rank,
                                     const int64_t *dims, void *data, size_t nbytes, int *index) {
    char name[256];
    snprintf(name, sizeof name, "%s", base);
    for (int k = 1; bl_graph_find(g, name) >= 0; k++) snprintf(name, sizeof name, "%.200s_%d", base, k);
    return bl_graph_add_tensor(g, name, dtype, rank, dims, data, nbytes, index);
}

bl_status bl_graph_add_node(bl_graph *g, const char *name, bl_op op, const int *inputs, int n_inputs,
                            const int *outputs, int n_outputs, bl_attr *attrs, int n_attrs, int *index) {
    if (g->n_nodes == g->cap_nodes) {
        int cap = g->cap_nodes ? g->cap_nodes * 2 : 64;
        bl_node *nd = realloc(g->nodes, (size_t)cap * sizeof *nd);
        if (!nd) {
            bl_attrs_free(attrs, n_attrs);
            return BL_ERROR(BL_ERR_NOMEM, "out of memory adding node '%s'", name);
        }
        g->nodes = nd;
        g->cap_nodes = cap;
    }
    bl_node *nd = &g->nodes[g->n_nodes];
    memset(nd, 0, sizeof *nd);
    nd->op = op;
    nd->attrs = attrs;
    nd->n_attrs = n_attrs;
    nd->name = strdup(name);
    nd->inputs = malloc((size_t)(n_inputs > 0 ? n_inputs : 1) * sizeof(int));
    nd->outputs = malloc((size_t)(n_outputs > 0 ? n_outputs : 1) * sizeof(int));
    if (!nd->name || !nd->inputs || !nd->outputs) {
        free_node(nd);
        return BL_ERROR(BL_ERR_NOMEM, "out of memory adding node '%s'", name);
    }
    if (n_inputs) memcpy(nd->inputs, inputs, (size_t)n_inputs * sizeof(int));
    if (n_outputs) memcpy(nd->outputs, outputs, (size_t)n_outputs * sizeof(int));
    nd->n_inputs = n_inputs;
    nd->n_outputs = n_outputs;
    if (index) *index = g->n_nodes;
    g->n_nodes++;
    return BL_OK;
}

bl_status bl_graph_link(bl_graph *g) {
    for (int i = 0; i < g->n_tensors; i++) {
        g->tensors[i].producer = -1;
        g->tensors[i].n_consumers = 0;
    }
    for (int n = 0; n < g->n_nodes; n++) {
        const bl_node *nd = &g->nodes[n];
        if (nd->op == BL_OP_NONE) continue; /* removed by a pass, dropped at the next compaction */
        for (int k = 0; k < nd->n_inputs; k++)
            if (nd->inputs[k] >= 0) g->tensors[nd->inputs[k]].n_consumers++;
        for (int k = 0; k < nd->n_outputs; k++) {
            int o = nd->outputs[k];
            if (o < 0) continue;
            bl_tensor *t = &g->tensors[o];
            BL_RETURN_IF(t->producer >= 0, BL_ERR_MODEL,
                         "tensor '%s' is written by two nodes ('%s' and '%s'): output names must be unique",
                         t->name, g->nodes[t->producer].name, nd->name);
            BL_RETURN_IF(t->data || (t->flags & BL_TENSOR_INPUT), BL_ERR_MODEL,
                         "node '%s' writes '%s', which is already a graph input or an initializer", nd->name,
                         t->name);
            t->producer = n;
        }
    }
    return BL_OK;
}

/* Min-heap of node indices: Kahn's algorithm always takes the lowest-index ready node, so a
 * file that is already sorted keeps its order exactly (deterministic memory plans). */
static void heap_push(int *h, int *n, int v) {
    int i = (*n)++;
    h[i] = v;
    while (i > 0 && h[(i - 1) / 2] > h[i]) {
        int p = (i - 1) / 2, t = h[p];
        h[p] = h[i];
        h[i] = t;
        i = p;
    }
}

static int heap_pop(int *h, int *n) {
    int top = h[0];
    h[0] = h[--(*n)];
    for (int i = 0;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < *n && h[l] < h[m]) m = l;
        if (r < *n && h[r] < h[m]) m = r;
        if (m == i) break;
        int t = h[m];
        h[m] = h[i];
        h[i] = t;
        i = m;
    }
    return top;
}

bl_status bl_graph_toposort(bl_graph *g) {
    BL_TRY(bl_graph_link(g));
    int nn = g->n_nodes, nt = g->n_tensors;
    if (nn <= 0 || nt < 0) return BL_OK;
    /* Consumer lists in CSR form: cstart[t]..cstart[t+1] index cnode[] (one per input slot). */
    size_t n_edges = 0;
    for (int n = 0; n < nn; n++) n_edges += (size_t)g->nodes[n].n_inputs;
    int *indeg = calloc((size_t)nn, sizeof *indeg);
    int *order = malloc((size_t)nn * sizeof *order);
    int *heap = malloc((size_t)nn * sizeof *heap);
    int *cstart = calloc((size_t)nt + 1, sizeof *cstart);
    int *cfill = calloc((size_t)nt + 1, sizeof *cfill);
    int *cnode = malloc((n_edges ? n_edges : 1) * sizeof *cnode);
    bl_node *sorted = malloc((size_t)nn * sizeof *sorted);
    bl_status st = BL_OK;
    if (!indeg || !order || !heap || !cstart || !cfill || !cnode || !sorted) {
        st = BL_ERROR(BL_ERR_NOMEM, "out of memory sorting the graph");
        goto out;
    }
    for (int n = 0; n < nn; n++) {
        const bl_node *nd = &g->nodes[n];
        for (int k = 0; k < nd->n_inputs; k++) {
            int t = nd->inputs[k];
            if (t < 0) continue;
            const bl_tensor *tt = &g->tensors[t];
            if (tt->producer >= 0) {
                indeg[n]++;
                cstart[t + 1]++;
            } else if (!tt->data && !(tt->flags & BL_TENSOR_INPUT)) {
                st = BL_ERROR(BL_ERR_MODEL,
                              "node '%s' reads '%s', which is neither a graph input, an initializer nor "
                              "the output of any node (dangling input)",
                              nd->name, tt->name);
                goto out;
            }
        }
    }
    for (int t = 0; t < nt; t++) cstart[t + 1] += cstart[t];
    for (int n = 0; n < nn; n++) {
        const bl_node *nd = &g->nodes[n];
        for (int k = 0; k < nd->n_inputs; k++) {
            int t = nd->inputs[k];
            if (t >= 0 && g->tensors[t].producer >= 0) cnode[cstart[t] + cfill[t]++] = n;
        }
    }
    int hn = 0, placed = 0;
    for (int n = 0; n < nn; n++)
        if (indeg[n] == 0) heap_push(heap, &hn, n);
    while (hn > 0) {
        int pick = heap_pop(heap, &hn);
        order[placed++] = pick;
        const bl_node *nd = &g->nodes[pick];
        for (int k = 0; k < nd->n_outputs; k++) {
            int t = nd->outputs[k];
            if (t < 0) continue;
            for (int e = cstart[t]; e < cstart[t + 1]; e++)
                if (--indeg[cnode[e]] == 0) heap_push(heap, &hn, cnode[e]);
        }
    }
    if (placed < nn) {
        int any = 0;
        while (indeg[any] == 0) any++;
        st = BL_ERROR(BL_ERR_MODEL, "the graph has a cycle through node '%s' (%s): ONNX graphs must be acyclic",
                      g->nodes[any].name, bl_op_name(g->nodes[any].op));
        goto out;
    }
    for (int i = 0; i < nn; i++) sorted[i] = g->nodes[order[i]];
    memcpy(g->nodes, sorted, (size_t)nn * sizeof *sorted);
    st = bl_graph_link(g);
out:
    free(indeg);
    free(order);
    free(heap);
    free(cstart);
    free(cfill);
    free(cnode);
    free(sorted);
    return st;
}

bl_status bl_graph_compact(bl_graph *g) {
    int w = 0;
    for (int n = 0; n < g->n_nodes; n++) {
        if (g->nodes[n].op == BL_OP_NONE) {
            free_node(&g->nodes[n]);
            continue;
        }
        g->nodes[w++] = g->nodes[n];
    }
    g->n_nodes = w;
    char *used = calloc((size_t)(g->n_tensors ? g->n_tensors : 1), 1);
    int *remap = malloc((size_t)(g->n_tensors ? g->n_tensors : 1) * sizeof *remap);
    if (!used || !remap) {
        free(used);
        free(remap);
        return BL_ERROR(BL_ERR_NOMEM, "out of memory compacting the graph");
    }
    for (int i = 0; i < g->n_inputs; i++) used[g->inputs[i]] = 1;
    for (int i = 0; i < g->n_outputs; i++) used[g->outputs[i]] = 1;
    for (int n = 0; n < g->n_nodes; n++) {
        const bl_node *nd = &g->nodes[n];
        for (int k = 0; k < nd->n_inputs; k++)
            if (nd->inputs[k] >= 0) used[nd->inputs[k]] = 1;
        for (int k = 0; k < nd->n_outputs; k++)
            if (nd->outputs[k] >= 0) used[nd->outputs[k]] = 1;
    }
    int tw = 0;
    for (int i = 0; i < g->n_tensors; i++) {
        if (!used[i]) {
            free(g->tensors[i].name);
            free(g->tensors[i].data);
            remap[i] = -1;
            continue;
        }
        remap[i] = tw;
        g->tensors[tw++] = g->tensors[i];
    }
    g->n_tensors = tw;
    for (int i = 0; i < g->n_inputs; i++) g->inputs[i] = remap[g->inputs[i]];
    for (int i = 0; i < g->n_outputs; i++) g->outputs[i] = remap[g->outputs[i]];
    for (int n = 0; n < g->n_nodes; n++) {
        bl_node *nd = &g->nodes[n];
        for (int k = 0; k < nd->n_inputs; k++)
            if (nd->inputs[k] >= 0) nd->inputs[k] = remap[nd->inputs[k]];
        for (int k = 0; k < nd->n_outputs; k++)
            if (nd->outputs[k] >= 0) nd->outputs[k] = remap[nd->outputs[k]];
    }
    free(used);
    free(remap);
    int cap = 128;
    while (cap < 2 * g->n_tensors + 2) cap *= 2;
    BL_TRY(hash_rebuild(g, cap));
    return bl_graph_link(g);
}

/* ---- queries ------------------------------------------------------------------------ */

int64_t bl_tensor_numel(const bl_tensor *t, int64_t n) {
    if (t->rank < 0) return -1;
    int64_t e = 1;
    for (int i = 0; i < t->rank; i++) e *= bl_dim_at(t->dims[i], n);
    return e;
}

void bl_tensor_subst_sym_n(const bl_tensor *t, int64_t n, int64_t *dst) {
    if (t->dtype != BL_DT_INT64 || !t->data) return;
    int64_t cnt = bl_tensor_numel(t, 1);
    for (int64_t i = 0; i < cnt; i++) {
        int64_t v;
        memcpy(&v, (const char *)t->data + 8 * i, 8); /* constant buffers need not be aligned */
        dst[i] = v == BL_SHAPE_SYM_N ? n : v;
    }
}

size_t bl_dtype_size(bl_dtype dt) {
    switch (dt) {
    case BL_DT_FLOAT: case BL_DT_INT32: return 4;
    case BL_DT_INT64: case BL_DT_DOUBLE: return 8;
    case BL_DT_UINT8: case BL_DT_INT8: case BL_DT_BOOL: return 1;
    case BL_DT_UNDEFINED: return 0;
    }
    return 0;
}

const char *bl_dtype_name(bl_dtype dt) {
    switch (dt) {
    case BL_DT_FLOAT: return "float32";
    case BL_DT_INT32: return "int32";
    case BL_DT_INT64: return "int64";
    case BL_DT_DOUBLE: return "float64";
    case BL_DT_UINT8: return "uint8";
    case BL_DT_INT8: return "int8";
    case BL_DT_BOOL: return "bool";
    case BL_DT_UNDEFINED: return "undefined";
    }
    return "unknown";
}

char *bl_tensor_shape_str(const bl_tensor *t, char *buf, size_t cap) {
    size_t len = 0;
    if (cap == 0) return buf;
    buf[0] = '\0';
    if (t->rank < 0) {
        snprintf(buf, cap, "?");
        return buf;
    }
    if (t->rank == 0) {
        snprintf(buf, cap, "scalar");
        return buf;
    }
    for (int i = 0; i < t->rank && len < cap; i++) {
        int64_t d = t->dims[i];
        const char *sep = i ? "x" : "";
        int w;
        if (d == BL_DIM_N) w = snprintf(buf + len, cap - len, "%sN", sep);
        else if (d < 0) w = snprintf(buf + len, cap - len, "%s%" PRId64 "N", sep, -d);
        else w = snprintf(buf + len, cap - len, "%s%" PRId64, sep, d);
        if (w < 0) break;
        len += (size_t)w;
    }
    return buf;
}

const bl_attr *bl_node_attr(const bl_node *node, const char *name) {
    for (int i = 0; i < node->n_attrs; i++)
        if (!strcmp(node->attrs[i].name, name)) return &node->attrs[i];
    return NULL;
}

int64_t bl_node_attr_int(const bl_node *node, const char *name, int64_t dflt) {
    const bl_attr *a = bl_node_attr(node, name);
    return a && a->type == BL_ATTR_INT ? a->i : dflt;
}

float bl_node_attr_float(const bl_node *node, const char *name, float dflt) {
    const bl_attr *a = bl_node_attr(node, name);
    return a && a->type == BL_ATTR_FLOAT ? a->f : dflt;
}

const char *bl_node_attr_str(const bl_node *node, const char *name, const char *dflt) {
    const bl_attr *a = bl_node_attr(node, name);
    return a && a->type == BL_ATTR_STRING ? a->s : dflt;
}

const int64_t *bl_node_attr_ints(const bl_node *node, const char *name, size_t *n) {
    const bl_attr *a = bl_node_attr(node, name);
    if (!a || a->type != BL_ATTR_INTS) {
        *n = 0;
        return NULL;
    }
    *n = a->n;
    return a->ints;
}

const bl_tensor *bl_node_input(const bl_graph *g, const bl_node *node, int k) {
    if (k < 0 || k >= node->n_inputs || node->inputs[k] < 0) return NULL;
    return &g->tensors[node->inputs[k]];
}
