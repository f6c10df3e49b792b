/* SPDX-License-Identifier: Apache-2.0 */
/* The daemon's configuration file: "key = value" lines, '#' comments. Strict on purpose: a
 * typo in a key must not silently fall back to a default (the daemon would then sync the
 * wrong classes or write somewhere else), so every unknown key and malformed value stops
 * the start with the file name and line. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "easd.h"

#define PASSWORD_CMD_TIMEOUT_MS 10000

static void seterr(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(err, cap, fmt, ap);
    va_end(ap);
}

static void home_path(const char *env, const char *fallback, const char *leaf, char *out,
                      size_t cap)
{
    const char *base = getenv(env);
    const char *home = getenv("HOME");
    if (base && base[0] == '/') {
        (void)snprintf(out, cap, "%s/%s", base, leaf);
    } else {
        (void)snprintf(out, cap, "%s/%s/%s", home ? home : "", fallback, leaf);
    }
}

void easd_config_default_path(char *out, size_t cap)
{
    home_path("XDG_CONFIG_HOME", ".config", "easd/easd.conf", out, cap);
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n')) {
        s[--n] = '\0';
    }
    return s;
}

/* No control characters: the value goes into a WBXML string a server shows to admins. */
static int printable(const char *v)
{
    for (; *v != '\0'; v++) {
        if ((unsigned char)*v < 0x20u || *v == 0x7f) {
            return 0;
        }
    }
    return 1;
}

static int set_str(char *dst, size_t cap, const char *v)
{
    if (strlen(v) >= cap) {
        return -1;
    }
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

/* Relative paths are relative to the configuration file, "~/" to $HOME. */
static int set_path(char *dst, size_t cap, const char *v, const char *cfgdir)
{
    char buf[EASD_PATH_MAX * 2];
    const char *home = getenv("HOME");
    if (v[0] == '\0') {
        return -1;
    }
    if (v[0] == '/') {
        (void)snprintf(buf, sizeof(buf), "%s", v);
    } else if (v[0] == '~' && v[1] == '/') {
        if (!home || home[0] != '/') {
            return -1;
        }
        (void)snprintf(buf, sizeof(buf), "%s/%s", home, v + 2);
    } else {
        (void)snprintf(buf, sizeof(buf), "%s/%s", cfgdir, v);
    }
    return set_str(dst, cap, buf);
}

static int parse_u32(const char *v, uint32_t lo, uint32_t hi, uint32_t *out)
{
    char *end = NULL;
    if (v[0] < '0' || v[0] > '9') {
        return -1;
    }
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno != 0 || *end != '\0' || x < lo || x > hi) {
        return -1;
    }
    *out = (uint32_t)x;
    return 0;
}

/* "calendar, contacts" -> EAS_CLASS_* */
static int parse_classes(const char *v, uint8_t *out)
{
    static const struct {
        const char *name;
        uint8_t bit;
    } names[] = {{"email", EAS_CLASS_EMAIL},
                 {"calendar", EAS_CLASS_CALENDAR},
                 {"contacts", EAS_CLASS_CONTACTS},
                 {"tasks", EAS_CLASS_TASKS},
                 {"notes", EAS_CLASS_NOTES}};
    uint8_t m = 0;
    const char *p = v;
    while (*p) {
        while (*p == ' ' || *p == ',') {
            p++;
        }
        size_t n = strcspn(p, " ,");
        if (n == 0) {
            break;
        }
        size_t i;
        for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
            if (strlen(names[i].name) == n && strncasecmp(p, names[i].name, n) == 0) {
                m |= names[i].bit;
                break;
            }
        }
        if (i == sizeof(names) / sizeof(names[0])) {
            return -1;
        }
        p += n;
    }
    if (m == 0) {
        return -1;
    }
    *out = m;
    return 0;
}

