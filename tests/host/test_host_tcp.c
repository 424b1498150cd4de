// SPDX-License-Identifier: MIT
/*
 * The NVMe/TCP host transport (lib/host/transport-tcp.c).
 *
 * Against the real nvmf-tgt daemon on 127.0.0.1 (path in argv[1] or NVMF_TGT; a random free
 * port; never 4420/8009): writes that go in-capsule (4 KiB) and through R2T (128 KiB, 1 MiB
 * + 4 KiB) read back byte for byte, with and without digests, polled and threaded, many at
 * once; and a daemon killed with SIGKILL under I/O in flight: every command completes once,
 * with -ENOLINK, the controller goes RESETTING -> CONNECTING and reconnects to a new daemon.
 *
 * Against a scripted fake controller (a thread on a loopback socket) driving one queue of
 * the transport directly: what the daemon never sends (H2CData split by a small MAXH2CDATA,
 * C2HData SUCCESS, data digest errors) and hostile input (unknown CIDs, data out of range,
 * bad digests, early responses, termination requests, EOF mid-PDU, a bad ICResp). Each ends
 * the connection with the right H2CTermReq, completes the command exactly once, and never
 * writes outside its buffer.
 */
#include "host/ctrl.h"
#include "host/host-internal.h"
#include "host/queue.h"
#include "tcp/pdu.h"
#include "common/crc32c.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#define SUBNQN "nqn.2024-01.io.nvmf.test:host-tcp"
#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:2b7a4c1e-5d3f-4a8b-9c6e-1f0d2e3a4b5c"
#define MDTS (2u << 20)
#define BIG_LEN ((1u << 20) + 4096) /* 1 MiB + 4 KiB, through R2T */
#define GUARD 64

static const char *tgt_path;

static uint64_t now_ms(void)
{
	return nvmf_now_ns() / 1000000;
}

static void fill(uint8_t *buf, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		buf[i] = (uint8_t)(seed >> 16);
	}
}

/* ------------------------------------------------------------------------------------------
 * The daemon
 */

struct daemon {
	pid_t pid;
	char dir[64];
	char port[16];
};

/* Daemons still running: a failed assertion must not leave one behind (killed in main). */
static pid_t live_pids[8];

static void live_add(pid_t pid)
{
	for (unsigned int i = 0; i < 8; i++) {
		if (!live_pids[i]) {
			live_pids[i] = pid;
			return;
		}
	}
}

static void live_del(pid_t pid)
{
	for (unsigned int i = 0; i < 8; i++)
		if (live_pids[i] == pid)
			live_pids[i] = 0;
}

static void live_kill_all(void)
{
	for (unsigned int i = 0; i < 8; i++) {
		if (live_pids[i]) {
			kill(live_pids[i], SIGKILL);
			waitpid(live_pids[i], NULL, 0);
			live_pids[i] = 0;
		}
	}
}

static void free_port(char *out, size_t len)
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

static bool port_open(const char *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				  .sin_port = htons((uint16_t)atoi(port)) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;

	if (fd >= 0)
		close(fd);
	return ok;
}

/* Start nvmf-tgt with one subsystem (a 64 MiB mem namespace) on @port (NULL: a free one). */
static void daemon_start(struct daemon *d, const char *port)
{
	char cfg[512], log[512];
	uint64_t deadline;
	FILE *f;

	memset(d, 0, sizeof(*d));
	snprintf(d->dir, sizeof(d->dir), "/tmp/nvmf-host-tcp-XXXXXX");
	assert_non_null(mkdtemp(d->dir));
	if (port)
		snprintf(d->port, sizeof(d->port), "%s", port);
	else
		free_port(d->port, sizeof(d->port));
	snprintf(cfg, sizeof(cfg), "%s/nvmf.json", d->dir);
	snprintf(log, sizeof(log), "%s/nvmf-tgt.log", d->dir);
	f = fopen(cfg, "w");
	assert_non_null(f);
	fprintf(f,
		"{\"hosts\": [], \"nvmf\": {\"reactors\": 2},\n"
		" \"ports\": [{\"portid\": 1, \"addr\": {\"trtype\": \"tcp\", \"adrfam\": "
		"\"ipv4\",\n"
		"   \"traddr\": \"127.0.0.1\", \"trsvcid\": \"%s\", \"treq\": \"not specified\"},\n"
		"   \"subsystems\": [\"%s\"], \"referrals\": [],\n"
		"   \"ana_groups\": [{\"grpid\": 1, \"ana\": {\"state\": \"optimized\"}}],\n"
		"   \"param\": {}}],\n"
		" \"subsystems\": [{\"nqn\": \"%s\",\n"
		"   \"attr\": {\"allow_any_host\": \"1\", \"serial\": \"host-tcp-1\",\n"
		"            \"model\": \"nvmf-host-tcp\", \"version\": \"1.3\"},\n"
		"   \"allowed_hosts\": [],\n"
		"   \"namespaces\": [{\"nsid\": 1, \"enable\": 1, \"ana_grpid\": 1,\n"
		"     \"device\": {\"path\": \"\", \"nvmf_backend\": \"mem\", \"nvmf_size\": "
		"\"64M\"}}]}]}\n",
		d->port, SUBNQN, SUBNQN);
	fclose(f);

	d->pid = fork();
	assert_true(d->pid >= 0);
	if (!d->pid) {
		char mdts[16];
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		snprintf(mdts, sizeof(mdts), "%u", MDTS);
		execl(tgt_path, tgt_path, "-c", cfg, "--mdts", mdts, "-v", (char *)NULL);
		_exit(127);
	}
	live_add(d->pid);
	deadline = now_ms() + 10000;
	while (!port_open(d->port)) {
		int st;

		if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
			fprintf(stderr, "nvmf-tgt exited (status 0x%x), log in %s\n", st, log);
			live_del(d->pid);
			fail();
		}
		assert_true(now_ms() < deadline);
		usleep(20000);
	}
}

