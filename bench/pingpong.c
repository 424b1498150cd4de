// SPDX-License-Identifier: MIT
/*
 * nvmf-bench-pingpong: the TCP floors `make bench` compares NVMe/TCP against, measured on
 * 127.0.0.1 between two threads pinned to two CPUs (the target's and the host's).
 *
 * Ping-pong: the client (host CPU) sends a 72-byte request, the size of an NVMe/TCP command
 * capsule PDU (8-byte header + 64-byte SQE), and the server (target CPU) answers with
 * --resp bytes: 24 is the size of a CapsuleResp PDU (8-byte header + 16-byte CQE, the floor
 * of a command that moves no data), 4120 that of a C2HData PDU (24-byte header + 4 KiB of
 * data; with its SUCCESS flag, which the target sets, it completes a 4K read on its own).
 * Each round trip is timed (CLOCK_MONOTONIC) and its p50/p99/p99.9 reported, in two modes:
 * "block" (blocking send/recv: the thread sleeps in the kernel between messages) and "poll"
 * (MSG_DONTWAIT: both ends busy-poll). TCP_NODELAY is on.
 *
 * Bulk: one connection, the server thread writes 128 KiB chunks for --bulk-seconds and the
 * client thread reads them (the direction of a read's data, target to host).
 *
 * The result is one JSON object on stdout. This is a benchmark: it prints numbers and
 * never judges them; it exits non-zero only when a socket call fails.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PP_REQ_BYTES 72		    /* NVMe/TCP CapsuleCmd: 8-byte PDU header + 64-byte SQE */
#define PP_RESP_BYTES 24	    /* CapsuleResp: 8-byte PDU header + 16-byte CQE */
#define PP_C2H_4K_BYTES (24 + 4096) /* C2HData: 24-byte PDU header + 4 KiB of data */
#define PP_MAX_RESP_BYTES (1u << 20)
#define PP_WARMUP_RTTS 1000
#define PP_MAX_RESPS 8
#define BULK_CHUNK_BYTES (128u * 1024u)

enum pp_mode {
	PP_BLOCK = 0,
	PP_POLL = 1,
};

static const char *const pp_mode_name[] = { [PP_BLOCK] = "block", [PP_POLL] = "poll" };

/* One ping-pong or bulk test: what both threads share. */
struct pp_test {
	int lfd;		 /* listening socket, bound to 127.0.0.1 */
	struct sockaddr_in addr; /* its address */
	int cpu;		 /* the server thread's CPU */
	enum pp_mode mode;
	uint32_t resp_bytes;
	double bulk_s;
	/* filled by the server thread */
	int err; /* 0 or a positive errno */
	const char *err_what;
	double cpu_s; /* the server thread's CPU time, accept to EOF */
};

/* A growable array of round-trip times, ns. */
struct samples {
	uint32_t *v;
	size_t nr, cap;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double thread_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Pin the calling thread (pid 0 is the calling thread for sched_setaffinity). */
static int pin_self(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

static int set_nodelay(int fd)
{
	int one = 1;

	return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) ? -errno : 0;
}

/*
 * Send or receive exactly @len bytes. In poll mode the call never sleeps: EAGAIN loops.
 * Return: 0, -EPIPE if the peer closed the connection, or -errno.
 */
static int xfer_all(int fd, void *buf, size_t len, bool tx, enum pp_mode mode)
{
	int flags = mode == PP_POLL ? MSG_DONTWAIT : 0;
	uint8_t *p = buf;

	while (len) {
		ssize_t n = tx ? send(fd, p, len, flags | MSG_NOSIGNAL) : recv(fd, p, len, flags);

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n == 0)
			return -EPIPE;
		if (errno == EAGAIN || errno == EINTR)
			continue;
		return -errno;
	}
	return 0;
}

