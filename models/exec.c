/* exec.c — the backend-independent half of models/exec.h: argument checks, the
 * supports_op walk that rejects a model at creation, and fallbacks for empty optional slots.
 *
 * Owns: the bl_exec wrapper (backend pointer + the backend's instance).
 * Threading: see exec.h (one run at a time per executor).
 */
#include "models/exec.h"

#include <inttypes.h> /* PRId64 */
#include <stdlib.h>   /* calloc, free */
#include <string.h>   /* strcmp, memset */

struct bl_exec {
    const bl_exec_backend *be;
    const bl_graph *g;
    void *impl;
    int64_t max_batch;
};

bl_exec_opts bl_exec_opts_default(void) {
    return (bl_exec_opts){.max_batch = 1, .threads = 0, .no_reuse = false, .no_fusion = false};
}

const bl_exec_backend *bl_exec_backend_find(const char *name) {
    if (name && !strcmp(name, "cpu")) return bl_exec_backend_cpu();
    return NULL;
}

bool bl_exec_supports_op(const bl_exec_backend *be, const bl_graph *g, int ni, char *why, size_t cap) {
    if (why && cap) why[0] = '\0';
    if (!be->supports_op) return true;
    return be->supports_op(g, ni, why, cap);
}

bl_status bl_exec_create(const bl_exec_backend *be, const bl_graph *g, const bl_exec_opts *opts, bl_exec **out) {
    *out = NULL;
    BL_RETURN_IF(!be || !g, BL_ERR_INVALID_ARG, "bl_exec_create: no backend or graph");
    BL_RETURN_IF(!g->prepared, BL_ERR_INVALID_ARG, "bl_exec_create: graph '%s' is not prepared (call bl_graph_prepare)",
                 g->path ? g->path : "");
    bl_exec_opts o = opts ? *opts : bl_exec_opts_default();
    BL_RETURN_IF(o.max_batch < 1 || o.max_batch > (INT64_C(1) << 20), BL_ERR_INVALID_ARG,
                 "executor: max batch %" PRId64 " is out of range (1 to 1048576)", o.max_batch);
    BL_RETURN_IF(o.threads < 0, BL_ERR_INVALID_ARG, "executor: threads must be >= 0 (0 = all cores), got %d", o.threads);
    for (int i = 0; i < g->n_nodes; i++) {
        char why[256];
        if (!bl_exec_supports_op(be, g, i, why, sizeof why))
            return BL_ERROR(BL_ERR_UNSUPPORTED, "%s backend cannot run node '%s' (%s): %s", be->name, g->nodes[i].name,
                            bl_op_name(g->nodes[i].op), why[0] ? why : "not supported");
    }
    bl_exec *ex = calloc(1, sizeof *ex);
    BL_CHECK_ALLOC(ex);
    ex->be = be;
    ex->g = g;
    ex->max_batch = o.max_batch;
    bl_status s = be->create(g, &o, &ex->impl);
    if (s != BL_OK) {
        free(ex);
        return s;
    }
    *out = ex;
    return BL_OK;
}

bl_status bl_exec_run(bl_exec *ex, int64_t batch, const void *const *inputs, void *const *outputs) {
    BL_RETURN_IF(!ex, BL_ERR_INVALID_ARG, "bl_exec_run: no executor");
    BL_RETURN_IF(batch < 1 || batch > ex->max_batch, BL_ERR_INVALID_ARG,
                 "executor: batch %" PRId64 " is outside 1..%" PRId64 " (the max batch given at creation)", batch,
                 ex->max_batch);
    for (int i = 0; i < ex->g->n_inputs; i++)
        BL_RETURN_IF(!inputs || !inputs[i], BL_ERR_INVALID_ARG, "executor: input %d ('%s') is NULL", i,
                     ex->g->tensors[ex->g->inputs[i]].name);
    for (int i = 0; i < ex->g->n_outputs; i++)
        BL_RETURN_IF(!outputs || !outputs[i], BL_ERR_INVALID_ARG, "executor: output %d ('%s') is NULL", i,
                     ex->g->tensors[ex->g->outputs[i]].name);
    return ex->be->run(ex->impl, batch, inputs, outputs);
}

bl_status bl_exec_set_threads(bl_exec *ex, int threads) {
    BL_RETURN_IF(threads < 0, BL_ERR_INVALID_ARG, "executor: threads must be >= 0 (0 = all cores), got %d", threads);
    BL_RETURN_IF(!ex->be->set_threads, BL_ERR_UNSUPPORTED, "the %s backend fixes its thread count at creation",
                 ex->be->name);
    return ex->be->set_threads(ex->impl, threads);
}

void bl_exec_get_stats(const bl_exec *ex, bl_exec_stats *st) {
    memset(st, 0, sizeof *st);
    if (ex && ex->be->get_stats) ex->be->get_stats(ex->impl, st);
}

const bl_exec_backend *bl_exec_backend_of(const bl_exec *ex) { return ex->be; }

void bl_exec_free(bl_exec *ex) {
    if (!ex) return;
    ex->be->destroy(ex->impl);
    free(ex);
}
