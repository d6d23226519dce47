/* fuzz_onnx.c — fuzz target for the ONNX loader and the graph passes.
 *
 * Feeds arbitrary bytes to bl_onnx_load_buffer() (no folder: external data is refused),
 * then, when a graph comes out, runs bl_graph_prepare() (shape inference, folding, BN
 * folding, fusion) and the statistics. Any status is fine; crashes, leaks and sanitizer
 * reports are not. Seeds: tests/fuzz/corpus/onnx/ (small PyTorch exports).
 */
#include <stddef.h>
#include <stdint.h>

#include "models/onnx_load.h" /* the loader and passes under test */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    bl_graph *g = NULL;
    if (bl_onnx_load_buffer(data, size, NULL, "fuzz", &g) != BL_OK) return 0;
    bl_prepare_opts opts = bl_prepare_opts_default();
    if (bl_graph_prepare(g, &opts) == BL_OK) {
        bl_graph_stats st;
        (void)bl_graph_stats_compute(g, &st);
    }
    bl_graph_free(g);
    return 0;
}