static int samples_add(struct samples *s, uint64_t ns)
{
	if (s->nr == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1u << 16;
		uint32_t *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->nr++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The @pct percentile of sorted @s, us (nearest rank). */
static double percentile_us(const struct samples *s, double pct)
{
	size_t rank;

	if (!s->nr)
		return 0;
	rank = (size_t)(pct / 100.0 * (double)s->nr + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > s->nr)
		rank = s->nr;
	return s->v[rank - 1] / 1e3;
}

static void server_fail(struct pp_test *t, const char *what, int err)
{
	if (!t->err) {
		t->err = err < 0 ? -err : err;
		t->err_what = what;
	}
}

/* The server thread: accept one connection, then answer (ping-pong) or stream (bulk). */
static void *server_main(void *arg)
{
	struct pp_test *t = arg;
	uint8_t *buf = NULL;
	double cpu0;
	int fd, ret;

	ret = pin_self(t->cpu);
	if (ret) {
		server_fail(t, "sched_setaffinity", ret);
		return NULL;
	}
	fd = accept(t->lfd, NULL, NULL);
	if (fd < 0) {
		server_fail(t, "accept", errno);
		return NULL;
	}
	cpu0 = thread_cpu_s();
	ret = set_nodelay(fd);
	if (ret) {
		server_fail(t, "setsockopt TCP_NODELAY", ret);
		goto out;
	}
	buf = calloc(1, t->bulk_s > 0 ? BULK_CHUNK_BYTES : t->resp_bytes + PP_REQ_BYTES);
	if (!buf) {
		server_fail(t, "calloc", ENOMEM);
		goto out;
	}
	if (t->bulk_s > 0) {
		uint64_t end = now_ns() + (uint64_t)(t->bulk_s * 1e9);

		while (now_ns() < end) {
			ret = xfer_all(fd, buf, BULK_CHUNK_BYTES, true, PP_BLOCK);
			if (ret) {
				server_fail(t, "send", ret);
				break;
			}
		}
		shutdown(fd, SHUT_WR);
		/* wait for the client's EOF so that its last read is on our clock too */
		while (recv(fd, buf, BULK_CHUNK_BYTES, 0) > 0)
			;
		goto out;
	}
	for (;;) {
		ret = xfer_all(fd, buf, PP_REQ_BYTES, false, t->mode);
		if (ret == -EPIPE)
			break; /* the client is done */
		if (ret) {
			server_fail(t, "recv", ret);
			break;
		}
		ret = xfer_all(fd, buf + PP_REQ_BYTES, t->resp_bytes, true, t->mode);
		if (ret) {
			server_fail(t, "send", ret);
			break;
		}
	}
out:
	t->cpu_s = thread_cpu_s() - cpu0;
	free(buf);
	close(fd);
	return NULL;
}

static int client_connect(const struct pp_test *t, int *out)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), ret;

	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)&t->addr, sizeof(t->addr))) {
		ret = -errno;
		close(fd);
		return ret;
	}
	ret = set_nodelay(fd);
	if (ret) {
		close(fd);
		return ret;
	}
	*out = fd;
	return 0;
}

static void print_err(const char *test, const char *what, int err)
{
	fprintf(stderr, "nvmf-bench-pingpong: %s: %s: %s\n", test, what, strerror(err));
}

/*
 * One ping-pong test for @seconds; prints its JSON object (after @sep) to stdout.
 * Return: 0 or -errno.
 */
