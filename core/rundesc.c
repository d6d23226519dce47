/* rundesc.c — provenance of a run: the body of run.json (DESIGN §6) and the fingerprint that
 * --resume compares (io/outputs.h), plus the model file's SHA-256.
 *
 * run.json holds the baleen version and git commit, the command line, the resolved config
 * (as the YAML text `baleen config check` prints), the model (path, card name and version,
 * sha256), backend and device, host, start and end time (UTC), the inputs with their sizes,
 * and at the end the counts.
 * The fingerprint is the resolved config with the keys that cannot change results reset
 * (output.dir, runtime.progress, runtime.files_in_flight, runtime.block_seconds), plus the
 * model's sha256, so a resume with another config or model is refused and the difference
 * named, while moving the directory or changing the block size is not.
 *
 * Threading: called by the thread that drives the run; no shared state.
 */
#include <errno.h>     /* errno for messages */
#include <stdio.h>     /* open_memstream, fopen */
#include <stdlib.h>    /* free */
#include <string.h>    /* strerror, strncmp */
#include <unistd.h>    /* gethostname */

#include "bl_version.h"    /* BL_VERSION, BL_GIT_COMMIT */
#include "infile.h"        /* the model file, opened like every input */
#include "io/json.h"       /* bl_strbuf */
#include "io/sha256.h"     /* bl_sha256 */
#include "pipeline_impl.h" /* bl_run_ctx */

bl_status bl_rundesc_sha256_file(const char *path, char out[65]) {
    int fd = -1;
    BL_TRY(bl_infile_open(path, "model", &fd, NULL)); /* never blocks on a FIFO */
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        close(fd);
        return BL_ERROR(BL_ERR_IO, "cannot read %s to hash it: %s", path, strerror(errno));
    }
    bl_sha256 h;
    bl_sha256_init(&h);
    unsigned char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) bl_sha256_update(&h, buf, n);
    bool err = ferror(f);
    fclose(f);
    BL_RETURN_IF(err, BL_ERR_IO, "reading %s failed", path);
    bl_sha256_final_hex(&h, out);
    return BL_OK;
}

/* The config as YAML text, or flat "key=value" lines (malloc'ed), or NULL. */
static char *dump(const bl_config *cfg, bool flat) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) return NULL;
    bl_status s = flat ? bl_config_dump_flat(cfg, f) : bl_config_dump(cfg, f);
    fclose(f);
    if (s != BL_OK) {
        free(text);
        return NULL;
    }
    return text;
}

char *bl_rundesc_fingerprint(const bl_run_ctx *c) {
    bl_config cfg = *c->cfg; /* shallow: only scalars are changed, nothing is freed */
    bl_config def;
    if (bl_config_init_defaults(&def) != BL_OK) return NULL;
    cfg.output.dir = def.output.dir;
    cfg.runtime.progress = def.runtime.progress;
    cfg.runtime.files_in_flight = def.runtime.files_in_flight;
    cfg.runtime.block_seconds = def.runtime.block_seconds;
    /* the backend as resolved, not as asked: `auto` that ran on the CPU resumes with `cpu`,
     * and a resume that would land on another backend is refused (it could change scores) */
    cfg.runtime.backend = !strcmp(c->backend, "cuda") ? BL_BACKEND_CUDA : BL_BACKEND_CPU;
    char *text = dump(&cfg, true); /* key=value lines: a refused resume names the keys */
    bl_config_free(&def);
    if (!text) return NULL;
    bl_strbuf b = {0};
    bl_strbuf_puts(&b, text);
    bl_strbuf_printf(&b, "model.sha256=%s\n", c->model_sha256);
    free(text);
    if (b.oom) {
        bl_strbuf_free(&b);
        return NULL;
    }
    return b.data;
}

/* First "model name" line of /proc/cpuinfo, for the device field. */
static void cpu_name(char *buf, size_t cap) {
    snprintf(buf, cap, "cpu");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10)) continue;
        char *p = strchr(line, ':');
        if (!p) break;
        p++;
        while (*p == ' ') p++;
        p[strcspn(p, "\n")] = '\0';
        snprintf(buf, cap, "%s", p);
        break;
    }
    fclose(f);
}