static void daemon_cleanup(struct daemon *d)
{
	char path[512];

	if (getenv("NVMF_TEST_KEEP")) {
		fprintf(stderr, "kept %s\n", d->dir);
		return;
	}
	snprintf(path, sizeof(path), "%s/nvmf.json", d->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/nvmf-tgt.log", d->dir);
	unlink(path);
	rmdir(d->dir);
}

/* SIGTERM must bring a clean exit (status 0) within 10 s; SIGKILL just ends it. */
static void daemon_stop(struct daemon *d, int sig)
{
	uint64_t deadline = now_ms() + 10000;
	int st = 0;

	if (d->pid <= 0)
		return;
	kill(d->pid, sig);
	while (waitpid(d->pid, &st, WNOHANG) != d->pid) {
		if (now_ms() > deadline) {
			kill(d->pid, SIGKILL);
			waitpid(d->pid, &st, 0);
			live_del(d->pid);
			fail_msg("nvmf-tgt did not stop on signal %d", sig);
		}
		usleep(10000);
	}
	live_del(d->pid);
	d->pid = 0;
	if (sig == SIGTERM) {
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
	}
}

static int daemon_group_setup(void **state)
{
	struct daemon *d = calloc(1, sizeof(*d));

	if (!tgt_path) {
		fprintf(stderr, "nvmf-tgt not given (argv[1] or NVMF_TGT)\n");
		free(d);
		return -1;
	}
	daemon_start(d, NULL);
	*state = d;
	return 0;
}

static int daemon_group_teardown(void **state)
{
	struct daemon *d = *state;

	daemon_stop(d, SIGTERM);
	daemon_cleanup(d);
	free(d);
	return 0;
}

/* ------------------------------------------------------------------------------------------
 * Host against the daemon
 */

static void host_opts(struct nvmf_host_opts *o, const char *port, bool hdgst, bool ddgst)
{
	memset(o, 0, sizeof(*o));
	o->trtype = "tcp";
	o->traddr = "127.0.0.1";
	o->trsvcid = port;
	o->subnqn = SUBNQN;
	o->hostnqn = HOSTNQN;
	o->hdgst = hdgst;
	o->ddgst = ddgst;
	o->nr_io_queues = 2;
	o->queue_size = 32;
}

/* Write @len bytes at @slba, read them back into another buffer, compare; guard the tail. */
static void roundtrip(struct nvmf_host_ctrl *ctrl, uint64_t slba, uint32_t len, uint32_t seed)
{
	uint8_t *wbuf = malloc(len), *rbuf = malloc(len + GUARD);

	assert_non_null(wbuf);
	assert_non_null(rbuf);
	fill(wbuf, len, seed);
	memset(rbuf, 0x5a, len + GUARD);
	assert_int_equal(nvmf_host_write(ctrl, 1, slba, len / 512, wbuf, false), 0);
	assert_int_equal(nvmf_host_read(ctrl, 1, slba, len / 512, rbuf), 0);
	assert_memory_equal(wbuf, rbuf, len);
	for (unsigned int i = 0; i < GUARD; i++)
		assert_int_equal(rbuf[len + i], 0x5a);
	free(wbuf);
	free(rbuf);
}

static void io_roundtrips(void **state, bool hdgst, bool ddgst, bool threaded)
{
	struct daemon *d = *state;
	struct nvmf_host_opts o;
	struct nvmf_host_ctrl *ctrl = NULL;
	struct nvmf_host_ns_info ns[4];

	host_opts(&o, d->port, hdgst, ddgst);
	o.threaded = threaded;
	assert_int_equal(nvmf_host_ctrl_connect(&o, &ctrl), 0);
	assert_int_equal(nvmf_host_ctrl_get_state(ctrl), NVMF_CTRL_LIVE);
	assert_int_equal(nvmf_host_ctrl_nr_io_queues(ctrl), 2);
	assert_int_equal(nvmf_host_ns_list(ctrl, ns, 4), 1);
	assert_int_equal(ns[0].nsid, 1);
	assert_int_equal(ns[0].lba_shift, 9);
	/* 4 KiB fits in the capsule (IOCCSZ), 128 KiB and more take the R2T path */
	assert_true(ctrl->ioq[1]->icd_max >= 4096 && ctrl->ioq[1]->icd_max < 128 * 1024);

	roundtrip(ctrl, 0, 4096, 1 + hdgst + 2 * ddgst);
	roundtrip(ctrl, 8, 512, 7);
	roundtrip(ctrl, 1000, 128 * 1024, 2);
	roundtrip(ctrl, 5000, BIG_LEN, 3);
	roundtrip(ctrl, 20000, MDTS, 4);
	nvmf_host_ctrl_delete(ctrl);
}

static void ka_state_cb(struct nvmf_host_ctrl *ctrl, enum nvmf_host_ctrl_state old,
			enum nvmf_host_ctrl_state state, void *arg)
{
	(void)ctrl;
	(void)old;
	if (state != NVMF_CTRL_LIVE)
		(*(int *)arg)++;
}

/*
 * Keep-alive: KATO 1 s and 3.5 s of silence from the application. The target drops an
 * association that sends nothing for a KATO, so staying LIVE on the same controller ID,
 * with no state change at all, means the library's keep-alives went out.
 */
static void test_keep_alive_idle(void **state)
{
	struct daemon *d = *state;
	struct nvmf_host_opts o;
	struct nvmf_host_ctrl *ctrl = NULL;
	int left_live = 0;
	uint16_t cntlid;
	uint64_t end;

	host_opts(&o, d->port, false, false);
	o.kato_ms = 1000;
	o.state_cb = ka_state_cb;
	o.cb_arg = &left_live;
	assert_int_equal(nvmf_host_ctrl_connect(&o, &ctrl), 0);
	/* NEW -> CONNECTING -> LIVE happened during connect: count from here */
	left_live = 0;
	cntlid = nvmf_host_ctrl_cntlid(ctrl);
	end = now_ms() + 3500;
	while (now_ms() < end)
		assert_int_equal(nvmf_host_poll(ctrl, 50), 0);
	assert_int_equal(nvmf_host_ctrl_get_state(ctrl), NVMF_CTRL_LIVE);
	assert_int_equal(nvmf_host_ctrl_cntlid(ctrl), cntlid);
	assert_int_equal(left_live, 0);
	roundtrip(ctrl, 64, 4096, 11);
	nvmf_host_ctrl_delete(ctrl);
}

static void test_io_nodigest(void **state)
{
	io_roundtrips(state, false, false, false);
}

static void test_io_hdgst(void **state)
{
	io_roundtrips(state, true, false, false);
}

static void test_io_ddgst(void **state)
{
	io_roundtrips(state, false, true, false);
}

static void test_io_digests(void **state)
{
	io_roundtrips(state, true, true, false);
}

static void test_io_digests_threaded(void **state)
{
	io_roundtrips(state, true, true, true);
}

struct io_ctx {
	int calls;
	int status;
};

static void io_cb(void *arg, int status, const struct nvme_cqe *cqe)
{
	struct io_ctx *c = arg;

	(void)cqe;
	c->calls++;
	c->status = status;
}

static void rw_sqe(struct nvme_sqe *c, uint8_t opcode, uint64_t slba, uint32_t len)
{
	memset(c, 0, sizeof(*c));
	c->opcode = opcode;
	c->nsid = 1;
	c->cdw10 = (uint32_t)slba;
	c->cdw11 = (uint32_t)(slba >> 32);
	c->cdw12 = len / 512 - 1;
}

static bool all_called(const struct io_ctx *c, int n)
{
	for (int i = 0; i < n; i++)
		if (!c[i].calls)
			return false;
	return true;
}

/* Many commands of mixed sizes in flight on two queues: one sendmsg carries several. */
static void test_io_async_batch(void **state)
{
	enum { NR = 48 };
	static const uint32_t sizes[] = { 4096, 512, 65536, 262144, 8192, 16384 };
	struct daemon *d = *state;
	struct nvmf_host_opts o;
	struct nvmf_host_ctrl *ctrl = NULL;
	struct io_ctx wc[NR] = { 0 }, rc[NR] = { 0 };
	uint8_t *w[NR], *r[NR];
	uint64_t deadline;

	host_opts(&o, d->port, true, true);
	assert_int_equal(nvmf_host_ctrl_connect(&o, &ctrl), 0);
	for (int i = 0; i < NR; i++) {
		uint32_t len = sizes[i % 6];
		struct nvme_sqe c;

		w[i] = malloc(len);
		r[i] = calloc(1, len);
		fill(w[i], len, 100 + i);
		rw_sqe(&c, nvme_cmd_write, 30000 + (uint64_t)i * 512, len);
		assert_int_equal(nvmf_host_submit_io(ctrl, 1 + i % 2, &c, w[i], len, io_cb, &wc[i]),
				 0);
	}
	deadline = now_ms() + 20000;
	while (!all_called(wc, NR) && now_ms() < deadline)
		nvmf_host_poll(ctrl, 10);
	for (int i = 0; i < NR; i++) {
		uint32_t len = sizes[i % 6];
		struct nvme_sqe c;

		assert_int_equal(wc[i].calls, 1);
		assert_int_equal(wc[i].status, 0);
		rw_sqe(&c, nvme_cmd_read, 30000 + (uint64_t)i * 512, len);
		assert_int_equal(
			nvmf_host_submit_io(ctrl, 1 + (i + 1) % 2, &c, r[i], len, io_cb, &rc[i]),
			0);
	}
	deadline = now_ms() + 20000;
	while (!all_called(rc, NR) && now_ms() < deadline)
		nvmf_host_poll(ctrl, 10);
	for (int i = 0; i < NR; i++) {
		assert_int_equal(rc[i].calls, 1);
		assert_int_equal(rc[i].status, 0);
		assert_memory_equal(w[i], r[i], sizes[i % 6]);
		free(w[i]);
		free(r[i]);
	}
	nvmf_host_ctrl_delete(ctrl);
}

struct states {
	int n;
	enum nvmf_host_ctrl_state from[64], to[64];
};

static void state_cb(struct nvmf_host_ctrl *ctrl, enum nvmf_host_ctrl_state old,
		     enum nvmf_host_ctrl_state state, void *arg)
{
	struct states *s = arg;

	(void)ctrl;
	if (s->n < 64) {
		s->from[s->n] = old;
		s->to[s->n] = state;
		s->n++;
	}
}

static bool saw(const struct states *s, enum nvmf_host_ctrl_state from,
		enum nvmf_host_ctrl_state to)
{
	for (int i = 0; i < s->n; i++)
		if (s->from[i] == from && s->to[i] == to)
			return true;
	return false;
}

/*
 * The daemon is stopped (SIGSTOP) with commands on the wire (reads, in-capsule writes, and
 * writes waiting for R2Ts that will never come), then killed: each command completes exactly
 * once, with -ENOLINK (after fast_io_fail_tmo: the core holds them for a reconnect first),
 * the controller goes RESETTING -> CONNECTING, and comes back LIVE once a daemon listens
 * on the port again.
 */
static void test_daemon_killed(void **state)
{
	enum { NR = 20 };
	struct daemon d, d2;
	struct nvmf_host_opts o;
	struct nvmf_host_ctrl *ctrl = NULL;
	struct states st = { 0 };
	struct io_ctx c[NR] = { 0 };
	uint8_t *bufs[NR];
	uint64_t deadline;

	(void)state;
	daemon_start(&d, NULL);
	host_opts(&o, d.port, true, true);
	o.reconnect_delay_s = 1;
	o.fast_io_fail_tmo_s = 1;
	o.ctrl_loss_tmo_s = 60;
	o.state_cb = state_cb;
	o.cb_arg = &st;
	assert_int_equal(nvmf_host_ctrl_connect(&o, &ctrl), 0);
	roundtrip(ctrl, 0, 128 * 1024, 9);

	assert_int_equal(kill(d.pid, SIGSTOP), 0);
	{
		int ws = 0;

		/* WUNTRACED: returns once every thread of the daemon has stopped */
		assert_int_equal(waitpid(d.pid, &ws, WUNTRACED), d.pid);
		assert_true(WIFSTOPPED(ws));
	}
	for (int i = 0; i < NR; i++) {
		uint32_t len = i == 0 ? BIG_LEN : i % 2 ? 131072 : 4096;
		uint8_t opc = i % 3 == 2 ? nvme_cmd_read : nvme_cmd_write;
		struct nvme_sqe cmd;

		bufs[i] = malloc(len);
		fill(bufs[i], len, (uint32_t)i);
		rw_sqe(&cmd, opc, (uint64_t)i * 4096, len);
		assert_int_equal(
			nvmf_host_submit_io(ctrl, 1 + i % 2, &cmd, bufs[i], len, io_cb, &c[i]), 0);
	}
	/* everything goes out (or waits for EPOLLOUT); nothing can come back */
	deadline = now_ms() + 300;
	while (now_ms() < deadline)
		nvmf_host_poll(ctrl, 10);
	for (int i = 0; i < NR; i++)
		assert_int_equal(c[i].calls, 0);
	assert_int_equal(nvmf_host_ctrl_get_state(ctrl), NVMF_CTRL_LIVE);

	daemon_stop(&d, SIGKILL);
	deadline = now_ms() + 10000;
	while (!all_called(c, NR) && now_ms() < deadline)
		nvmf_host_poll(ctrl, 10);
	for (int i = 0; i < NR; i++) {
		assert_int_equal(c[i].calls, 1);
		assert_int_equal(c[i].status, -ENOLINK);
	}
	assert_true(saw(&st, NVMF_CTRL_LIVE, NVMF_CTRL_RESETTING));
	assert_true(saw(&st, NVMF_CTRL_RESETTING, NVMF_CTRL_CONNECTING));
	assert_int_equal(nvmf_host_ctrl_get_state(ctrl), NVMF_CTRL_CONNECTING);
	/* exactly once: nothing more arrives while reconnect attempts fail */
	deadline = now_ms() + 1500;
	while (now_ms() < deadline)
		nvmf_host_poll(ctrl, 10);
	for (int i = 0; i < NR; i++) {
		assert_int_equal(c[i].calls, 1);
		free(bufs[i]);
	}
	assert_int_equal(nvmf_host_ctrl_get_state(ctrl), NVMF_CTRL_CONNECTING);

	/* a daemon on the same port again: the controller reconnects by itself */
	daemon_start(&d2, d.port);
	deadline = now_ms() + 15000;
	while (nvmf_host_ctrl_get_state(ctrl) != NVMF_CTRL_LIVE && now_ms() < deadline)
		nvmf_host_poll(ctrl, 10);
	assert_int_equal(nvmf_host_ctrl_get_state(ctrl), NVMF_CTRL_LIVE);
	assert_true(saw(&st, NVMF_CTRL_CONNECTING, NVMF_CTRL_LIVE));
	roundtrip(ctrl, 100, BIG_LEN, 11);
	nvmf_host_ctrl_delete(ctrl);
	daemon_stop(&d2, SIGTERM);
	daemon_cleanup(&d2);
	daemon_cleanup(&d);
}

/* ------------------------------------------------------------------------------------------
 * A scripted fake controller against one queue of the transport
 */

struct fake;
typedef void (*fake_script)(struct fake *f, int fd);

enum {
	IC_OK,	     /* an ICResp as the host asked */
	IC_BAD_DGST, /* an ICResp with header digests the host did not ask for */
	IC_TERM,     /* a C2HTermReq */
};

struct fake {
	int lfd;
	char port[16];
	pthread_t thr;
	fake_script script;
	/* ICResp */
	bool hdgst, ddgst; /* negotiated (the host's ICReq is echoed unless forced) */
	int ic_mode;	   /* IC_*: how the fake answers the ICReq */
	uint32_t maxh2cdata;
	struct nvmf_tcp_params p;
	/* results, checked by the test after the join */
	bool ok;
	int term_fes; /* an H2CTermReq came: its FES, else -1 */
	uint32_t term_fei;
	char msg[256];
};

static void fk_fail(struct fake *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fk_fail(struct fake *f, const char *fmt, ...)
{
	va_list ap;

	if (f->msg[0])
		return;
	va_start(ap, fmt);
	vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
	va_end(ap);
}

static int fk_read(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, 10000) <= 0)
			return -1;
		n = recv(fd, (uint8_t *)buf + got, len - got, 0);
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

static void fk_write(int fd, const void *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n <= 0)
			return;
		buf = (const uint8_t *)buf + n;
		len -= (size_t)n;
	}
}