static int run_pingpong(struct pp_test *t, double seconds, const char *sep)
{
	struct samples s = { 0 };
	uint8_t *buf = calloc(1, t->resp_bytes + PP_REQ_BYTES);
	uint64_t start = 0, end, deadline;
	uint64_t n = 0;
	double cpu0 = 0, cpu_s;
	pthread_t tid;
	int fd = -1, ret;

	if (!buf)
		return -ENOMEM;
	t->err = 0;
	t->cpu_s = 0;
	t->bulk_s = 0;
	if (pthread_create(&tid, NULL, server_main, t)) {
		free(buf);
		return -EAGAIN;
	}
	ret = client_connect(t, &fd);
	if (ret) {
		print_err(pp_mode_name[t->mode], "connect", -ret);
		/* fails the server's accept(): the listening socket is not used again */
		shutdown(t->lfd, SHUT_RDWR);
		pthread_join(tid, NULL);
		free(buf);
		return ret;
	}
	deadline = now_ns() + (uint64_t)(seconds * 1e9);
	for (;;) {
		uint64_t t0 = now_ns();

		if (n == PP_WARMUP_RTTS) {
			start = t0;
			cpu0 = thread_cpu_s();
		}
		if (t0 >= deadline && n > PP_WARMUP_RTTS)
			break;
		ret = xfer_all(fd, buf, PP_REQ_BYTES, true, t->mode);
		if (!ret)
			ret = xfer_all(fd, buf + PP_REQ_BYTES, t->resp_bytes, false, t->mode);
		if (ret) {
			print_err(pp_mode_name[t->mode], "send/recv", -ret);
			break;
		}
		if (n++ >= PP_WARMUP_RTTS) {
			ret = samples_add(&s, now_ns() - t0);
			if (ret)
				break;
		}
	}
	end = now_ns();
	cpu_s = thread_cpu_s() - cpu0;
	close(fd);
	pthread_join(tid, NULL);
	if (!ret && t->err) {
		print_err(pp_mode_name[t->mode], t->err_what, t->err);
		ret = -t->err;
	}
	if (!ret) {
		double secs = (double)(end - start) / 1e9;
		double avg = 0;

		for (size_t i = 0; i < s.nr; i++)
			avg += s.v[i];
		avg = s.nr ? avg / (double)s.nr / 1e3 : 0;
		qsort(s.v, s.nr, sizeof(*s.v), cmp_u32);
		printf("%s\n    { \"mode\": \"%s\", \"req_bytes\": %u, \"resp_bytes\": %u, "
		       "\"round_trips\": %zu, \"seconds\": %.3f, \"rate\": %.1f,\n"
		       "      \"rtt_us\": { \"avg\": %.3f, \"min\": %.3f, \"p50\": %.3f, "
		       "\"p99\": %.3f, \"p99_9\": %.3f, \"max\": %.3f },\n"
		       "      \"client_cpu_s\": %.3f, \"server_cpu_s\": %.3f, "
		       "\"cpu_us_per_round_trip\": %.3f }",
		       sep, pp_mode_name[t->mode], PP_REQ_BYTES, t->resp_bytes, s.nr, secs,
		       secs > 0 ? (double)s.nr / secs : 0, avg, percentile_us(&s, 0),
		       percentile_us(&s, 50), percentile_us(&s, 99), percentile_us(&s, 99.9),
		       percentile_us(&s, 100), cpu_s, t->cpu_s,
		       s.nr ? (cpu_s + t->cpu_s) * 1e6 / (double)s.nr : 0);
	}
	free(s.v);
	free(buf);
	return ret;
}

/* The bulk stream, server to client; prints its JSON object. Return: 0 or -errno. */
static int run_bulk(struct pp_test *t, double seconds)
{
	uint8_t *buf = malloc(BULK_CHUNK_BYTES);
	uint64_t bytes = 0, start, end;
	double cpu0, cpu_s, secs;
	pthread_t tid;
	int fd = -1, ret;

	if (!buf)
		return -ENOMEM;
	t->err = 0;
	t->cpu_s = 0;
	t->bulk_s = seconds;
	if (pthread_create(&tid, NULL, server_main, t)) {
		free(buf);
		return -EAGAIN;
	}
	ret = client_connect(t, &fd);
	if (ret) {
		print_err("bulk", "connect", -ret);
		shutdown(t->lfd, SHUT_RDWR);
		pthread_join(tid, NULL);
		free(buf);
		return ret;
	}
	start = now_ns();
	cpu0 = thread_cpu_s();
	for (;;) {
		ssize_t n = recv(fd, buf, BULK_CHUNK_BYTES, 0);

		if (n > 0) {
			bytes += (uint64_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			print_err("bulk", "recv", errno);
		}
		break;
	}
	end = now_ns();
	cpu_s = thread_cpu_s() - cpu0;
	close(fd);
	pthread_join(tid, NULL);
	if (!ret && t->err) {
		print_err("bulk", t->err_what, t->err);
		ret = -t->err;
	}
	secs = (double)(end - start) / 1e9;
	if (!ret)
		printf("  \"bulk\": { \"chunk_bytes\": %u, \"bytes\": %llu, \"seconds\": %.3f, "
		       "\"gbit_s\": %.3f, \"mib_s\": %.1f,\n"
		       "    \"receiver_cpu_s\": %.3f, \"sender_cpu_s\": %.3f }",
		       BULK_CHUNK_BYTES, (unsigned long long)bytes, secs,
		       secs > 0 ? (double)bytes * 8 / secs / 1e9 : 0,
		       secs > 0 ? (double)bytes / secs / (1 << 20) : 0, cpu_s, t->cpu_s);
	free(buf);
	return ret;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: nvmf-bench-pingpong [OPTIONS]\n"
		"TCP floors on 127.0.0.1 between two pinned threads; one JSON object on stdout.\n"
		"  -s, --server-cpu N      CPU of the server (target side) thread (default 0)\n"
		"  -c, --client-cpu N      CPU of the client (host side) thread (default 1)\n"
		"  -t, --seconds S         seconds per ping-pong test (default 2)\n"
		"  -b, --bulk-seconds S    seconds of bulk stream, 0 to skip (default 5)\n"
		"  -m, --modes LIST        ping-pong modes: block,poll (default both)\n"
		"  -r, --resp LIST         reply sizes in bytes (default 24,4120)\n");
}