int easd_hosts_split(const char *list, char *buf, size_t cap, const char **hosts, size_t max)
{
    size_t n = 0;
    if (strlen(list) >= cap) {
        return -1;
    }
    memcpy(buf, list, strlen(list) + 1);
    for (char *p = buf; *p;) {
        while (*p == ' ' || *p == ',') {
            *p++ = '\0';
        }
        if (*p == '\0') {
            break;
        }
        if (n == max) {
            return -1;
        }
        hosts[n++] = p;
        for (; *p && *p != ' ' && *p != ','; p++) {
            /* a host name or an IP literal, nothing a URL could be bent with */
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                  *p == '.' || *p == '-' || *p == ':' || *p == '[' || *p == ']')) {
                return -1;
            }
        }
    }
    return (int)n;
}

static bool hosts_ok(const char *v)
{
    char buf[512];
    const char *h[EASD_REDIRECT_HOSTS];
    return easd_hosts_split(v, buf, sizeof(buf), h, EASD_REDIRECT_HOSTS) > 0;
}

int easd_config_load(const char *path, easd_config_t *cfg, char *err, size_t errcap)
{
    char cfgdir[EASD_PATH_MAX];
    char line[4096];
    FILE *f;
    unsigned ln = 0;
    int rc = 0;
    bool seen_state = false, seen_store = false;

    memset(cfg, 0, sizeof(*cfg));
    cfg->classes = EAS_CLASS_CALENDAR | EAS_CLASS_CONTACTS | EAS_CLASS_EMAIL;
    cfg->body_type = 1;
    cfg->body_truncation = 32768;
    cfg->heartbeat_s = 900;
    cfg->window_size = 100;
    cfg->log_level = HAL_LOG_INFO;
    cfg->log_target = EASD_LOG_STDERR;

    if (!path || strlen(path) >= sizeof(cfg->path)) {
        seterr(err, errcap, "configuration path too long");
        return -1;
    }
    if (path[0] == '/') {
        (void)snprintf(cfg->path, sizeof(cfg->path), "%s", path);
    } else {
        char cwd[EASD_PATH_MAX];
        if (!getcwd(cwd, sizeof(cwd))) {
            seterr(err, errcap, "cannot get the current directory");
            return -1;
        }
        if ((size_t)snprintf(cfg->path, sizeof(cfg->path), "%s/%s", cwd, path) >=
            sizeof(cfg->path)) {
            seterr(err, errcap, "configuration path too long");
            return -1;
        }
    }
    (void)snprintf(cfgdir, sizeof(cfgdir), "%s", cfg->path);
    *strrchr(cfgdir, '/') = '\0';
    if (cfgdir[0] == '\0') {
        (void)snprintf(cfgdir, sizeof(cfgdir), "/");
    }

    f = fopen(cfg->path, "r");
    if (!f) {
        seterr(err, errcap, "%s: %s", path, strerror(errno));
        return -1;
    }
    while (rc == 0 && fgets(line, sizeof(line), f)) {
        ln++;
        if (!strchr(line, '\n') && !feof(f)) {
            seterr(err, errcap, "%s:%u: line too long", path, ln);
            rc = -1;
            break;
        }
        char *s = trim(line);
        if (s[0] == '\0' || s[0] == '#') {
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq) {
            seterr(err, errcap, "%s:%u: expected \"key = value\"", path, ln);
            rc = -1;
            break;
        }
        *eq = '\0';
        char *k = trim(s);
        char *v = trim(eq + 1);
        int bad = 0;
        const char *why = "bad value";
        uint32_t u = 0;
        if (!strcmp(k, "address")) {
            bad = set_str(cfg->address, sizeof(cfg->address), v) || !strchr(v, '@');
            why = "not an e-mail address";
        } else if (!strcmp(k, "server")) {
            /* The engine never sends credentials over plain http: say so here. */
            bad = set_str(cfg->server, sizeof(cfg->server), v) || strncmp(v, "https://", 8) != 0;
            why = "not an https:// URL (credentials never go over plain http)";
        } else if (!strcmp(k, "redirect_allow")) {
            bad = set_str(cfg->redirect_allow, sizeof(cfg->redirect_allow), v) ||
                  !hosts_ok(v);
            why = "expected host names separated by commas (at most 8)";
        } else if (!strcmp(k, "device_model") || !strcmp(k, "device_name")) {
            char *dst = k[7] == 'm' ? cfg->device_model : cfg->device_name;
            bad = set_str(dst, sizeof(cfg->device_model), v) || v[0] == '\0' || !printable(v);
            why = "1 to 63 printable characters";
        } else if (!strcmp(k, "user")) {
            bad = set_str(cfg->user, sizeof(cfg->user), v) || v[0] == '\0';
        } else if (!strcmp(k, "auth")) {
            bad = strcmp(v, "basic") != 0 && strcmp(v, "oauth-device") != 0;
            cfg->auth_oauth = !strcmp(v, "oauth-device");
            why = "auth: basic or oauth-device";
        } else if (!strcmp(k, "oauth_client_id")) {
            bad = set_str(cfg->oauth_client_id, sizeof(cfg->oauth_client_id), v) || v[0] == '\0';
        } else if (!strcmp(k, "oauth_tenant")) {
            bad = set_str(cfg->oauth_tenant, sizeof(cfg->oauth_tenant), v) || v[0] == '\0';
        } else if (!strcmp(k, "oauth_authority")) {
            bad = set_str(cfg->oauth_authority, sizeof(cfg->oauth_authority), v) ||
                  strncmp(v, "https://", 8) != 0;
            why = "not an https URL";
        } else if (!strcmp(k, "oauth_scope")) {
            bad = set_str(cfg->oauth_scope, sizeof(cfg->oauth_scope), v) || v[0] == '\0';
        } else if (!strcmp(k, "oauth_device_endpoint")) {
            bad = set_str(cfg->oauth_device_endpoint, sizeof(cfg->oauth_device_endpoint), v) ||
                  (strncmp(v, "https://", 8) != 0 && strncmp(v, "http://", 7) != 0);
            why = "not an http(s) URL";
        } else if (!strcmp(k, "oauth_token_endpoint")) {
            bad = set_str(cfg->oauth_token_endpoint, sizeof(cfg->oauth_token_endpoint), v) ||
                  (strncmp(v, "https://", 8) != 0 && strncmp(v, "http://", 7) != 0);
            why = "not an http(s) URL";
        } else if (!strcmp(k, "oauth_token_file")) {
            bad = set_path(cfg->oauth_token_file, sizeof(cfg->oauth_token_file), v, cfgdir);
        } else if (!strcmp(k, "password_file")) {
            bad = set_path(cfg->password_file, sizeof(cfg->password_file), v, cfgdir);
        } else if (!strcmp(k, "password_command")) {
            bad = set_str(cfg->password_command, sizeof(cfg->password_command), v) || v[0] == '\0';
        } else if (!strcmp(k, "device_id")) {
            bad = set_str(cfg->device_id, sizeof(cfg->device_id), v) || v[0] == '\0';
            for (const char *c = v; !bad && *c; c++) {
                bad = !((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
                        (*c >= '0' && *c <= '9'));
            }
            why = "device id: 1..64 letters and digits";
        } else if (!strcmp(k, "ca_file")) {
            bad = set_path(cfg->ca_file, sizeof(cfg->ca_file), v, cfgdir);
        } else if (!strcmp(k, "state_dir")) {
            bad = set_path(cfg->state_dir, sizeof(cfg->state_dir), v, cfgdir);
            seen_state = true;
        } else if (!strcmp(k, "store_dir")) {
            bad = set_path(cfg->store_dir, sizeof(cfg->store_dir), v, cfgdir);
            seen_store = true;
        } else if (!strcmp(k, "classes")) {
            bad = parse_classes(v, &cfg->classes);
            why = "expected a list of email, calendar, contacts, tasks, notes";
        } else if (!strcmp(k, "body_type")) {
            bad = !(!strcmp(v, "text") || !strcmp(v, "html") || !strcmp(v, "mime"));
            cfg->body_type = !strcmp(v, "html") ? 2 : !strcmp(v, "mime") ? 4 : 1;
            why = "expected text, html or mime";
        } else if (!strcmp(k, "body_max_bytes")) {
            bad = parse_u32(v, 0, 100u * 1024u * 1024u, &u);
            cfg->body_truncation = u;
            why = "expected 0 .. 104857600";
        } else if (!strcmp(k, "heartbeat_max")) {
            bad = parse_u32(v, 60, 3540, &u);
            cfg->heartbeat_s = u;
            why = "expected seconds, 60 .. 3540";
        } else if (!strcmp(k, "window_size")) {
            bad = parse_u32(v, 1, 512, &u);
            cfg->window_size = (uint16_t)u;
            why = "expected 1 .. 512";
        } else if (!strcmp(k, "max_version")) {
            static const eas_proto_ver_t all[] = {EAS_VER_12_1, EAS_VER_14_0, EAS_VER_14_1,
                                                  EAS_VER_16_0, EAS_VER_16_1};
            bad = 1;
            for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
                if (!strcmp(v, eas_proto_ver_string(all[i]))) {
                    cfg->max_version = (uint8_t)all[i];
                    bad = 0;
                }
            }
            why = "expected 12.1, 14.0, 14.1, 16.0 or 16.1";
        } else if (!strcmp(k, "log_level")) {
            bad = 0;
            cfg->log_level = !strcmp(v, "error")   ? HAL_LOG_ERROR
                             : !strcmp(v, "warn")  ? HAL_LOG_WARN
                             : !strcmp(v, "info")  ? HAL_LOG_INFO
                             : !strcmp(v, "debug") ? HAL_LOG_DEBUG
                                                   : (bad = 1, HAL_LOG_INFO);
            why = "expected error, warn, info or debug";
        } else if (!strcmp(k, "log")) {
            bad = !(!strcmp(v, "stderr") || !strcmp(v, "syslog") || !strcmp(v, "journal"));
            cfg->log_target = !strcmp(v, "stderr") ? EASD_LOG_STDERR : EASD_LOG_SYSLOG;
            why = "expected stderr, syslog or journal";
        } else {
            seterr(err, errcap, "%s:%u: unknown key \"%s\"", path, ln, k);
            rc = -1;
            break;
        }
        if (bad) {
            seterr(err, errcap, "%s:%u: %s: %s", path, ln, k, why);
            rc = -1;
        }
    }
    fclose(f);
    if (rc != 0) {
        return rc;
    }
    if (cfg->server[0] == '\0' && cfg->address[0] == '\0') {
        seterr(err, errcap, "%s: \"server\" or \"address\" (for Autodiscover) is required", path);
        return -1;
    }
    if (cfg->user[0] == '\0') {
        if (cfg->address[0] == '\0') {
            seterr(err, errcap, "%s: \"user\" is required when there is no \"address\"", path);
            return -1;
        }
        (void)snprintf(cfg->user, sizeof(cfg->user), "%s", cfg->address);
    }
    if (cfg->auth_oauth) {
        if (cfg->oauth_client_id[0] == '\0') {
            seterr(err, errcap, "%s: auth = oauth-device needs \"oauth_client_id\"", path);
            return -1;
        }
        if (cfg->password_file[0] != '\0' || cfg->password_command[0] != '\0') {
            seterr(err, errcap, "%s: auth = oauth-device takes no password", path);
            return -1;
        }
    } else if ((cfg->password_file[0] != '\0') == (cfg->password_command[0] != '\0')) {
        seterr(err, errcap, "%s: exactly one of \"password_file\" and \"password_command\"", path);
        return -1;
    }
    if (!seen_state) {
        home_path("XDG_STATE_HOME", ".local/state", "easd", cfg->state_dir, sizeof(cfg->state_dir));
    }
    if (!seen_store) {
        home_path("XDG_DATA_HOME", ".local/share", "easd", cfg->store_dir, sizeof(cfg->store_dir));
    }
    if (strlen(cfg->state_dir) > 512 || strlen(cfg->store_dir) > 512) {
        seterr(err, errcap, "%s: state_dir and store_dir must be shorter than 512 bytes", path);
        return -1;
    }
    if (cfg->state_dir[0] != '/' || cfg->store_dir[0] != '/') {
        seterr(err, errcap, "%s: state_dir and store_dir need $HOME or absolute paths", path);
        return -1;
    }
    return 0;
}