/* One PDU into @buf; its length, or -1 on EOF/garbage. Records an H2CTermReq. */
static ssize_t fk_read_pdu(struct fake *f, int fd, uint8_t *buf, size_t cap)
{
	struct nvme_tcp_hdr *h = (struct nvme_tcp_hdr *)buf;

	if (fk_read(fd, buf, sizeof(*h)) || h->plen < sizeof(*h) || h->plen > cap ||
	    fk_read(fd, buf + sizeof(*h), h->plen - sizeof(*h)))
		return -1;
	if (h->type == nvme_tcp_h2c_term) {
		const struct nvme_tcp_term_pdu *t = (const void *)buf;

		f->term_fes = t->fes;
		f->term_fei = t->fei;
	}
	return h->plen;
}

/* The next Command Capsule: its SQE (and in-capsule data into @icd, up to @icd_cap). */
static int fk_read_cmd(struct fake *f, int fd, struct nvme_sqe *sqe, uint8_t *icd, size_t icd_cap,
		       size_t *icd_len)
{
	static uint8_t buf[1 << 17];
	const struct nvme_tcp_cmd_pdu *c = (const void *)buf;
	ssize_t n = fk_read_pdu(f, fd, buf, sizeof(buf));
	size_t len;

	if (n < 0 || c->hdr.type != nvme_tcp_cmd) {
		fk_fail(f, "no command capsule");
		return -1;
	}
	if (f->hdgst && !nvmf_tcp_hdgst_ok(buf, sizeof(*c))) {
		fk_fail(f, "capsule header digest");
		return -1;
	}
	*sqe = c->cmd;
	len = nvmf_tcp_pdu_data_len(&c->hdr, &f->p);
	if (icd_len)
		*icd_len = len;
	if (len) {
		if (len > icd_cap) {
			fk_fail(f, "unexpected in-capsule data");
			return -1;
		}
		memcpy(icd, buf + c->hdr.pdo, len);
		if (f->ddgst) {
			uint32_t dg;

			memcpy(&dg, buf + c->hdr.pdo + len, 4);
			if (dg != nvmf_crc32c(icd, len)) {
				fk_fail(f, "in-capsule data digest");
				return -1;
			}
		}
	}
	return 0;
}

static void fk_send_rsp(struct fake *f, int fd, uint16_t cid, uint16_t status)
{
	uint8_t buf[sizeof(struct nvme_tcp_rsp_pdu) + 4];
	struct nvme_cqe cqe = { .cid = cid, .sq_id = 1, .status = (uint16_t)(status << 1) };
	size_t n = nvmf_tcp_build_rsp((struct nvme_tcp_rsp_pdu *)buf, &cqe, f->hdgst);

	fk_write(fd, buf, n);
}

