/* SPDX-License-Identifier: Apache-2.0 */
/* The log sink: stderr lines with a UTC timestamp, or syslog. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "easd_linux.h"

#define LX_LOG_LINE_MAX 1024

static easd_linux_log_sink_t g_sink = EASD_LINUX_LOG_STDERR;
static hal_log_level_t g_min = HAL_LOG_INFO;
static int g_syslog_open;

void easd_linux_log_config(const easd_linux_log_config_t *cfg)
{
    if (cfg == NULL) {
        return;
    }
    if (g_syslog_open && cfg->sink != EASD_LINUX_LOG_SYSLOG) {
        closelog();
        g_syslog_open = 0;
    }
    g_sink = cfg->sink;
    g_min = cfg->min_level;
    if (g_sink == EASD_LINUX_LOG_SYSLOG && !g_syslog_open) {
        openlog((cfg->ident != NULL) ? cfg->ident : "easd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
        g_syslog_open = 1;
    }
}

static char level_char(hal_log_level_t level)
{
    char c = '?';

    switch (level) {
    case HAL_LOG_ERROR:
        c = 'E';
        break;
    case HAL_LOG_WARN:
        c = 'W';
        break;
    case HAL_LOG_INFO:
        c = 'I';
        break;
    case HAL_LOG_DEBUG:
        c = 'D';
        break;
    default:
        break;
    }
    return c;
}

static int level_prio(hal_log_level_t level)
{
    int p = LOG_DEBUG;

    if (level == HAL_LOG_ERROR) {
        p = LOG_ERR;
    } else if (level == HAL_LOG_WARN) {
        p = LOG_WARNING;
    } else if (level == HAL_LOG_INFO) {
        p = LOG_INFO;
    }
    return p;
}

void easd_linux_log_write(hal_log_level_t level, const char *module, const char *msg, size_t len)
{
    char line[LX_LOG_LINE_MAX];
    struct timespec ts = {0, 0};
    struct tm tm;
    size_t n = 0u;
    size_t i;
    int k;

    if (level > g_min || g_sink == EASD_LINUX_LOG_NONE || msg == NULL) {
        return;
    }
    if (module == NULL) {
        module = "-";
    }
    if (g_sink == EASD_LINUX_LOG_STDERR) {
        (void)clock_gettime(CLOCK_REALTIME, &ts);
        (void)gmtime_r(&ts.tv_sec, &tm);
        k = snprintf(line, sizeof(line),
                     "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %c %s: ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (long)(ts.tv_nsec / 1000000L), level_char(level), module);
    } else {
        k = snprintf(line, sizeof(line), "%s: ", module);
    }
    if (k < 0) {
        return;
    }
    n = ((size_t)k < sizeof(line)) ? (size_t)k : sizeof(line) - 1u;
    /* Messages may quote server data: control bytes would forge extra log lines. */
    for (i = 0u; i < len && n < sizeof(line) - 2u; i++) {
        unsigned char c = (unsigned char)msg[i];
        line[n++] = (c < 0x20u || c == 0x7fu) ? '?' : (char)c;
    }
    if (g_sink == EASD_LINUX_LOG_SYSLOG) {
        line[n] = '\0';
        syslog(level_prio(level), "%s", line);
    } else {
        line[n++] = '\n';
        /* One write per line so lines from several threads or processes do not interleave. */
        (void)!write(STDERR_FILENO, line, n);
    }
}

void easd_linux_logf(hal_log_level_t level, const char *module, const char *fmt, ...)
{
    char msg[LX_LOG_LINE_MAX];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n > 0) {
        easd_linux_log_write(level, module, msg,
                             (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1u);
    }
}
