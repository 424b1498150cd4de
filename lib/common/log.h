/* SPDX-License-Identifier: MIT */
#ifndef NVMF_COMMON_LOG_H
#define NVMF_COMMON_LOG_H

#include <stdarg.h>

enum nvmf_log_level {
	NVMF_LOG_ERR = 3,
	NVMF_LOG_WARN = 4,
	NVMF_LOG_NOTICE = 5,
	NVMF_LOG_INFO = 6,
	NVMF_LOG_DEBUG = 7,
};

/**
 * nvmf_log_set_level() - set the most verbose level that is printed
 * @level: one of enum nvmf_log_level (syslog numbering)
 */
void nvmf_log_set_level(enum nvmf_log_level level);

/**
 * nvmf_log_enabled() - tell whether @level would be printed
 * @level: one of enum nvmf_log_level
 *
 * Return: true if a message at @level is printed.
 */
int nvmf_log_enabled(enum nvmf_log_level level);

/**
 * nvmf_log() - print one line to stderr with a level tag and the reactor id
 * @level: one of enum nvmf_log_level
 * @fmt: printf format; a trailing newline is added
 */
void nvmf_log(enum nvmf_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define nvmf_err(...) nvmf_log(NVMF_LOG_ERR, __VA_ARGS__)
#define nvmf_warn(...) nvmf_log(NVMF_LOG_WARN, __VA_ARGS__)
#define nvmf_notice(...) nvmf_log(NVMF_LOG_NOTICE, __VA_ARGS__)
#define nvmf_info(...) nvmf_log(NVMF_LOG_INFO, __VA_ARGS__)
#define nvmf_debug(...)                                                                            \
	do {                                                                                       \
		if (nvmf_log_enabled(NVMF_LOG_DEBUG))                                              \
			nvmf_log(NVMF_LOG_DEBUG, __VA_ARGS__);                                     \
	} while (0)

#endif