/* One C2HData PDU; @bad_ddgst corrupts its data digest. */
static void fk_send_c2h(struct fake *f, int fd, uint16_t cid, uint32_t datao, const void *data,
			uint32_t datal, uint8_t flags, bool bad_ddgst)
{
	uint8_t hdr[256];
	size_t hl = nvmf_tcp_build_data_hdr((struct nvme_tcp_data_pdu *)hdr, nvme_tcp_c2h_data, cid,
					    0, datao, datal, flags, &f->p);
	uint32_t dg = nvmf_crc32c(data, datal) ^ (bad_ddgst ? 1 : 0);

	fk_write(fd, hdr, hl);
	fk_write(fd, data, datal);
	if (f->ddgst)
		fk_write(fd, &dg, 4);
}

static void *fake_thread(void *arg)
{
	struct fake *f = arg;
	struct nvme_tcp_icreq_pdu icreq;
	struct nvme_tcp_icresp_pdu icresp;
	struct pollfd pfd = { .fd = f->lfd, .events = POLLIN };
	static uint8_t buf[(2u << 20) + 256];
	int fd;

	if (poll(&pfd, 1, 10000) <= 0)
		return NULL;
	fd = accept(f->lfd, NULL, NULL);
	if (fd < 0)
		return NULL;
	if (fk_read(fd, &icreq, sizeof(icreq)) || icreq.hdr.type != nvme_tcp_icreq) {
		fk_fail(f, "no ICReq");
		goto out;
	}
	f->hdgst = icreq.digest & NVME_TCP_HDR_DIGEST_ENABLE;
	f->ddgst = icreq.digest & NVME_TCP_DATA_DIGEST_ENABLE;
	nvmf_tcp_build_icresp(&icresp, f->hdgst, f->ddgst, 0, f->maxh2cdata);
	if (f->ic_mode == IC_BAD_DGST)
		icresp.digest = NVME_TCP_HDR_DIGEST_ENABLE;
	if (f->ic_mode == IC_TERM) {
		struct nvmf_tcp_pdu_error err = { NVME_TCP_FES_UNSUPPORTED_PARAM, 10 };
		uint8_t term[sizeof(struct nvme_tcp_term_pdu) + 128];

		fk_write(fd, term,
			 nvmf_tcp_build_term(term, nvme_tcp_c2h_term, &err, &icreq, sizeof(icreq)));
		goto drain;
	}
	fk_write(fd, &icresp, sizeof(icresp));
	f->p = (struct nvmf_tcp_params){ .hdgst = f->hdgst,
					 .ddgst = f->ddgst,
					 .maxh2cdata = f->maxh2cdata,
					 .max_c2h_data = UINT32_MAX };
	if (f->script)
		f->script(f, fd);
drain:
	/* until the host closes: note any H2CTermReq */
	while (fk_read_pdu(f, fd, buf, sizeof(buf)) > 0)
		;
out:
	close(fd);
	return NULL;
}

static void fake_start_ic(struct fake *f, fake_script script, uint32_t maxh2cdata, int rcvbuf,
			  int ic_mode)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);

	memset(f, 0, sizeof(*f));
	f->script = script;
	f->maxh2cdata = maxh2cdata;
	f->ic_mode = ic_mode;
	f->term_fes = -1;
	f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(f->lfd >= 0);
	/* inherited by the accepted socket: a small window makes the host's sends partial */
	if (rcvbuf)
		setsockopt(f->lfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->lfd, 4), 0);
	assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&sa, &sl), 0);
	snprintf(f->port, sizeof(f->port), "%u", ntohs(sa.sin_port));
	assert_int_equal(pthread_create(&f->thr, NULL, fake_thread, f), 0);
}

static void fake_start(struct fake *f, fake_script script, uint32_t maxh2cdata, int rcvbuf)
{
	fake_start_ic(f, script, maxh2cdata, rcvbuf, IC_OK);
}

static void fake_join(struct fake *f)
{
	pthread_join(f->thr, NULL);
	close(f->lfd);
	if (f->msg[0])
		fail_msg("fake controller: %s", f->msg);
}

/*
 * The host side: a bare controller and one I/O queue driven through the transport ops, as
 * the core does while it sets up an association (in_associate: a queue error stops the
 * queue at once instead of scheduling a reset).
 */
struct hq {
	struct nvmf_host_ctrl *ctrl;
	struct nvmf_host_queue q;
};

static int hq_connect(struct hq *h, const char *traddr, const char *port, bool hdgst, bool ddgst)
{
	h->ctrl = calloc(1, sizeof(*h->ctrl));
	assert_non_null(h->ctrl);
	h->ctrl->reactor = nvmf_reactor_create(0, 0);
	assert_non_null(h->ctrl->reactor);
	snprintf(h->ctrl->traddr, sizeof(h->ctrl->traddr), "%s", traddr);
	snprintf(h->ctrl->trsvcid, sizeof(h->ctrl->trsvcid), "%s", port);
	h->ctrl->opts.hdgst = hdgst;
	h->ctrl->opts.ddgst = ddgst;
	h->ctrl->ops = &nvmf_host_tcp_ops;
	h->ctrl->in_associate = true;
	h->ctrl->pending_tail = &h->ctrl->pending;
	atomic_init(&h->ctrl->state, NVMF_CTRL_LIVE);
	assert_int_equal(nvmf_host_queue_init(h->ctrl, &h->q, 1, 16, NVMF_HOST_IOQ_RESERVED), 0);
	h->q.icd_max = 8192;
	return nvmf_host_tcp_ops.queue_connect(&h->q);
}

static void hq_submit(struct hq *h, uint8_t opcode, void *buf, uint32_t len, struct io_ctx *c)
{
	struct nvmf_host_req *req = nvmf_host_tag_get(&h->q, false);

	assert_non_null(req);
	memset(&req->cmd, 0, sizeof(req->cmd));
	req->cmd.opcode = opcode;
	req->cmd.nsid = 1;
	req->buf = buf;
	req->len = len;
	req->cb = io_cb;
	req->arg = c;
	req->internal = true;
	assert_int_equal(nvmf_host_queue_send(&h->q, req, 0), 0);
}

static void hq_wait(struct hq *h, struct io_ctx *c)
{
	uint64_t deadline = now_ms() + 10000;

	while (!c->calls && now_ms() < deadline)
		nvmf_reactor_poll_once(h->ctrl->reactor, 10);
	/* a little more: a second completion would show up here */
	for (int i = 0; i < 5; i++)
		nvmf_reactor_poll_once(h->ctrl->reactor, 2);
	assert_int_equal(c->calls, 1);
}

static void hq_close(struct hq *h)
{
	nvmf_host_tcp_ops.queue_stop(&h->q);
	nvmf_host_tcp_ops.queue_free(&h->q);
	assert_null(h->q.tr);
	assert_int_equal(h->q.nr_sent, 0);
	nvmf_host_queue_release(&h->q);
	nvmf_reactor_destroy(h->ctrl->reactor);
	free(h->ctrl);
}

/* A whole scenario: fake @script, one command from the host, its outcome. */
struct scen {
	fake_script script;
	uint32_t maxh2cdata;
	bool hdgst, ddgst;
	uint8_t opcode;
	uint32_t len;	    /* the command's buffer */
	uint32_t buf_extra; /* allocated beyond it, must stay untouched */
	int want_status;    /* of the callback */
	int want_term_fes;  /* -1: no H2CTermReq expected */
	bool check_read;    /* the buffer must hold the pattern the fake sends */
	bool second_ok;	    /* a second read must still work on the same connection */
	int rcvbuf;	    /* the fake's SO_RCVBUF, 0: default */
};

#define FAKE_SEED 77

static void fake_pattern(uint8_t *buf, uint32_t len)
{
	fill(buf, len, FAKE_SEED);
}

static void run_scen(const struct scen *s)
{
	struct fake f;
	struct hq h;
	struct io_ctx c = { 0 };
	uint8_t *buf = malloc(s->len + s->buf_extra + 1);
	uint8_t *want = malloc(s->len + 1);

	assert_non_null(buf);
	fake_start(&f, s->script, s->maxh2cdata ? s->maxh2cdata : 1u << 20, s->rcvbuf);
	assert_int_equal(hq_connect(&h, "127.0.0.1", f.port, s->hdgst, s->ddgst), 0);
	if (s->opcode == nvme_cmd_write)
		fake_pattern(buf, s->len);
	else
		memset(buf, 0xee, s->len);
	memset(buf + s->len, 0xee, s->buf_extra);
	hq_submit(&h, s->opcode, buf, s->len, &c);
	hq_wait(&h, &c);
	assert_int_equal(c.status, s->want_status);
	for (uint32_t i = 0; i < s->buf_extra; i++)
		assert_int_equal(buf[s->len + i], 0xee);
	if (s->check_read) {
		fake_pattern(want, s->len);
		assert_memory_equal(buf, want, s->len);
	}
	if (s->second_ok) {
		struct io_ctx c2 = { 0 };

		memset(buf, 0, s->len);
		hq_submit(&h, nvme_cmd_read, buf, s->len, &c2);
		hq_wait(&h, &c2);
		assert_int_equal(c2.status, 0);
		fake_pattern(want, s->len);
		assert_memory_equal(buf, want, s->len);
	}
	assert_int_equal(h.q.nr_sent, 0); /* nothing left behind */
	hq_close(&h);
	fake_join(&f);
	assert_int_equal(f.term_fes, s->want_term_fes);
	free(buf);
	free(want);
}

