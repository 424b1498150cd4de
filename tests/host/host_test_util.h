/* SPDX-License-Identifier: MIT */
/*
 * Small helpers shared by the NVMe/TCP host tests (test_host_tcp.c against the daemon,
 * test_host_tcp_proto.c against a scripted fake controller). Static inline: each test
 * binary takes what it uses. Include after <cmocka.h>.
 */
#ifndef NVMF_HOST_TEST_UTIL_H
#define NVMF_HOST_TEST_UTIL_H

#include "common/reactor.h"
#include "nvmf/spec.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* CLOCK_MONOTONIC in ms: deadlines of the waits (never a timing check) */
static inline uint64_t now_ms(void)
{
	return nvmf_now_ns() / 1000000;
}

/* A reproducible byte pattern of @len bytes from @seed (an LCG). */
static inline void fill(uint8_t *buf, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		buf[i] = (uint8_t)(seed >> 16);
	}
}

/* A TCP port on 127.0.0.1 that was free a moment ago (never 4420 or 8009), as a string. */
static inline void free_port(char *out, size_t len)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	close(fd);
	snprintf(out, len, "%u", ntohs(sa.sin_port));
	assert_true(strcmp(out, "4420") && strcmp(out, "8009"));
}

/* One asynchronous command's outcome: how many times its callback ran, the last status. */
struct io_ctx {
	int calls;
	int status;
};

/* nvmf_host_cb with a struct io_ctx as @arg */
static inline void io_cb(void *arg, int status, const struct nvme_cqe *cqe)
{
	struct io_ctx *c = arg;

	(void)cqe;
	c->calls++;
	c->status = status;
}

/* a numeric environment setting of a test (decimal, 0x hex or 0 octal), @def if unset or bad */
static inline unsigned long env_ulong(const char *name, unsigned long def)
{
	const char *v = getenv(name);
	char *end;
	unsigned long n;

	if (!v || !*v)
		return def;
	n = strtoul(v, &end, 0);
	return *end ? def : n;
}

#endif
