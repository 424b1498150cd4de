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
 * What the daemon never sends, and hostile input, come from a scripted fake controller in
 * test_host_tcp_proto.c.
 */
#include "host/ctrl.h"
#include "host/host-internal.h"
#include "host/queue.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
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

#include "host_test_util.h"

#define SUBNQN "nqn.2024-01.io.nvmf.test:host-tcp"
#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:2b7a4c1e-5d3f-4a8b-9c6e-1f0d2e3a4b5c"
#define MDTS (2u << 20)
#define BIG_LEN ((1u << 20) + 4096) /* 1 MiB + 4 KiB, through R2T */
#define GUARD 64

static const char *tgt_path;

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

/*
 * Many commands of mixed sizes in flight on two queues: one sendmsg carries several, and the
 * reads' C2HData PDUs arrive back to back, large and small mixed (the receive path switches
 * between staging and receiving in place).
 */
static void io_async_batch(void **state, bool digests)
{
	enum { NR = 48 };
	static const uint32_t sizes[] = { 4096, 512, 65536, 262144, 8192, 16384 };
	struct daemon *d = *state;
	struct nvmf_host_opts o;
	struct nvmf_host_ctrl *ctrl = NULL;
	struct io_ctx wc[NR] = { 0 }, rc[NR] = { 0 };
	uint8_t *w[NR], *r[NR];
	uint64_t deadline;

	host_opts(&o, d->port, digests, digests);
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

static void test_io_async_batch(void **state)
{
	io_async_batch(state, true);
}

static void test_io_async_batch_nodigest(void **state)
{
	io_async_batch(state, false);
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
 * A reset under load, as an application sees it: the commands it cut off are parked and
 * sent again on the next association, so each completes once, successfully.
 */
#define RIO_NR 64

struct rio;

struct rio_req {
	struct rio *r;
	uint8_t *buf;
	uint32_t len;
	uint64_t slba;
	int calls;
	int status;
};

/* Written on the controller's thread (callbacks), read by the test under @lock. */
struct rio {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct states st;
	int done;	     /* write callbacks so far */
	int done_at_connect; /* ... when the controller went RESETTING -> CONNECTING: the
			      * teardown was over, later ones came from the next association */
	bool live_again;     /* CONNECTING -> LIVE after that */
	uint64_t last_ms;    /* time of the last write callback */
	struct rio_req req[RIO_NR];
};

static void rio_state_cb(struct nvmf_host_ctrl *ctrl, enum nvmf_host_ctrl_state old,
			 enum nvmf_host_ctrl_state state, void *arg)
{
	struct rio *r = arg;

	pthread_mutex_lock(&r->lock);
	state_cb(ctrl, old, state, &r->st);
	if (old == NVMF_CTRL_RESETTING && state == NVMF_CTRL_CONNECTING)
		r->done_at_connect = r->done;
	if (old == NVMF_CTRL_CONNECTING && state == NVMF_CTRL_LIVE && r->done_at_connect >= 0)
		r->live_again = true;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

static void rio_cb(void *arg, int status, const struct nvme_cqe *cqe)
{
	struct rio_req *q = arg;
	struct rio *r = q->r;

	(void)cqe;
	pthread_mutex_lock(&r->lock);
	q->calls++;
	q->status = status;
	r->done++;
	r->last_ms = now_ms();
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

/* The index of the first transition @from -> @to at or after @start, else -1. */
static int find_transition(const struct states *s, int start, enum nvmf_host_ctrl_state from,
			   enum nvmf_host_ctrl_state to)
{
	for (int i = start; i < s->n; i++)
		if (s->from[i] == from && s->to[i] == to)
			return i;
	return -1;
}

/*
 * One round of test_reset_under_io, patterns from @seed. Return: the writes the reset cut
 * off (their callbacks came after the teardown, so from the next association).
 */
static int rio_round(struct nvmf_host_ctrl *ctrl, struct rio *r, uint32_t seed)
{
	static const uint32_t sizes[] = { 4096, 131072, 8192, 65536, 16384, 32768 };
	uint16_t cntlid = nvmf_host_ctrl_cntlid(ctrl);
	struct io_ctx got[RIO_NR];
	struct states st;
	uint64_t deadline;
	int st0, rs, cn, lv, done, done_at_connect;

	pthread_mutex_lock(&r->lock);
	st0 = r->st.n;
	r->done = 0;
	r->done_at_connect = -1;
	r->live_again = false;
	pthread_mutex_unlock(&r->lock);
	for (int i = 0; i < RIO_NR; i++) {
		struct rio_req *q = &r->req[i];

		*q = (struct rio_req){ .r = r,
				       .len = sizes[i % 6],
				       /* 256 blocks of 512 bytes apart: 128 KiB, no overlap */
				       .slba = 60000 + (uint64_t)i * 256 };
		q->buf = malloc(q->len);
		assert_non_null(q->buf);
		fill(q->buf, q->len, seed + (uint32_t)i);
	}
	for (int i = 0; i < RIO_NR; i++) {
		struct rio_req *q = &r->req[i];
		struct nvme_sqe c;

		rw_sqe(&c, nvme_cmd_write, q->slba, q->len);
		assert_int_equal(
			nvmf_host_submit_io(ctrl, 1 + i % 2, &c, q->buf, q->len, rio_cb, q), 0);
	}
	assert_int_equal(nvmf_host_ctrl_reset(ctrl), 0);

	/* every callback, and the controller LIVE again */
	deadline = now_ms() + 30000;
	pthread_mutex_lock(&r->lock);
	while ((r->done < RIO_NR || !r->live_again) && now_ms() < deadline) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&r->cond, &r->lock, &ts);
	}
	done = r->done;
	pthread_mutex_unlock(&r->lock);
	assert_int_equal(done, RIO_NR);

	/* exactly once: nothing more arrives for 1 s after the last callback */
	for (;;) {
		uint64_t last, now = now_ms();

		pthread_mutex_lock(&r->lock);
		last = r->last_ms;
		pthread_mutex_unlock(&r->lock);
		if (now >= last + 1000)
			break;
		usleep((useconds_t)(last + 1000 - now) * 1000);
	}
	/* a snapshot, so that no assertion leaves the lock held */
	pthread_mutex_lock(&r->lock);
	done = r->done;
	done_at_connect = r->done_at_connect;
	st = r->st;
	for (int i = 0; i < RIO_NR; i++)
		got[i] = (struct io_ctx){ .calls = r->req[i].calls, .status = r->req[i].status };
	pthread_mutex_unlock(&r->lock);
	assert_int_equal(done, RIO_NR);
	for (int i = 0; i < RIO_NR; i++) {
		if (got[i].calls != 1 || got[i].status != 0)
			fail_msg("write %d (%u bytes at LBA %llu): %d callbacks, status %d", i,
				 r->req[i].len, (unsigned long long)r->req[i].slba, got[i].calls,
				 got[i].status);
	}
	/* LIVE -> RESETTING -> CONNECTING (-> CONNECTING if a reconnect fails) -> LIVE */
	rs = find_transition(&st, st0, NVMF_CTRL_LIVE, NVMF_CTRL_RESETTING);
	assert_true(rs >= 0);
	cn = find_transition(&st, rs + 1, NVMF_CTRL_RESETTING, NVMF_CTRL_CONNECTING);
	assert_true(cn > rs);
	lv = find_transition(&st, cn + 1, NVMF_CTRL_CONNECTING, NVMF_CTRL_LIVE);
	assert_true(lv > cn);
	assert_int_equal(st.to[st.n - 1], NVMF_CTRL_LIVE);
	assert_int_equal(nvmf_host_ctrl_get_state(ctrl), NVMF_CTRL_LIVE);
	assert_int_not_equal(nvmf_host_ctrl_cntlid(ctrl), cntlid);
	assert_int_equal(nvmf_host_ctrl_nr_io_queues(ctrl), 2);

	for (int i = 0; i < RIO_NR; i++) {
		struct rio_req *q = &r->req[i];
		uint8_t *rbuf = malloc(q->len + GUARD);

		assert_non_null(rbuf);
		memset(rbuf, 0x5a, q->len + GUARD);
		assert_int_equal(nvmf_host_read(ctrl, 1, q->slba, q->len / 512, rbuf), 0);
		if (memcmp(rbuf, q->buf, q->len))
			fail_msg("write %d (%u bytes at LBA %llu) does not read back", i, q->len,
				 (unsigned long long)q->slba);
		for (unsigned int g = 0; g < GUARD; g++)
			assert_int_equal(rbuf[q->len + g], 0x5a);
		free(rbuf);
		free(q->buf);
		q->buf = NULL;
	}
	return RIO_NR - done_at_connect;
}

/*
 * 64 writes of 4 KiB .. 128 KiB (in-capsule and through R2T) with known patterns to
 * distinct LBAs, on the two I/O queues of a threaded controller, then nvmf_host_ctrl_reset()
 * while they are in flight: every callback runs exactly once (nothing more for 1 s after the
 * last), all with status 0; the controller goes LIVE -> RESETTING -> CONNECTING -> LIVE
 * with a new controller ID; every pattern reads back byte for byte.
 *
 * The reset reaches the controller's thread after the 64 submissions (messages are FIFO),
 * but the writes may all have completed by then if this thread was descheduled in between;
 * such a round proves nothing, so it is run again (new patterns), up to 5 rounds.
 */
static void test_reset_under_io(void **state)
{
	struct daemon *d = *state;
	struct nvmf_host_opts o;
	struct nvmf_host_ctrl *ctrl = NULL;
	struct rio *r = calloc(1, sizeof(*r));
	int cut = 0;

	assert_non_null(r);
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	host_opts(&o, d->port, true, true);
	o.threaded = true;
	o.queue_size = 128; /* 32 writes per queue: no -EAGAIN */
	o.reconnect_delay_s = 1;
	o.state_cb = rio_state_cb;
	o.cb_arg = r;
	assert_int_equal(nvmf_host_ctrl_connect(&o, &ctrl), 0);
	assert_int_equal(nvmf_host_ctrl_get_state(ctrl), NVMF_CTRL_LIVE);
	assert_int_equal(nvmf_host_ctrl_nr_io_queues(ctrl), 2);
	for (int round = 0; round < 5 && !cut; round++) {
		cut = rio_round(ctrl, r, 5000 + (uint32_t)round * RIO_NR);
		fprintf(stderr, "reset_under_io: round %d: the reset cut off %d of %d writes\n",
			round + 1, cut, RIO_NR);
	}
	assert_true(cut > 0);
	nvmf_host_ctrl_delete(ctrl);
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->lock);
	free(r);
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

int main(int argc, char **argv)
{
	const struct CMUnitTest daemon_tests[] = {
		cmocka_unit_test(test_keep_alive_idle),
		cmocka_unit_test(test_io_nodigest),
		cmocka_unit_test(test_io_hdgst),
		cmocka_unit_test(test_io_ddgst),
		cmocka_unit_test(test_io_digests),
		cmocka_unit_test(test_io_digests_threaded),
		cmocka_unit_test(test_io_async_batch),
		cmocka_unit_test(test_io_async_batch_nodigest),
		cmocka_unit_test(test_reset_under_io),
	};
	const struct CMUnitTest kill_tests[] = {
		cmocka_unit_test(test_daemon_killed),
	};
	int fails = 0;

	signal(SIGPIPE, SIG_IGN);
	tgt_path = argc > 1 ? argv[1] : getenv("NVMF_TGT");
	if (!tgt_path) {
		fprintf(stderr, "nvmf-tgt not given (argv[1] or NVMF_TGT): daemon tests skipped\n");
		return 0;
	}
	fails += cmocka_run_group_tests_name("host tcp: nvmf-tgt", daemon_tests, daemon_group_setup,
					     daemon_group_teardown);
	fails += cmocka_run_group_tests_name("host tcp: nvmf-tgt killed", kill_tests, NULL, NULL);
	live_kill_all();
	return fails;
}