/* Scripts. Each reads the host's command first. */

static void sc_read_ok(struct fake *f, int fd, const struct nvme_sqe *sqe, bool bad_ddgst)
{
	uint32_t len = sqe->dptr.sgl.length;
	uint8_t *data = malloc(len);

	fake_pattern(data, len);
	if (sqe->dptr.sgl.type != NVME_SGL_ID_TCP_TRANSPORT ||
	    (sqe->flags & NVME_CMD_PSDT_MASK) != NVME_CMD_PSDT_SGL_MPTR_CONTIG)
		fk_fail(f, "read SGL type 0x%x flags 0x%x", sqe->dptr.sgl.type, sqe->flags);
	/* in two PDUs, the last one flagged LAST */
	fk_send_c2h(f, fd, sqe->cid, 0, data, len / 2, 0, bad_ddgst);
	fk_send_c2h(f, fd, sqe->cid, len / 2, data + len / 2, len - len / 2, NVME_TCP_F_DATA_LAST,
		    false);
	fk_send_rsp(f, fd, sqe->cid, 0);
	free(data);
}

static void sc_c2h_out_of_range(struct fake *f, int fd)
{
	struct nvme_sqe sqe;
	uint8_t data[8192];

	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	memset(data, 0xaa, sizeof(data));
	/* twice the buffer */
	fk_send_c2h(f, fd, sqe.cid, 0, data, sizeof(data), NVME_TCP_F_DATA_LAST, false);
}

static void test_fake_c2h_out_of_range(void **state)
{
	struct scen s = { .script = sc_c2h_out_of_range,
			  .opcode = nvme_cmd_read,
			  .len = 4096,
			  .buf_extra = 8192,
			  .want_status = -ENOLINK,
			  .want_term_fes = NVME_TCP_FES_DATA_OUT_OF_RANGE };

	(void)state;
	run_scen(&s);
	s.ddgst = s.hdgst = true;
	run_scen(&s);
}

static void sc_c2h_out_of_order(struct fake *f, int fd)
{
	struct nvme_sqe sqe;
	uint8_t data[1024];

	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	memset(data, 0xaa, sizeof(data));
	fk_send_c2h(f, fd, sqe.cid, 2048, data, sizeof(data), NVME_TCP_F_DATA_LAST, false);
}

static void test_fake_c2h_out_of_order(void **state)
{
	struct scen s = { .script = sc_c2h_out_of_order,
			  .opcode = nvme_cmd_read,
			  .len = 4096,
			  .buf_extra = 64,
			  .want_status = -ENOLINK,
			  .want_term_fes = NVME_TCP_FES_DATA_OUT_OF_RANGE };

	(void)state;
	run_scen(&s);
}

static void sc_unknown_cid(struct fake *f, int fd)
{
	struct nvme_sqe sqe;

	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	fk_send_rsp(f, fd, (uint16_t)(sqe.cid + 5), 0);
}

static void sc_c2h_unknown_cid(struct fake *f, int fd)
{
	struct nvme_sqe sqe;
	uint8_t data[512] = { 0 };

	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	fk_send_c2h(f, fd, 0xfff0, 0, data, sizeof(data), NVME_TCP_F_DATA_LAST, false);
}

static void test_fake_unknown_cid(void **state)
{
	struct scen s = { .script = sc_unknown_cid,
			  .opcode = nvme_cmd_read,
			  .len = 4096,
			  .want_status = -ENOLINK,
			  .want_term_fes = NVME_TCP_FES_INVALID_PDU_HDR };

	(void)state;
	run_scen(&s);
	s.script = sc_c2h_unknown_cid;
	run_scen(&s);
}

static void sc_ddgst_error(struct fake *f, int fd)
{
	struct nvme_sqe sqe;

	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	sc_read_ok(f, fd, &sqe, true);
	/* the connection lives on: serve the next read properly */
	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	sc_read_ok(f, fd, &sqe, false);
}

/* A data digest error fails the command (Data Transfer Error), not the connection. */
static void test_fake_ddgst_error(void **state)
{
	struct scen s = { .script = sc_ddgst_error,
			  .ddgst = true,
			  .opcode = nvme_cmd_read,
			  .len = 16384,
			  .buf_extra = 64,
			  .want_status = NVME_SC_DATA_XFER_ERROR,
			  .want_term_fes = -1,
			  .second_ok = true };

	(void)state;
	run_scen(&s);
}

static void sc_read_good(struct fake *f, int fd)
{
	struct nvme_sqe sqe;

	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	sc_read_ok(f, fd, &sqe, false);
}

/* 128 KiB: staged copies and the direct receive into the caller's buffer */
static void test_fake_read(void **state)
{
	struct scen s = { .script = sc_read_good,
			  .opcode = nvme_cmd_read,
			  .len = 131072 + 512,
			  .buf_extra = 4096,
			  .want_status = 0,
			  .want_term_fes = -1,
			  .check_read = true };

	(void)state;
	run_scen(&s);
	s.hdgst = s.ddgst = true;
	run_scen(&s);
}

static void sc_bad_hdgst(struct fake *f, int fd)
{
	struct nvme_sqe sqe;
	uint8_t buf[sizeof(struct nvme_tcp_rsp_pdu) + 4];
	struct nvme_cqe cqe = { 0 };

	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	cqe.cid = sqe.cid;
	nvmf_tcp_build_rsp((struct nvme_tcp_rsp_pdu *)buf, &cqe, true);
	buf[sizeof(buf) - 1] ^= 0x40;
	fk_write(fd, buf, sizeof(buf));
}

static void test_fake_hdgst_error(void **state)
{
	struct scen s = { .script = sc_bad_hdgst,
			  .hdgst = true,
			  .opcode = nvme_cmd_read,
			  .len = 4096,
			  .want_status = -ENOLINK,
			  .want_term_fes = NVME_TCP_FES_HDR_DIGEST_ERR };

	(void)state;
	run_scen(&s);
}

/*
 * Serve a write through R2Ts of @r2tl bytes, checking every H2CData PDU against MAXH2CDATA;
 * after each R2T, let the host run into a full socket for @slow_ms.
 */
static void serve_write(struct fake *f, int fd, const struct nvme_sqe *sqe, uint32_t r2tl,
			int slow_ms)
{
	uint32_t len = sqe->dptr.sgl.length, off = 0;
	uint8_t *want = malloc(len), *got = calloc(1, len);
	static uint8_t buf[(1u << 20) + 256];

	fake_pattern(want, len);
	if (sqe->dptr.sgl.type != NVME_SGL_ID_TCP_TRANSPORT) {
		fk_fail(f, "write SGL type 0x%x", sqe->dptr.sgl.type);
		goto out;
	}
	while (off < len) {
		uint8_t r2t[sizeof(struct nvme_tcp_r2t_pdu) + 4];
		uint32_t n = len - off < r2tl ? len - off : r2tl, recvd = 0;
		uint16_t ttag = (uint16_t)(0x100 + off / r2tl);

		fk_write(fd, r2t,
			 nvmf_tcp_build_r2t((struct nvme_tcp_r2t_pdu *)r2t, sqe->cid, ttag, off, n,
					    f->hdgst));
		if (slow_ms)
			usleep((useconds_t)slow_ms * 1000);
		while (recvd < n) {
			const struct nvme_tcp_data_pdu *d = (const void *)buf;
			uint32_t datal, dg;

			if (fk_read_pdu(f, fd, buf, sizeof(buf)) < 0 ||
			    d->hdr.type != nvme_tcp_h2c_data) {
				fk_fail(f, "no H2CData");
				goto out;
			}
			datal = nvmf_tcp_pdu_data_len(&d->hdr, &f->p);
			if (d->cccid != sqe->cid || d->ttag != ttag || d->datao != off + recvd ||
			    d->datal != datal || datal > f->maxh2cdata || datal > n - recvd ||
			    !!(d->hdr.flags & NVME_TCP_F_DATA_LAST) != (recvd + datal == n)) {
				fk_fail(f, "H2CData cccid %u ttag %u datao %u datal %u flags 0x%x",
					d->cccid, d->ttag, d->datao, d->datal, d->hdr.flags);
				goto out;
			}
			if (f->hdgst && !nvmf_tcp_hdgst_ok(buf, sizeof(*d))) {
				fk_fail(f, "H2CData header digest");
				goto out;
			}
			memcpy(got + d->datao, buf + d->hdr.pdo, datal);
			memcpy(&dg, buf + d->hdr.pdo + datal, 4);
			if (f->ddgst && dg != nvmf_crc32c(buf + d->hdr.pdo, datal)) {
				fk_fail(f, "H2CData data digest");
				goto out;
			}
			recvd += datal;
		}
		off += n;
	}
	if (memcmp(want, got, len)) {
		fk_fail(f, "written data differs");
		goto out;
	}
	f->ok = true;
	fk_send_rsp(f, fd, sqe->cid, 0);
out:
	free(want);
	free(got);
}