/* "a,b,c" of unsigned numbers into @v (at most @max). Return: the count, or -EINVAL. */
static int parse_list(const char *s, uint32_t *v, int max)
{
	int n = 0;

	while (*s) {
		char *end;
		unsigned long x = strtoul(s, &end, 0);

		if (end == s || n == max || !x || x > PP_MAX_RESP_BYTES)
			return -EINVAL;
		v[n++] = (uint32_t)x;
		s = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			return -EINVAL;
	}
	return n ? n : -EINVAL;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "server-cpu", required_argument, NULL, 's' },
		{ "client-cpu", required_argument, NULL, 'c' },
		{ "seconds", required_argument, NULL, 't' },
		{ "bulk-seconds", required_argument, NULL, 'b' },
		{ "modes", required_argument, NULL, 'm' },
		{ "resp", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int server_cpu = 0, client_cpu = ncpu > 1 ? 1 : 0, nr_resp = 2, c, ret = 0;
	bool modes[2] = { true, true };
	uint32_t resp[PP_MAX_RESPS] = { PP_RESP_BYTES, PP_C2H_4K_BYTES };
	double seconds = 2, bulk_s = 5;
	socklen_t alen;
	struct pp_test t = { .lfd = -1 };
	const char *sep = "";

	while ((c = getopt_long(argc, argv, "s:c:t:b:m:r:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			server_cpu = atoi(optarg);
			break;
		case 'c':
			client_cpu = atoi(optarg);
			break;
		case 't':
			seconds = strtod(optarg, NULL);
			break;
		case 'b':
			bulk_s = strtod(optarg, NULL);
			break;
		case 'm':
			modes[PP_BLOCK] = strstr(optarg, "block") != NULL;
			modes[PP_POLL] = strstr(optarg, "poll") != NULL;
			break;
		case 'r':
			nr_resp = parse_list(optarg, resp, PP_MAX_RESPS);
			if (nr_resp < 0) {
				usage(stderr);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || server_cpu < 0 || client_cpu < 0 || server_cpu >= CPU_SETSIZE ||
	    client_cpu >= CPU_SETSIZE || !(seconds > 0) || bulk_s < 0) {
		usage(stderr);
		return 2;
	}

	t.lfd = socket(AF_INET, SOCK_STREAM, 0);
	t.addr.sin_family = AF_INET;
	t.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	alen = sizeof(t.addr);
	if (t.lfd < 0 || bind(t.lfd, (struct sockaddr *)&t.addr, sizeof(t.addr)) ||
	    getsockname(t.lfd, (struct sockaddr *)&t.addr, &alen) || listen(t.lfd, 4)) {
		print_err("setup", "listen on 127.0.0.1", errno);
		return 1;
	}
	t.cpu = server_cpu;
	ret = pin_self(client_cpu);
	if (ret) {
		print_err("setup", "sched_setaffinity", -ret);
		return 1;
	}

	printf("{ \"server_cpu\": %d, \"client_cpu\": %d, \"pingpong\": [", server_cpu, client_cpu);
	for (int m = PP_BLOCK; m <= PP_POLL && !ret; m++) {
		if (!modes[m])
			continue;
		for (int i = 0; i < nr_resp && !ret; i++) {
			t.mode = (enum pp_mode)m;
			t.resp_bytes = resp[i];
			ret = run_pingpong(&t, seconds, sep);
			sep = ",";
			fflush(stdout);
		}
	}
	printf(" ]");
	if (!ret && bulk_s > 0) {
		printf(",\n");
		ret = run_bulk(&t, bulk_s);
	}
	printf(" }\n");
	close(t.lfd);
	return ret ? 1 : 0;
}