char *bl_rundesc_json(const bl_run_ctx *c, const char *started, const char *ended, const bl_run_result *r,
                      const char *backend) {
    bl_strbuf b = {0};
    char host[256] = "", dev[256];
    gethostname(host, sizeof host - 1);
    cpu_name(dev, sizeof dev);
    bl_strbuf_puts(&b, "{\n  \"baleen_version\": ");
    bl_strbuf_json_string(&b, BL_VERSION);
    bl_strbuf_puts(&b, ",\n  \"git_commit\": ");
    bl_strbuf_json_string(&b, BL_GIT_COMMIT);
    bl_strbuf_puts(&b, ",\n  \"command\": ");
    bl_strbuf_json_string(&b, c->o->command_line ? c->o->command_line : "");
    bl_strbuf_puts(&b, ",\n  \"config_file\": ");
    if (c->o->config_path) bl_strbuf_json_string(&b, c->o->config_path);
    else bl_strbuf_puts(&b, "null");
    char *cfg = dump(c->cfg, false);
    bl_strbuf_puts(&b, ",\n  \"config\": ");
    bl_strbuf_json_string(&b, cfg ? cfg : "");
    free(cfg);
    bl_strbuf_puts(&b, ",\n  \"model\": {\"path\": ");
    bl_strbuf_json_string(&b, c->model_onnx);
    bl_strbuf_puts(&b, ", \"card\": ");
    bl_strbuf_json_string(&b, c->card.path ? c->card.path : "");
    bl_strbuf_puts(&b, ", \"name\": ");
    bl_strbuf_json_string(&b, c->card.name ? c->card.name : "");
    bl_strbuf_puts(&b, ", \"version\": ");
    bl_strbuf_json_string(&b, c->card.version ? c->card.version : "");
    bl_strbuf_puts(&b, ", \"sha256\": ");
    bl_strbuf_json_string(&b, c->model_sha256);
    bl_strbuf_printf(&b, ", \"window_frames\": %d, \"hop_frames\": %d, \"classes\": [", c->win, c->hop_f);
    for (size_t i = 0; i < c->card.n_classes; i++) {
        if (i) bl_strbuf_puts(&b, ", ");
        bl_strbuf_json_string(&b, c->card.classes[i]);
    }
    bl_strbuf_printf(&b, "], \"activation_applied\": %s}", c->apply_act ? "true" : "false");
    bl_strbuf_puts(&b, ",\n  \"backend\": ");
    bl_strbuf_json_string(&b, backend);
    bl_strbuf_puts(&b, ",\n  \"device\": ");
    bl_strbuf_json_string(&b, dev);
    bl_strbuf_printf(&b, ",\n  \"threads\": %d, \"batch_size\": %d", c->o->threads, c->batch);
    bl_strbuf_puts(&b, ",\n  \"host\": ");
    bl_strbuf_json_string(&b, host);
    bl_strbuf_puts(&b, ",\n  \"started_utc\": ");
    bl_strbuf_json_string(&b, started);
    bl_strbuf_puts(&b, ",\n  \"ended_utc\": ");
    if (ended) bl_strbuf_json_string(&b, ended);
    else bl_strbuf_puts(&b, "null");
    bl_strbuf_printf(&b, ",\n  \"resumed\": %s", c->o->resume ? "true" : "false");
    bl_strbuf_puts(&b, ",\n  \"inputs\": [");
    for (size_t i = 0; i < c->plan.n_inputs; i++) {
        const bl_input *in = &c->plan.inputs[i];
        bl_strbuf_puts(&b, i ? ",\n    {\"path\": " : "\n    {\"path\": ");
        bl_strbuf_json_string(&b, in->path);
        bl_strbuf_puts(&b, ", \"key\": ");
        bl_strbuf_json_string(&b, in->key);
        bl_strbuf_printf(&b, ", \"bytes\": %lld, \"channels\": %d, \"sample_rate\": %d, \"frames\": %lld}",
                         (long long)in->bytes, in->channels, in->sample_rate, (long long)in->frames);
    }
    bl_strbuf_puts(&b, c->plan.n_inputs ? "\n  ]" : "]");
    if (r)
        bl_strbuf_printf(&b,
                         ",\n  \"result\": {\"items\": %lld, \"skipped\": %lld, \"committed\": %lld, "
                         "\"failed\": %lld, \"warned\": %lld, \"audio_s\": %.3f, \"wall_s\": %.3f, \"interrupted\": %s}",
                         (long long)r->n_items, (long long)r->n_skipped, (long long)r->n_committed,
                         (long long)r->n_failed, (long long)r->n_warned, r->audio_seconds, r->wall_seconds,
                         r->interrupted ? "true" : "false");
    bl_strbuf_puts(&b, "\n}\n");
    if (b.oom) {
        bl_strbuf_free(&b);
        return NULL;
    }
    return b.data;
}