static void sc_write_r2t(struct fake *f, int fd)
{
	struct nvme_sqe sqe;

	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	serve_write(f, fd, &sqe, 12288, 0);
}

static void sc_write_slow(struct fake *f, int fd)
{
	struct nvme_sqe sqe;

	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	serve_write(f, fd, &sqe, sqe.dptr.sgl.length, 300);
}

/* One R2T for 16 MiB to a slow reader: partial sends, EPOLLOUT, the rest later. */
static void test_fake_write_slow_reader(void **state)
{
	struct scen s = { .script = sc_write_slow,
			  .maxh2cdata = 1u << 20,
			  .opcode = nvme_cmd_write,
			  .len = 16u << 20,
			  .want_status = 0,
			  .want_term_fes = -1,
			  .rcvbuf = 4096 };

	(void)state;
	run_scen(&s);
	s.hdgst = s.ddgst = true;
	run_scen(&s);
}

/* R2Ts of 12 KiB answered in H2CData PDUs of at most MAXH2CDATA (4 KiB), LAST per R2T. */
static void test_fake_write_r2t(void **state)
{
	struct scen s = { .script = sc_write_r2t,
			  .maxh2cdata = 4096,
			  .opcode = nvme_cmd_write,
			  .len = 40000,
			  .want_status = 0,
			  .want_term_fes = -1 };

	(void)state;
	run_scen(&s);
	s.hdgst = s.ddgst = true;
	run_scen(&s);
}

static void sc_early_rsp(struct fake *f, int fd)
{
	static uint8_t buf[(1u << 20) + 256];
	struct nvme_sqe sqe;
	uint8_t r2t[sizeof(struct nvme_tcp_r2t_pdu) + 4];
	unsigned int extra = 0;

	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	fk_write(fd, r2t,
		 nvmf_tcp_build_r2t((struct nvme_tcp_r2t_pdu *)r2t, sqe.cid, 1, 0,
				    sqe.dptr.sgl.length, f->hdgst));
	usleep(200000);
	if (fk_read_pdu(f, fd, buf, sizeof(buf)) < 0) {
		fk_fail(f, "no H2CData");
		return;
	}
	/* fail the command while its data is still coming, as nvmet on a digest error */
	fk_send_rsp(f, fd, sqe.cid, NVME_SC_DATA_XFER_ERROR);
	/* the PDUs already on their way, then nothing but the next command */
	for (;;) {
		const struct nvme_tcp_hdr *h = (const void *)buf;

		if (fk_read_pdu(f, fd, buf, sizeof(buf)) < 0) {
			fk_fail(f, "stream broken after the early response");
			return;
		}
		if (h->type == nvme_tcp_cmd)
			break;
		if (h->type != nvme_tcp_h2c_data || ++extra > 16) {
			fk_fail(f, "PDU type %u after the early response", h->type);
			return;
		}
	}
	sqe = ((const struct nvme_tcp_cmd_pdu *)buf)->cmd;
	sc_read_ok(f, fd, &sqe, false);
}

/*
 * A response in the middle of a long H2C transfer: the PDU on the wire is finished, the rest
 * of the R2T is not sent, the command completes once with the response's status, and the
 * connection goes on.
 */
static void test_fake_early_rsp(void **state)
{
	struct scen s = { .script = sc_early_rsp,
			  .maxh2cdata = 1u << 20,
			  .opcode = nvme_cmd_write,
			  .len = 16u << 20,
			  .want_status = NVME_SC_DATA_XFER_ERROR,
			  .want_term_fes = -1,
			  .second_ok = true,
			  .rcvbuf = 4096 };

	(void)state;
	run_scen(&s);
	s.hdgst = s.ddgst = true;
	run_scen(&s);
}

static void sc_read_padded(struct fake *f, int fd)
{
	struct nvmf_tcp_params p = f->p;
	struct nvme_sqe sqe;
	uint8_t hdr[256], data[6000];
	size_t hl;
	uint32_t dg;

	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	fake_pattern(data, sizeof(data));
	/* PDO past the header: legal for any HPDA that divides it (16 bytes here) */
	p.hpda = 3;
	hl = nvmf_tcp_build_data_hdr((struct nvme_tcp_data_pdu *)hdr, nvme_tcp_c2h_data, sqe.cid, 0,
				     0, sizeof(data),
				     NVME_TCP_F_DATA_LAST | NVME_TCP_F_DATA_SUCCESS, &p);
	if (hl <= sizeof(struct nvme_tcp_data_pdu) + (f->hdgst ? 4 : 0))
		fk_fail(f, "no padding (PDO %zu)", hl);
	dg = nvmf_crc32c(data, sizeof(data));
	fk_write(fd, hdr, hl);
	fk_write(fd, data, sizeof(data));
	if (f->ddgst)
		fk_write(fd, &dg, 4);
}

/* C2HData whose PDO leaves padding after the header */
static void test_fake_read_padded(void **state)
{
	struct scen s = { .script = sc_read_padded,
			  .opcode = nvme_cmd_read,
			  .len = 6000,
			  .buf_extra = 64,
			  .want_status = 0,
			  .want_term_fes = -1,
			  .check_read = true };

	(void)state;
	run_scen(&s);
	s.hdgst = s.ddgst = true;
	run_scen(&s);
}

static void sc_c2h_for_write(struct fake *f, int fd)
{
	struct nvme_sqe sqe;
	uint8_t data[512] = { 0 };

	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	fk_send_c2h(f, fd, sqe.cid, 0, data, sizeof(data), NVME_TCP_F_DATA_LAST, false);
}

/* C2HData for a write */
static void test_fake_c2h_for_write(void **state)
{
	struct scen s = { .script = sc_c2h_for_write,
			  .opcode = nvme_cmd_write,
			  .len = 65536,
			  .want_status = -ENOLINK,
			  .want_term_fes = NVME_TCP_FES_INVALID_PDU_HDR };

	(void)state;
	run_scen(&s);
}

static void sc_c2h_after_last(struct fake *f, int fd)
{
	struct nvme_sqe sqe;
	uint8_t data[2048] = { 0 };

	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	fk_send_c2h(f, fd, sqe.cid, 0, data, sizeof(data), NVME_TCP_F_DATA_LAST, false);
	fk_send_c2h(f, fd, sqe.cid, sizeof(data), data, sizeof(data), NVME_TCP_F_DATA_LAST, false);
}

/* C2HData after the LAST one of the command */
static void test_fake_c2h_after_last(void **state)
{
	struct scen s = { .script = sc_c2h_after_last,
			  .opcode = nvme_cmd_read,
			  .len = 4096,
			  .buf_extra = 64,
			  .want_status = -ENOLINK,
			  .want_term_fes = NVME_TCP_FES_PDU_SEQ_ERR };

	(void)state;
	run_scen(&s);
}

static void sc_bad_plen(struct fake *f, int fd)
{
	struct nvme_sqe sqe;
	uint8_t buf[sizeof(struct nvme_tcp_rsp_pdu) + 8] = { 0 };
	struct nvme_cqe cqe = { 0 };

	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	cqe.cid = sqe.cid;
	nvmf_tcp_build_rsp((struct nvme_tcp_rsp_pdu *)buf, &cqe, false);
	((struct nvme_tcp_hdr *)buf)->plen += 8; /* a CapsuleResp carries no data */
	fk_write(fd, buf, sizeof(buf));
}