static int first_line(char *buf, size_t n, char *out, size_t cap)
{
    size_t l = 0;
    while (l < n && buf[l] != '\n' && buf[l] != '\r' && buf[l] != '\0') {
        l++;
    }
    if (l == 0 || l >= cap) {
        return -1;
    }
    memcpy(out, buf, l);
    out[l] = '\0';
    return 0;
}

/* The command's standard output, with a deadline: a password helper that hangs (a locked
   keyring waiting for a prompt) must not hang the daemon. */
static int run_command(const char *cmd, char *out, size_t cap, char *err, size_t errcap)
{
    int pfd[2];
    char buf[1024];
    size_t n = 0;
    if (pipe2(pfd, O_CLOEXEC) != 0) {
        seterr(err, errcap, "password_command: pipe: %s", strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(pfd[0]);
        close(pfd[1]);
        seterr(err, errcap, "password_command: fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        (void)dup2(pfd[1], STDOUT_FILENO);
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0) {
            (void)dup2(nul, STDIN_FILENO);
        }
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    close(pfd[1]);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int timed_out = 0;
    for (;;) {
        struct timespec t1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        long el = (long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
        if (el >= PASSWORD_CMD_TIMEOUT_MS) {
            timed_out = 1;
            break;
        }
        struct pollfd p = {.fd = pfd[0], .events = POLLIN};
        int r = poll(&p, 1, (int)(PASSWORD_CMD_TIMEOUT_MS - el));
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            timed_out = r == 0;
            break;
        }
        ssize_t got = read(pfd[0], buf + n, sizeof(buf) - 1 - n);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            break;
        }
        n += (size_t)got;
        if (n >= sizeof(buf) - 1) {
            break;
        }
    }
    close(pfd[0]);
    if (timed_out) {
        (void)kill(pid, SIGKILL);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    int rc = 0;
    if (timed_out) {
        seterr(err, errcap, "password_command: no answer within %d s",
               PASSWORD_CMD_TIMEOUT_MS / 1000);
        rc = -1;
    } else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        seterr(err, errcap, "password_command failed (exit status %d)",
               WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        rc = -1;
    } else if (first_line(buf, n, out, cap) != 0) {
        seterr(err, errcap, "password_command printed no usable first line");
        rc = -1;
    }
    memset(buf, 0, sizeof(buf));
    return rc;
}

int easd_config_password(const easd_config_t *cfg, char *out, size_t cap, char *err, size_t errcap)
{
    if (cfg->password_command[0]) {
        return run_command(cfg->password_command, out, cap, err, errcap);
    }
    char *data = NULL;
    size_t len = 0;
    if (easd_read_file(cfg->password_file, &data, &len, 4096) != 0) {
        seterr(err, errcap, "cannot read password_file %s", cfg->password_file);
        return -1;
    }
    int rc = first_line(data, len, out, cap);
    memset(data, 0, len);
    free(data);
    if (rc != 0) {
        seterr(err, errcap, "password_file %s: no password on its first line", cfg->password_file);
    }
    return rc;
}

int easd_config_device_id(const easd_config_t *cfg, char *out, size_t cap)
{
    char path[EASD_PATH_MAX + 16];
    if (cfg->device_id[0]) {
        (void)snprintf(out, cap, "%s", cfg->device_id);
        return 0;
    }
    (void)snprintf(path, sizeof(path), "%s/device-id", cfg->state_dir);
    char *data = NULL;
    size_t len = 0;
    if (easd_read_file(path, &data, &len, 256) == 0) {
        int rc = first_line(data, len, out, cap);
        free(data);
        return rc;
    }
    /* Generated once: the server keys partnerships and policies by it. */
    uint8_t r[10];
    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r) || cap < 25) {
        return -1;
    }
    char id[32];
    int o = snprintf(id, sizeof(id), "EASD");
    for (size_t i = 0; i < sizeof(r); i++) {
        o += snprintf(id + o, sizeof(id) - (size_t)o, "%02X", r[i]);
    }
    char line[40];
    int l = snprintf(line, sizeof(line), "%s\n", id);
    if (easd_mkdirs(cfg->state_dir) != 0 || easd_write_atomic(path, line, (size_t)l) != 0) {
        return -1;
    }
    (void)snprintf(out, cap, "%s", id);
    return 0;
}
