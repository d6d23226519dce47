/* test_outfile.c — io/outfile.c: what each kind of output path becomes (issue 10, item 1).
 *
 * A regular file is replaced only on commit (discard leaves it as it was, mode kept); a
 * symlink stays a link and its target is replaced; a character device (made with mknod in a
 * temporary folder, never the real /dev) and a FIFO are written in place and stay what they
 * are; a folder, a dangling link and a link loop are errors naming the path; NO_CLOBBER never
 * replaces; SEEKABLE on a FIFO goes through a scratch file; nothing is left behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h> /* makedev */
#include <unistd.h>

#include "io/outfile.h"
#include "testutil.h"

static char g_dir[4096];

static const char *at(const char *name) {
    static char p[2][4200];
    static int k;
    k ^= 1;
    snprintf(p[k], sizeof p[k], "%s/%s", g_dir, name);
    return p[k];
}

static void put(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static int count_entries(void) {
    char cmd[4300];
    int n = 0;
    FILE *p;
    snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", g_dir);
    if ((p = popen(cmd, "r"))) {
        if (fscanf(p, "%d", &n) != 1) n = -1;
        pclose(p);
    }
    return n;
}

static bl_status write_text(const char *path, unsigned flags, const char *text, bool commit) {
    bl_outfile *f = NULL;
    bl_status s = bl_outfile_open(path, flags, &f);
    if (s != BL_OK) return s;
    s = bl_outfile_write(f, text, strlen(text));
    if (s == BL_OK && commit) return bl_outfile_commit(f);
    bl_outfile_discard(f);
    return s;
}

typedef struct {
    char path[4200];
    char got[256];
} fifo_reader;

static void *read_fifo(void *arg) {
    fifo_reader *r = arg;
    int fd = open(r->path, O_RDONLY);
    if (fd < 0) return NULL;
    ssize_t n, k = 0;
    while ((n = read(fd, r->got + k, sizeof r->got - 1 - (size_t)k)) > 0) k += n;
    r->got[k] = '\0';
    close(fd);
    return NULL;
}

int main(void) {
    snprintf(g_dir, sizeof g_dir, "%s", bl_test_tmpdir("outfile"));
    struct stat st;

    /* a new name, then a regular file replaced on commit; mode kept */
    BL_CHECK(write_text(at("a.txt"), 0, "one\n", true) == BL_OK, "%s", bl_error_message());
    char *t = bl_test_read_file(at("a.txt"), NULL);
    BL_CHECK(t && !strcmp(t, "one\n"), "new file: %s", t ? t : "(none)");
    free(t);
    chmod(at("a.txt"), 0600);
    BL_CHECK(write_text(at("a.txt"), 0, "two\n", true) == BL_OK, "%s", bl_error_message());
    t = bl_test_read_file(at("a.txt"), NULL);
    BL_CHECK(t && !strcmp(t, "two\n"), "replaced: %s", t ? t : "(none)");
    free(t);
    BL_CHECK(stat(at("a.txt"), &st) == 0 && (st.st_mode & 0777) == 0600, "mode %o", st.st_mode & 0777);
    /* discard: the old content stays */
    BL_CHECK(write_text(at("a.txt"), 0, "three\n", false) == BL_OK, "%s", bl_error_message());
    t = bl_test_read_file(at("a.txt"), NULL);
    BL_CHECK(t && !strcmp(t, "two\n"), "after discard: %s", t ? t : "(none)");
    free(t);

    /* a symlink stays a link; the file it points to is replaced */
    BL_REQUIRE(symlink("a.txt", at("link.txt")) == 0, "symlink: %s", strerror(errno));
    BL_CHECK(write_text(at("link.txt"), 0, "via link\n", true) == BL_OK, "%s", bl_error_message());
    BL_CHECK(lstat(at("link.txt"), &st) == 0 && S_ISLNK(st.st_mode), "the link was replaced");
    t = bl_test_read_file(at("a.txt"), NULL);
    BL_CHECK(t && !strcmp(t, "via link\n"), "link target: %s", t ? t : "(none)");
    free(t);

    /* errors naming the path: folder, dangling link, loop */
    mkdir(at("sub"), 0755);
    BL_CHECK(write_text(at("sub"), 0, "x", true) != BL_OK && strstr(bl_error_message(), "folder"), "folder: %s",
             bl_error_message());
    symlink("missing", at("dangling"));
    BL_CHECK(write_text(at("dangling"), 0, "x", true) != BL_OK && strstr(bl_error_message(), "dangling"),
             "dangling: %s", bl_error_message());
    BL_CHECK(lstat(at("missing"), &st) != 0, "a dangling link's target was created");
    symlink("loop2", at("loop1"));
    symlink("loop1", at("loop2"));
    BL_CHECK(write_text(at("loop1"), 0, "x", true) != BL_OK && strstr(bl_error_message(), "loop"), "loop: %s",
             bl_error_message());

    /* NO_CLOBBER: an existing file is never replaced */
    bl_status s = write_text(at("a.txt"), BL_OUTFILE_NO_CLOBBER, "clobbered\n", true);
    BL_CHECK(s == BL_ERR_EXISTS, "no-clobber on an existing file: %d %s", s, bl_error_message());
    t = bl_test_read_file(at("a.txt"), NULL);
    BL_CHECK(t && !strcmp(t, "via link\n"), "no-clobber replaced it: %s", t ? t : "(none)");
    free(t);
    BL_CHECK(write_text(at("fresh.txt"), BL_OUTFILE_NO_CLOBBER, "fresh\n", true) == BL_OK, "%s", bl_error_message());
    /* ... and a file that appears while it is written is left alone */
    bl_outfile *f = NULL;
    BL_REQUIRE(bl_outfile_open(at("race.txt"), BL_OUTFILE_NO_CLOBBER, &f) == BL_OK, "%s", bl_error_message());
    bl_outfile_write(f, "mine\n", 5);
    put(at("race.txt"), "theirs\n");
    BL_CHECK(bl_outfile_commit(f) == BL_ERR_EXISTS, "race: %s", bl_error_message());
    t = bl_test_read_file(at("race.txt"), NULL);
    BL_CHECK(t && !strcmp(t, "theirs\n"), "race: %s", t ? t : "(none)");
    free(t);

    /* a character device (mknod of /dev/null's numbers, in the temp folder) stays a device */
    if (mknod(at("null"), S_IFCHR | 0666, makedev(1, 3)) == 0) {
        BL_CHECK(write_text(at("null"), 0, "into the device\n", true) == BL_OK, "%s", bl_error_message());
        BL_CHECK(lstat(at("null"), &st) == 0 && S_ISCHR(st.st_mode), "the device became a regular file");
        BL_CHECK(write_text(at("null"), BL_OUTFILE_SEEKABLE, "seekable\n", true) == BL_OK, "%s",
                 bl_error_message());
        BL_CHECK(lstat(at("null"), &st) == 0 && S_ISCHR(st.st_mode), "the device became a regular file (seekable)");
        symlink("null", at("null-link"));
        BL_CHECK(write_text(at("null-link"), 0, "x", true) == BL_OK, "%s", bl_error_message());
        BL_CHECK(lstat(at("null-link"), &st) == 0 && S_ISLNK(st.st_mode), "the link to the device was replaced");
        unlink(at("null-link"));
        unlink(at("null"));
    } else {
        fprintf(stderr, "test_outfile: mknod not permitted here (%s); device case skipped\n", strerror(errno));
    }

    /* a FIFO gets the bytes, in place and through the scratch file */
    BL_REQUIRE(mkfifo(at("fifo"), 0644) == 0, "mkfifo: %s", strerror(errno));
    BL_REQUIRE(link(at("fifo"), at("fifo-keep")) == 0, "link: %s", strerror(errno));
    for (int seekable = 0; seekable < 2; seekable++) {
        fifo_reader r = {{0}, {0}};
        snprintf(r.path, sizeof r.path, "%s", at("fifo"));
        pthread_t th;
        pthread_create(&th, NULL, read_fifo, &r);
        BL_CHECK(write_text(at("fifo"), seekable ? BL_OUTFILE_SEEKABLE : 0, "through the fifo\n", true) == BL_OK,
                 "%s", bl_error_message());
        /* a reader still waiting (the FIFO was replaced, not written) is let go through a
         * second name of the FIFO, so that the test fails instead of hanging */
        int w = open(at("fifo-keep"), O_WRONLY | O_NONBLOCK);
        if (w >= 0) close(w);
        pthread_join(th, NULL);
        BL_CHECK(!strcmp(r.got, "through the fifo\n"), "fifo (seekable %d) got '%s'", seekable, r.got);
        BL_CHECK(lstat(at("fifo"), &st) == 0 && S_ISFIFO(st.st_mode), "the FIFO was replaced");
    }

    /* nothing else is left: a.txt link.txt sub dangling loop1 loop2 fresh.txt race.txt fifo
     * fifo-keep */
    int n = count_entries();
    BL_CHECK(n == 10, "%d entries in %s (a temporary left behind?)", n, g_dir);
    return bl_test_finish("test_outfile");
}