static void sc_icresp_again(struct fake *f, int fd)
{
	struct nvme_sqe sqe;
	struct nvme_tcp_icresp_pdu icresp;

	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	nvmf_tcp_build_icresp(&icresp, f->hdgst, f->ddgst, 0, f->maxh2cdata);
	fk_write(fd, &icresp, sizeof(icresp));
}

/* A malformed PDU header, and a PDU out of sequence (a second ICResp) */
static void test_fake_bad_header(void **state)
{
	struct scen s = { .script = sc_bad_plen,
			  .opcode = nvme_cmd_read,
			  .len = 4096,
			  .want_status = -ENOLINK,
			  .want_term_fes = NVME_TCP_FES_INVALID_PDU_HDR };

	(void)state;
	run_scen(&s);
	s.script = sc_icresp_again;
	s.want_term_fes = NVME_TCP_FES_PDU_SEQ_ERR;
	run_scen(&s);
}

static void sc_write_icd(struct fake *f, int fd)
{
	struct nvme_sqe sqe;
	uint8_t icd[8192], want[8192];
	size_t len = 0;

	if (fk_read_cmd(f, fd, &sqe, icd, sizeof(icd), &len))
		return;
	fake_pattern(want, (uint32_t)len);
	if (sqe.dptr.sgl.type != NVME_SGL_ID_INCAPSULE || sqe.dptr.sgl.length != len ||
	    sqe.dptr.sgl.addr || len != 4096 || memcmp(icd, want, len)) {
		fk_fail(f, "in-capsule write: SGL type 0x%x length %u, %zu bytes",
			sqe.dptr.sgl.type, sqe.dptr.sgl.length, len);
		return;
	}
	f->ok = true;
	fk_send_rsp(f, fd, sqe.cid, 0);
}

/* A write up to icd_max goes inside the capsule; "localhost" is resolved. */
static void test_fake_write_icd(void **state)
{
	struct fake f;
	struct hq h;
	struct io_ctx c = { 0 };
	uint8_t buf[4096];

	(void)state;
	for (int dg = 0; dg < 2; dg++) {
		memset(&c, 0, sizeof(c));
		fake_start(&f, sc_write_icd, 1u << 20, 0);
		assert_int_equal(hq_connect(&h, "localhost", f.port, dg, dg), 0);
		fake_pattern(buf, sizeof(buf));
		hq_submit(&h, nvme_cmd_write, buf, sizeof(buf), &c);
		hq_wait(&h, &c);
		assert_int_equal(c.status, 0);
		hq_close(&h);
		fake_join(&f);
		assert_true(f.ok);
		assert_int_equal(f.term_fes, -1);
	}
}

static void sc_r2t_bad_offset(struct fake *f, int fd)
{
	struct nvme_sqe sqe;
	uint8_t r2t[sizeof(struct nvme_tcp_r2t_pdu) + 4];

	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	fk_write(fd, r2t,
		 nvmf_tcp_build_r2t((struct nvme_tcp_r2t_pdu *)r2t, sqe.cid, 1, 4096, 4096,
				    f->hdgst));
}

static void sc_r2t_too_long(struct fake *f, int fd)
{
	struct nvme_sqe sqe;
	uint8_t r2t[sizeof(struct nvme_tcp_r2t_pdu) + 4];

	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	fk_write(fd, r2t,
		 nvmf_tcp_build_r2t((struct nvme_tcp_r2t_pdu *)r2t, sqe.cid, 1, 0,
				    sqe.dptr.sgl.length + 4096, f->hdgst));
}

static void test_fake_r2t_out_of_range(void **state)
{
	struct scen s = { .script = sc_r2t_bad_offset,
			  .opcode = nvme_cmd_write,
			  .len = 65536,
			  .want_status = -ENOLINK,
			  .want_term_fes = NVME_TCP_FES_DATA_OUT_OF_RANGE };

	(void)state;
	run_scen(&s);
	s.script = sc_r2t_too_long;
	run_scen(&s);
}

static void sc_r2t_for_read(struct fake *f, int fd)
{
	struct nvme_sqe sqe;
	uint8_t r2t[sizeof(struct nvme_tcp_r2t_pdu) + 4];

	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	fk_write(fd, r2t,
		 nvmf_tcp_build_r2t((struct nvme_tcp_r2t_pdu *)r2t, sqe.cid, 1, 0, 4096, f->hdgst));
}

static void test_fake_r2t_for_read(void **state)
{
	struct scen s = { .script = sc_r2t_for_read,
			  .opcode = nvme_cmd_read,
			  .len = 4096,
			  .want_status = -ENOLINK,
			  .want_term_fes = NVME_TCP_FES_INVALID_PDU_HDR };

	(void)state;
	run_scen(&s);
}

static void sc_c2h_term(struct fake *f, int fd)
{
	struct nvme_sqe sqe;
	uint8_t buf[sizeof(struct nvme_tcp_term_pdu) + 8];
	struct nvmf_tcp_pdu_error err = { NVME_TCP_FES_PDU_SEQ_ERR, 2 };

	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	fk_write(fd, buf, nvmf_tcp_build_term(buf, nvme_tcp_c2h_term, &err, "\x04\0\0\0\0\0\0", 8));
}

/* A C2HTermReq ends the connection, without a termination request in reply. */
static void test_fake_c2h_term(void **state)
{
	struct scen s = { .script = sc_c2h_term,
			  .opcode = nvme_cmd_read,
			  .len = 4096,
			  .want_status = -ENOLINK,
			  .want_term_fes = -1 };

	(void)state;
	run_scen(&s);
}

static void sc_eof_mid_pdu(struct fake *f, int fd)
{
	struct nvme_sqe sqe;
	uint8_t buf[sizeof(struct nvme_tcp_data_pdu) + 1000];

	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	nvmf_tcp_build_data_hdr((struct nvme_tcp_data_pdu *)buf, nvme_tcp_c2h_data, sqe.cid, 0, 0,
				4096, NVME_TCP_F_DATA_LAST, &f->p);
	memset(buf + sizeof(struct nvme_tcp_data_pdu), 0x11, 1000);
	fk_write(fd, buf, sizeof(buf));
	shutdown(fd, SHUT_WR);
}

static void test_fake_eof_mid_pdu(void **state)
{
	struct scen s = { .script = sc_eof_mid_pdu,
			  .opcode = nvme_cmd_read,
			  .len = 4096,
			  .buf_extra = 64,
			  .want_status = -ENOLINK,
			  .want_term_fes = -1 };

	(void)state;
	run_scen(&s);
}

static void sc_rsp_before_data(struct fake *f, int fd)
{
	struct nvme_sqe sqe;
	uint8_t data[4096];

	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	memset(data, 0x22, sizeof(data));
	fk_send_c2h(f, fd, sqe.cid, 0, data, sizeof(data), 0, false);
	fk_send_rsp(f, fd, sqe.cid, 0);
}

static void sc_rsp_no_data(struct fake *f, int fd)
{
	struct nvme_sqe sqe;

	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	fk_send_rsp(f, fd, sqe.cid, 0);
}

/* A successful response before all of a read's data is a protocol error ... */
static void test_fake_rsp_before_data(void **state)
{
	struct scen s = { .script = sc_rsp_before_data,
			  .opcode = nvme_cmd_read,
			  .len = 8192,
			  .want_status = -ENOLINK,
			  .want_term_fes = -1 };

	(void)state;
	run_scen(&s);
	s.script = sc_rsp_no_data;
	run_scen(&s);
}

static void sc_rsp_error_no_data(struct fake *f, int fd)
{
	struct nvme_sqe sqe;

	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	fk_send_rsp(f, fd, sqe.cid, NVME_SC_INVALID_FIELD | NVME_STATUS_DNR);
	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	sc_read_ok(f, fd, &sqe, false);
}

/* ... but an error response without data is just the command's status. */
static void test_fake_rsp_error(void **state)
{
	struct scen s = { .script = sc_rsp_error_no_data,
			  .opcode = nvme_cmd_read,
			  .len = 8192,
			  .want_status = NVME_SC_INVALID_FIELD | NVME_STATUS_DNR,
			  .want_term_fes = -1,
			  .second_ok = true };

	(void)state;
	run_scen(&s);
}

