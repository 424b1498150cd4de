// SPDX-License-Identifier: MIT
/* Logging: one line per call, written with a single write(2) so lines never interleave. */
#include "log.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_int log_level = NVMF_LOG_NOTICE;

void nvmf_log_set_level(enum nvmf_log_level level)
{
	atomic_store_explicit(&log_level, (int)level, memory_order_relaxed);
}

int nvmf_log_enabled(enum nvmf_log_level level)
{
	return (int)level <= atomic_load_explicit(&log_level, memory_order_relaxed);
}

void nvmf_log(enum nvmf_log_level level, const char *fmt, ...)
{
	static const char *const tag[] = {
		[NVMF_LOG_ERR] = "error", [NVMF_LOG_WARN] = "warning", [NVMF_LOG_NOTICE] = "notice",
		[NVMF_LOG_INFO] = "info", [NVMF_LOG_DEBUG] = "debug",
	};
	char line[1024];
	struct timespec ts;
	va_list ap;
	int n, m;

	if (!nvmf_log_enabled(level))
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	n = snprintf(line, sizeof(line), "[%lld.%06ld] %s: ", (long long)ts.tv_sec,
		     ts.tv_nsec / 1000, tag[level] ? tag[level] : "log");
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}
