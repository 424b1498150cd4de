/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the admin and discovery command sets: building Identify strings and
 * serving log pages at any offset (Get Log Page LPO, NVMe Base 2.0c 5.16).
 */
#ifndef NVMF_TARGET_LOGPAGE_H
#define NVMF_TARGET_LOGPAGE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Identify strings (SN, MN, FR) are ASCII padded with spaces, not NUL terminated. */
static inline void nvmf_copy_padded(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size);

	memcpy(dst, src, n);
	memset(dst + n, ' ', size - n);
}

/* NQN and address fields are NUL padded, as Linux nvmet writes them. */
static inline void nvmf_copy_str(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	memset(dst + n, 0, size - n);
}

static inline uint8_t nvmf_ilog2_u32(uint32_t v)
{
	uint8_t r = 0;

	while (v >>= 1)
		r++;
	return r;
}

/*
 * A window [off, off + len) onto a log page produced front to back with log_put() and
 * log_skip(): only the bytes inside the window land in @dst, which is zeroed first, so the
 * part of the window past the end of the log reads as zeroes, as with Linux nvmet.
 */
struct log_win {
	uint8_t *dst;
	uint64_t off; /* bytes: Log Page Offset */
	uint64_t end;
	uint64_t pos; /* bytes of the log produced so far */
};

static inline void log_win_init(struct log_win *w, void *dst, uint64_t off, size_t len)
{
	w->dst = dst;
	w->off = off;
	w->end = off > UINT64_MAX - len ? UINT64_MAX : off + len;
	w->pos = 0;
	memset(dst, 0, len);
}

static inline void log_put(struct log_win *w, const void *src, size_t n)
{
	uint64_t start = w->pos;
	uint64_t stop = start + n;
	uint64_t lo = start > w->off ? start : w->off;
	uint64_t hi = stop < w->end ? stop : w->end;

	if (lo < hi)
		memcpy(w->dst + (lo - w->off), (const uint8_t *)src + (lo - start), hi - lo);
	w->pos = stop;
}

static inline void log_skip(struct log_win *w, size_t n)
{
	w->pos += n;
}

#endif