static void sc_c2h_success(struct fake *f, int fd)
{
	struct nvme_sqe sqe;
	uint8_t data[8192];

	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	fake_pattern(data, sizeof(data));
	fk_send_c2h(f, fd, sqe.cid, 0, data, sizeof(data),
		    NVME_TCP_F_DATA_LAST | NVME_TCP_F_DATA_SUCCESS, false);
	/* no CapsuleResp: the next command must work */
	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	sc_read_ok(f, fd, &sqe, false);
}

/* C2HData with SUCCESS completes the command without a CapsuleResp. */
static void test_fake_c2h_success(void **state)
{
	struct scen s = { .script = sc_c2h_success,
			  .opcode = nvme_cmd_read,
			  .len = 8192,
			  .buf_extra = 64,
			  .want_status = 0,
			  .want_term_fes = -1,
			  .check_read = true,
			  .second_ok = true };

	(void)state;
	run_scen(&s);
	s.hdgst = s.ddgst = true;
	run_scen(&s);
}

static void sc_silent(struct fake *f, int fd)
{
	struct nvme_sqe sqe;

	fk_read_cmd(f, fd, &sqe, NULL, 0, NULL);
}

/* queue_stop() with a command in flight: -ENOLINK exactly once, after the shutdown. */
static void test_fake_stop_in_flight(void **state)
{
	struct fake f;
	struct hq h;
	struct io_ctx c = { 0 };
	uint8_t buf[4096];

	(void)state;
	fake_start(&f, sc_silent, 1u << 20, 0);
	assert_int_equal(hq_connect(&h, "127.0.0.1", f.port, false, false), 0);
	hq_submit(&h, nvme_cmd_read, buf, sizeof(buf), &c);
	for (int i = 0; i < 20; i++)
		nvmf_reactor_poll_once(h.ctrl->reactor, 5);
	assert_int_equal(c.calls, 0);
	assert_int_equal(h.q.nr_sent, 1);
	nvmf_host_tcp_ops.queue_stop(&h.q);
	assert_int_equal(c.calls, 1);
	assert_int_equal(c.status, -ENOLINK);
	/* stopping again, or submitting to a stopped queue, completes nothing twice */
	nvmf_host_tcp_ops.queue_stop(&h.q);
	assert_int_equal(c.calls, 1);
	{
		struct nvmf_host_req *req = nvmf_host_tag_get(&h.q, false);

		req->buf = NULL;
		req->len = 0;
		memset(&req->cmd, 0, sizeof(req->cmd));
		assert_int_equal(nvmf_host_queue_send(&h.q, req, 0), -ENOLINK);
	}
	hq_close(&h);
	fake_join(&f);
	assert_int_equal(c.calls, 1);
}

/* An ICResp with digests we did not ask for: refused with an H2CTermReq, -EPROTO. */
static void test_fake_icresp_refused(void **state)
{
	struct fake f;
	struct hq h;

	(void)state;
	fake_start_ic(&f, NULL, 1u << 20, 0, IC_BAD_DGST);
	assert_int_equal(hq_connect(&h, "127.0.0.1", f.port, false, false), -EPROTO);
	assert_null(h.q.tr);
	hq_close(&h);
	fake_join(&f);
	assert_int_equal(f.term_fes, NVME_TCP_FES_UNSUPPORTED_PARAM);
	assert_int_equal(f.term_fei, offsetof(struct nvme_tcp_icresp_pdu, digest));
}

/* A controller refusing the ICReq with a C2HTermReq: -ECONNREFUSED, no reply. */
static void test_fake_icreq_refused(void **state)
{
	struct fake f;
	struct hq h;

	(void)state;
	fake_start_ic(&f, NULL, 1u << 20, 0, IC_TERM);
	assert_int_equal(hq_connect(&h, "127.0.0.1", f.port, true, true), -ECONNREFUSED);
	assert_null(h.q.tr);
	hq_close(&h);
	fake_join(&f);
	assert_int_equal(f.term_fes, -1);
}

/*
 * Stopped and freed before the deferred flush ran: the capsule is never sent, the command
 * completes once with -ENOLINK, and the queue memory waits for the flush to go (ASan
 * checks both).
 */
static void test_fake_stop_before_flush(void **state)
{
	struct fake f;
	struct hq h;
	struct io_ctx c[3] = { 0 };
	uint8_t buf[3][8192];

	(void)state;
	fake_start(&f, NULL, 1u << 20, 0);
	assert_int_equal(hq_connect(&h, "127.0.0.1", f.port, false, true), 0);
	hq_submit(&h, nvme_cmd_write, buf[0], 4096, &c[0]);
	hq_submit(&h, nvme_cmd_write, buf[1], 8192, &c[1]);
	hq_submit(&h, nvme_cmd_read, buf[2], 8192, &c[2]);
	nvmf_host_tcp_ops.queue_stop(&h.q);
	nvmf_host_tcp_ops.queue_free(&h.q);
	assert_null(h.q.tr);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(c[i].calls, 1);
		assert_int_equal(c[i].status, -ENOLINK);
	}
	assert_int_equal(h.q.nr_sent, 0);
	nvmf_reactor_poll_once(h.ctrl->reactor, 0); /* runs the flush, which frees */
	hq_close(&h);
	fake_join(&f);
	for (int i = 0; i < 3; i++)
		assert_int_equal(c[i].calls, 1);
}

static void test_connect_refused(void **state)
{
	struct hq h;
	char port[16];

	(void)state;
	free_port(port, sizeof(port));
	assert_int_equal(hq_connect(&h, "127.0.0.1", port, false, false), -ECONNREFUSED);
	hq_close(&h);
	assert_int_equal(hq_connect(&h, "no-such-host.invalid", port, false, false), -EHOSTUNREACH);
	hq_close(&h);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest daemon_tests[] = {
		cmocka_unit_test(test_keep_alive_idle), cmocka_unit_test(test_io_nodigest),
		cmocka_unit_test(test_io_hdgst),	cmocka_unit_test(test_io_ddgst),
		cmocka_unit_test(test_io_digests),	cmocka_unit_test(test_io_digests_threaded),
		cmocka_unit_test(test_io_async_batch),
	};
	const struct CMUnitTest kill_tests[] = {
		cmocka_unit_test(test_daemon_killed),
	};
	const struct CMUnitTest fake_tests[] = {
		cmocka_unit_test(test_fake_read),
		cmocka_unit_test(test_fake_write_icd),
		cmocka_unit_test(test_fake_write_r2t),
		cmocka_unit_test(test_fake_write_slow_reader),
		cmocka_unit_test(test_fake_early_rsp),
		cmocka_unit_test(test_fake_read_padded),
		cmocka_unit_test(test_fake_c2h_success),
		cmocka_unit_test(test_fake_ddgst_error),
		cmocka_unit_test(test_fake_rsp_error),
		cmocka_unit_test(test_fake_c2h_out_of_range),
		cmocka_unit_test(test_fake_c2h_out_of_order),
		cmocka_unit_test(test_fake_c2h_for_write),
		cmocka_unit_test(test_fake_c2h_after_last),
		cmocka_unit_test(test_fake_bad_header),
		cmocka_unit_test(test_fake_unknown_cid),
		cmocka_unit_test(test_fake_hdgst_error),
		cmocka_unit_test(test_fake_r2t_out_of_range),
		cmocka_unit_test(test_fake_r2t_for_read),
		cmocka_unit_test(test_fake_c2h_term),
		cmocka_unit_test(test_fake_eof_mid_pdu),
		cmocka_unit_test(test_fake_rsp_before_data),
		cmocka_unit_test(test_fake_stop_in_flight),
		cmocka_unit_test(test_fake_stop_before_flush),
		cmocka_unit_test(test_fake_icresp_refused),
		cmocka_unit_test(test_fake_icreq_refused),
		cmocka_unit_test(test_connect_refused),
	};
	int fails = 0;

	signal(SIGPIPE, SIG_IGN);
	tgt_path = argc > 1 ? argv[1] : getenv("NVMF_TGT");
	fails += cmocka_run_group_tests_name("host tcp: fake controller", fake_tests, NULL, NULL);
	if (!tgt_path) {
		fprintf(stderr, "nvmf-tgt not given (argv[1] or NVMF_TGT): daemon tests skipped\n");
		return fails;
	}
	fails += cmocka_run_group_tests_name("host tcp: nvmf-tgt", daemon_tests, daemon_group_setup,
					     daemon_group_teardown);
	fails += cmocka_run_group_tests_name("host tcp: nvmf-tgt killed", kill_tests, NULL, NULL);
	live_kill_all();
	return fails;
}
