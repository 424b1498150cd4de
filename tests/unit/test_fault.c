// SPDX-License-Identifier: MIT
/*
 * The target's fault injection (lib/target/fault.c) seen from a real host: the host library
 * over the loop transport against an embedded target (never started: the loop queues run on
 * the host controller's reactor, which this thread polls), and over NVMe/TCP on 127.0.0.1
 * with header and data digests against a started target for the digest corruptions.
 *
 * Every test asserts what the host observes (a status, data read back, a controller state)
 * and the rule's counters; timings only ever as lower bounds. Deleting the host controller
 * at the end of each test checks that nothing is left in the target.
 */
#include "target/core.h"

#include "nvmf/host.h"
#include "nvmf/target.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#define SUBNQN "nqn.2024-01.io.nvmf:fault-test"
#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:0f1a3e64-8f3e-4f5e-9a0c-2a7b9f6d1c55"
#define NSID 1
#define MEM_BYTES (8u << 20)
#define LBA_SHIFT 9
#define BLK_BYTES 4096u
#define WAIT_NS (60ull * 1000000000ull) /* a generous bound on waits, never a timing check */

/* Run @poll until @cond holds or WAIT_NS passed; the caller asserts @cond afterwards. */
#define POLL_UNTIL(poll, cond)                                                                     \
	for (uint64_t until_ns = nvmf_now_ns() + WAIT_NS; !(cond) && nvmf_now_ns() < until_ns;)    \
	poll

static struct nvmf_tgt *tgt; /* the loop target */

/* -------------------------------------------------------------------------------------- */
/* Helpers */

static uint64_t now_ms(void)
{
	return nvmf_now_ns() / 1000000;
}

static void *xalloc(size_t len)
{
	void *p = aligned_alloc(4096, (len + 4095) & ~(size_t)4095);

	assert_non_null(p);
	return p;
}

static void fill(uint8_t *buf, size_t len, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
}

/* A rule that selects everything; the caller narrows it. */
static struct nvmf_tgt_fault rule(enum nvmf_tgt_fault_action action, int32_t queue, int32_t opcode)
{
	struct nvmf_tgt_fault f = {
		.cntlid = -1, .queue = queue, .opcode = opcode, .nsid = -1, .action = action
	};

	return f;
}

static uint32_t add(struct nvmf_tgt *t, const struct nvmf_tgt_fault *f)
{
	uint32_t id = 0;

	assert_int_equal(nvmf_tgt_fault_add(t, f, &id), 0);
	assert_true(id >= 1);
	return id;
}

/* The listed rule @id (asserts that it is listed). */
static struct nvmf_tgt_fault_info info_of(struct nvmf_tgt *t, uint32_t id)
{
	struct nvmf_tgt_fault_info info[16];
	size_t n = nvmf_tgt_fault_list(t, info, 16);

	for (size_t i = 0; i < n && i < 16; i++)
		if (info[i].id == id)
			return info[i];
	fail_msg("rule %u not listed", id);
	return info[0];
}

/* -------------------------------------------------------------------------------------- */
/* Host controllers */

struct tctx {
	struct nvmf_host_ctrl *ctrl;
	_Atomic unsigned int leaves; /* LIVE -> anything else */
	_Atomic unsigned int lives;  /* -> LIVE */
};

static void state_cb(struct nvmf_host_ctrl *ctrl, enum nvmf_host_ctrl_state old,
		     enum nvmf_host_ctrl_state state, void *arg)
{
	struct tctx *t = arg;

	(void)ctrl;
	if (old == NVMF_CTRL_LIVE && state != NVMF_CTRL_LIVE)
		atomic_fetch_add(&t->leaves, 1);
	if (state == NVMF_CTRL_LIVE)
		atomic_fetch_add(&t->lives, 1);
}

struct conn {
	int kato_ms;		  /* 0: none (-1 to the library) */
	unsigned int io_timeout;  /* ms, 0: default */
	unsigned int adm_timeout; /* ms, 0: default */
	bool threaded;
};

static int connect_loop(struct tctx *t, const struct conn *c)
{
	struct nvmf_host_opts o = {
		.trtype = "loop",
		.loop_tgt = tgt,
		.subnqn = SUBNQN,
		.hostnqn = HOSTNQN,
		.nr_io_queues = 1,
		.kato_ms = c->kato_ms ? c->kato_ms : -1,
		.reconnect_delay_s = 1,
		.io_timeout_ms = c->io_timeout,
		.admin_timeout_ms = c->adm_timeout,
		.threaded = c->threaded,
		.state_cb = state_cb,
		.cb_arg = t,
	};

	return nvmf_host_ctrl_connect(&o, &t->ctrl);
}

static struct tctx *new_ctx(const struct conn *c)
{
	struct tctx *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	assert_int_equal(connect_loop(t, c), 0);
	return t;
}

/* Delete the controller: every target object it made is gone, and so is every rule. */
static void end_ctx(struct tctx *t)
{
	nvmf_host_ctrl_delete(t->ctrl);
	free(t);
	assert_int_equal(atomic_load(&tgt->nr_ctrls), 0);
	assert_int_equal(atomic_load(&tgt->nr_sqs), 0);
	assert_int_equal(nvmf_tgt_fault_remove(tgt, 0), 0);
	assert_int_equal(nvmf_tgt_fault_list(tgt, NULL, 0), 0);
}

static int setup(void **state)
{
	struct conn c = { 0 };
	struct tctx *t = calloc(1, sizeof(*t));

	if (!t || connect_loop(t, &c)) {
		free(t);
		return -1;
	}
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	end_ctx(*state);
	return 0;
}

static void poll_for_ms(struct tctx *t, unsigned int ms)
{
	uint64_t until = now_ms() + ms;

	while (now_ms() < until)
		nvmf_host_poll(t->ctrl, 5);
}

struct io {
	_Atomic int calls;
	_Atomic int status;
};

static void io_cb(void *arg, int status, const struct nvme_cqe *cqe)
{
	struct io *io = arg;

	(void)cqe;
	atomic_store(&io->status, status);
	atomic_fetch_add(&io->calls, 1);
}

static void submit_rw(struct tctx *t, uint8_t opcode, uint64_t slba, void *buf, uint32_t len,
		      struct io *io)
{
	struct nvme_sqe c = { .opcode = opcode, .nsid = NSID };

	c.cdw10 = (uint32_t)slba;
	c.cdw11 = (uint32_t)(slba >> 32);
	c.cdw12 = (len >> LBA_SHIFT) - 1;
	assert_int_equal(nvmf_host_submit_io(t->ctrl, 1, &c, buf, len, io_cb, io), 0);
}

static uint32_t nlb(uint32_t len)
{
	return len >> LBA_SHIFT;
}

/* -------------------------------------------------------------------------------------- */
/* Target */

static int group_setup(void **state)
{
	struct nvmf_tgt_opts topts = { .nr_reactors = 1 };
	struct nvmf_tgt_subsys_params sp = { .nqn = SUBNQN, .allow_any_host = true };
	struct nvmf_tgt_ns_params mem = { .nsid = NSID,
					  .backend = NVMF_TGT_BACKEND_MEM,
					  .size_bytes = MEM_BYTES,
					  .enable = true };
	struct nvmf_tgt_port_params lp = { .portid = 1,
					   .trtype = NVMF_TRTYPE_LOOP,
					   .adrfam = NVMF_ADRFAM_LOOP };
	struct nvmf_tgt_subsys *s;
	struct nvmf_tgt_port *port;

	(void)state;
	tgt = nvmf_tgt_create(&topts);
	if (!tgt)
		return -1;
	if (nvmf_tgt_add_subsys(tgt, &sp, &s) || nvmf_tgt_subsys_add_ns(s, &mem) ||
	    nvmf_tgt_add_port(tgt, &lp, &port) || nvmf_tgt_port_add_subsys(port, s))
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	nvmf_tgt_destroy(tgt);
	return 0;
}

/* -------------------------------------------------------------------------------------- */
/* Rules: validation, list, remove */

static void test_add_invalid(void **state)
{
	struct nvmf_tgt_fault f;
	uint32_t id;
	char long_nqn[300];

	(void)state;
	f = rule(0, NVMF_TGT_FAULT_QUEUE_ANY, -1);
	assert_int_equal(nvmf_tgt_fault_add(tgt, &f, &id), -EINVAL);
	f = rule(NVMF_TGT_FAULT_NO_KEEP_ALIVE + 1, NVMF_TGT_FAULT_QUEUE_ANY, -1);
	assert_int_equal(nvmf_tgt_fault_add(tgt, &f, &id), -EINVAL);
	f = rule(NVMF_TGT_FAULT_DELAY, -4, -1);
	assert_int_equal(nvmf_tgt_fault_add(tgt, &f, &id), -EINVAL);
	f = rule(NVMF_TGT_FAULT_DELAY, NVMF_TGT_FAULT_QUEUE_ANY, 256);
	assert_int_equal(nvmf_tgt_fault_add(tgt, &f, &id), -EINVAL);
	f = rule(NVMF_TGT_FAULT_DELAY, NVMF_TGT_FAULT_QUEUE_ANY, -1);
	f.probability = 1.5;
	assert_int_equal(nvmf_tgt_fault_add(tgt, &f, &id), -EINVAL);
	f.probability = -0.1;
	assert_int_equal(nvmf_tgt_fault_add(tgt, &f, &id), -EINVAL);
	f = rule(NVMF_TGT_FAULT_STATUS, NVMF_TGT_FAULT_QUEUE_ANY, -1);
	assert_int_equal(nvmf_tgt_fault_add(tgt, &f, &id), -EINVAL); /* status 0 */
	f.status = NVME_STATUS_DNR;
	assert_int_equal(nvmf_tgt_fault_add(tgt, &f, &id), -EINVAL); /* no SCT/SC */
	memset(long_nqn, 'a', sizeof(long_nqn) - 1);
	long_nqn[sizeof(long_nqn) - 1] = 0;
	f = rule(NVMF_TGT_FAULT_DELAY, NVMF_TGT_FAULT_QUEUE_ANY, -1);
	f.subsys_nqn = long_nqn;
	assert_int_equal(nvmf_tgt_fault_add(tgt, &f, &id), -EINVAL);
	assert_int_equal(nvmf_tgt_fault_list(tgt, NULL, 0), 0);
	/* at most 64 rules */
	f = rule(NVMF_TGT_FAULT_DELAY, NVMF_TGT_FAULT_QUEUE_ANY, -1);
	f.subsys_nqn = "nqn.2024-01.io.nvmf:nobody";
	for (int i = 0; i < 64; i++)
		add(tgt, &f);
	assert_int_equal(nvmf_tgt_fault_add(tgt, &f, &id), -ENOSPC);
	assert_int_equal(nvmf_tgt_fault_list(tgt, NULL, 0), 64);
	assert_int_equal(nvmf_tgt_fault_remove(tgt, 0), 0);
	assert_int_equal(nvmf_tgt_fault_list(tgt, NULL, 0), 0);
	assert_int_equal(nvmf_tgt_fault_remove(tgt, 12345), -ENOENT);
	assert_int_equal(nvmf_tgt_fault_release(tgt, 12345), -ENOENT);
	assert_int_equal(nvmf_tgt_fault_release(tgt, 0), 0);
	assert_int_equal(nvmf_tgt_fault_remove(tgt, 0), 0);
}

static void test_list_remove(void **state)
{
	struct tctx *t = *state;
	struct nvmf_tgt_fault f1 = rule(NVMF_TGT_FAULT_DELAY, NVMF_TGT_FAULT_QUEUE_IO, -1);
	struct nvmf_tgt_fault f2 = rule(NVMF_TGT_FAULT_HOLD, 1, nvme_cmd_read);
	struct nvmf_tgt_fault f3 = rule(NVMF_TGT_FAULT_STATUS, NVMF_TGT_FAULT_QUEUE_ADMIN, 0x06);
	struct nvmf_tgt_fault_info info[4];
	uint8_t *wb = xalloc(BLK_BYTES), *rb = xalloc(BLK_BYTES);
	struct io io = { 0 };
	uint32_t id1, id2, id3;

	/* nothing matches these two: an NQN and a controller that do not exist */
	f1.subsys_nqn = "nqn.2024-01.io.nvmf:nobody";
	f1.delay_ms = 1;
	f3.status = NVME_SC_INTERNAL;
	f3.nsid = 0;
	f3.cntlid = 7;
	id1 = add(tgt, &f1);
	id3 = add(tgt, &f3);
	f2.probability = 1.0;
	id2 = add(tgt, &f2);
	assert_true(id1 != id2 && id2 != id3 && id1 != id3);

	assert_int_equal(nvmf_tgt_fault_list(tgt, info, 4), 3);
	assert_int_equal(nvmf_tgt_fault_list(tgt, info, 1), 3);
	assert_int_equal(nvmf_tgt_fault_list(tgt, info, 4), 3);
	assert_int_equal(info[0].id, id1); /* match order: as added */
	assert_int_equal(info[1].id, id3);
	assert_int_equal(info[2].id, id2);
	assert_string_equal(info[0].rule.subsys_nqn, "nqn.2024-01.io.nvmf:nobody");
	assert_null(info[1].rule.subsys_nqn);
	assert_int_equal(info[1].rule.action, NVMF_TGT_FAULT_STATUS);
	assert_int_equal(info[1].rule.status, NVME_SC_INTERNAL);
	assert_int_equal(info[1].rule.cntlid, 7);
	assert_int_equal(info[1].rule.opcode, 0x06);
	assert_int_equal(info[2].rule.queue, 1);
	assert_int_equal(info[2].hits, 0);
	assert_int_equal(info[2].held, 0);

	/* rules 1 and 3 select nothing of ours: Identify works */
	assert_int_equal(nvmf_host_identify(t->ctrl, NVME_ID_CNS_CTRL, 0, 0, rb), 0);
	assert_int_equal(info_of(tgt, id1).hits, 0);
	assert_int_equal(info_of(tgt, id3).hits, 0);

	/* removing a rule releases what it holds */
	fill(wb, BLK_BYTES, 1);
	assert_int_equal(nvmf_host_write(t->ctrl, NSID, 0, nlb(BLK_BYTES), wb, false), 0);
	submit_rw(t, nvme_cmd_read, 0, rb, BLK_BYTES, &io);
	POLL_UNTIL(nvmf_host_poll(t->ctrl, 5), info_of(tgt, id2).held == 1);
	assert_int_equal(info_of(tgt, id2).held, 1);
	assert_int_equal(atomic_load(&io.calls), 0);
	assert_int_equal(nvmf_tgt_fault_remove(tgt, id2), 0);
	assert_int_equal(nvmf_tgt_fault_remove(tgt, id2), -ENOENT);
	POLL_UNTIL(nvmf_host_poll(t->ctrl, 5), atomic_load(&io.calls));
	assert_int_equal(atomic_load(&io.calls), 1);
	assert_int_equal(atomic_load(&io.status), 0);
	assert_memory_equal(rb, wb, BLK_BYTES);

	assert_int_equal(nvmf_tgt_fault_list(tgt, info, 4), 2);
	assert_int_equal(info[0].id, id1);
	assert_int_equal(info[1].id, id3);
	assert_int_equal(nvmf_tgt_fault_remove(tgt, id1), 0);
	assert_int_equal(nvmf_tgt_fault_list(tgt, info, 4), 1);
	assert_int_equal(info[0].id, id3);
	assert_int_equal(nvmf_tgt_fault_remove(tgt, 0), 0);
	assert_int_equal(nvmf_tgt_fault_list(tgt, info, 4), 0);
	/* IDs are not reused */
	assert_true(add(tgt, &f2) > id2);
	free(wb);
	free(rb);
}

/* -------------------------------------------------------------------------------------- */
/* Actions over the loop transport */

static void test_delay(void **state)
{
	struct tctx *t = *state;
	struct nvmf_tgt_fault f =
		rule(NVMF_TGT_FAULT_DELAY, NVMF_TGT_FAULT_QUEUE_IO, nvme_cmd_read);
	uint8_t *wb = xalloc(BLK_BYTES), *rb = xalloc(BLK_BYTES);
	uint64_t t0, elapsed;
	uint32_t id;

	fill(wb, BLK_BYTES, 2);
	assert_int_equal(nvmf_host_write(t->ctrl, NSID, 8, nlb(BLK_BYTES), wb, false), 0);
	f.delay_ms = 300;
	f.count = 1;
	id = add(tgt, &f);
	t0 = now_ms();
	assert_int_equal(nvmf_host_read(t->ctrl, NSID, 8, nlb(BLK_BYTES), rb), 0);
	elapsed = now_ms() - t0;
	assert_true(elapsed >= 300);
	assert_memory_equal(rb, wb, BLK_BYTES);
	assert_int_equal(info_of(tgt, id).hits, 1);
	/* writes were never selected */
	assert_int_equal(nvmf_host_write(t->ctrl, NSID, 8, nlb(BLK_BYTES), wb, false), 0);
	assert_int_equal(info_of(tgt, id).hits, 1);

	/* a random delay in [delay_ms, delay_max_ms] */
	f.delay_ms = 100;
	f.delay_max_ms = 250;
	f.count = 3;
	id = add(tgt, &f);
	for (int i = 0; i < 3; i++) {
		t0 = now_ms();
		assert_int_equal(nvmf_host_read(t->ctrl, NSID, 8, nlb(BLK_BYTES), rb), 0);
		assert_true(now_ms() - t0 >= 100);
		assert_memory_equal(rb, wb, BLK_BYTES);
	}
	assert_int_equal(info_of(tgt, id).hits, 3);
	free(wb);
	free(rb);
}

static void test_hold_release(void **state)
{
	struct tctx *t = *state;
	struct nvmf_tgt_fault f = rule(NVMF_TGT_FAULT_HOLD, NVMF_TGT_FAULT_QUEUE_IO, nvme_cmd_read);
	uint8_t *wb = xalloc(2 * BLK_BYTES), *rb = xalloc(2 * BLK_BYTES);
	struct io io[2] = { 0 };
	uint32_t id;

	fill(wb, 2 * BLK_BYTES, 3);
	assert_int_equal(nvmf_host_write(t->ctrl, NSID, 64, nlb(2 * BLK_BYTES), wb, false), 0);
	f.nsid = NSID;
	id = add(tgt, &f);
	memset(rb, 0xa5, 2 * BLK_BYTES);
	submit_rw(t, nvme_cmd_read, 64, rb, BLK_BYTES, &io[0]);
	poll_for_ms(t, 200);
	assert_int_equal(atomic_load(&io[0].calls), 0);
	assert_int_equal(info_of(tgt, id).held, 1);
	assert_int_equal(info_of(tgt, id).hits, 1);

	assert_int_equal(nvmf_tgt_fault_release(tgt, id), 1);
	POLL_UNTIL(nvmf_host_poll(t->ctrl, 5), atomic_load(&io[0].calls));
	assert_int_equal(atomic_load(&io[0].calls), 1);
	assert_int_equal(atomic_load(&io[0].status), 0);
	assert_memory_equal(rb, wb, BLK_BYTES);
	assert_int_equal(info_of(tgt, id).held, 0);
	assert_int_equal(nvmf_tgt_fault_release(tgt, id), 0);

	/* the rule goes on holding; release 0 covers every rule */
	submit_rw(t, nvme_cmd_read, 72, rb + BLK_BYTES, BLK_BYTES, &io[1]);
	POLL_UNTIL(nvmf_host_poll(t->ctrl, 5), info_of(tgt, id).held == 1);
	poll_for_ms(t, 50);
	assert_int_equal(atomic_load(&io[1].calls), 0);
	assert_int_equal(nvmf_tgt_fault_release(tgt, 0), 1);
	POLL_UNTIL(nvmf_host_poll(t->ctrl, 5), atomic_load(&io[1].calls));
	assert_int_equal(atomic_load(&io[1].status), 0);
	assert_memory_equal(rb + BLK_BYTES, wb + BLK_BYTES, BLK_BYTES);
	assert_int_equal(info_of(tgt, id).hits, 2);
	assert_int_equal(info_of(tgt, id).held, 0);
	free(wb);
	free(rb);
}

/* The same with the host on its own thread: the release crosses threads. */
static void test_hold_release_threaded(void **state)
{
	struct conn c = { .threaded = true };
	struct tctx *t = new_ctx(&c);
	struct nvmf_tgt_fault f = rule(NVMF_TGT_FAULT_HOLD, NVMF_TGT_FAULT_QUEUE_IO, nvme_cmd_read);
	uint8_t *wb = xalloc(BLK_BYTES), *rb = xalloc(BLK_BYTES);
	struct io io = { 0 };
	uint32_t id;

	(void)state;
	fill(wb, BLK_BYTES, 4);
	assert_int_equal(nvmf_host_write(t->ctrl, NSID, 128, nlb(BLK_BYTES), wb, false), 0);
	id = add(tgt, &f);
	submit_rw(t, nvme_cmd_read, 128, rb, BLK_BYTES, &io);
	POLL_UNTIL(usleep(1000), info_of(tgt, id).held == 1);
	assert_int_equal(info_of(tgt, id).held, 1);
	usleep(100000);
	assert_int_equal(atomic_load(&io.calls), 0);
	assert_int_equal(nvmf_tgt_fault_release(tgt, id), 1);
	POLL_UNTIL(usleep(1000), atomic_load(&io.calls));
	assert_int_equal(atomic_load(&io.calls), 1);
	assert_int_equal(atomic_load(&io.status), 0);
	assert_memory_equal(rb, wb, BLK_BYTES);
	end_ctx(t);
	free(wb);
	free(rb);
}

static void test_status(void **state)
{
	struct tctx *t = *state;
	struct nvmf_tgt_fault f =
		rule(NVMF_TGT_FAULT_STATUS, NVMF_TGT_FAULT_QUEUE_IO, nvme_cmd_read);
	uint16_t st = NVME_SC_READ_ERROR | NVME_STATUS_DNR; /* 0x4281 */
	uint8_t *wb = xalloc(BLK_BYTES), *rb = xalloc(BLK_BYTES);
	uint32_t id;

	fill(wb, BLK_BYTES, 5);
	assert_int_equal(nvmf_host_write(t->ctrl, NSID, 200, nlb(BLK_BYTES), wb, false), 0);
	f.status = st;
	id = add(tgt, &f);
	memset(rb, 0xa5, BLK_BYTES);
	assert_int_equal(nvmf_host_read(t->ctrl, NSID, 200, nlb(BLK_BYTES), rb), st);
	assert_int_equal(rb[0], 0xa5); /* not executed: the host's buffer is untouched */
	assert_int_equal(rb[BLK_BYTES - 1], 0xa5);
	assert_int_equal(info_of(tgt, id).hits, 1);
	assert_int_equal(nvmf_tgt_fault_remove(tgt, id), 0);

	/* a failed write writes nothing */
	f = rule(NVMF_TGT_FAULT_STATUS, 1, nvme_cmd_write);
	f.status = NVME_SC_INTERNAL;
	id = add(tgt, &f);
	memset(rb, 0x5a, BLK_BYTES);
	assert_int_equal(nvmf_host_write(t->ctrl, NSID, 200, nlb(BLK_BYTES), rb, false),
			 NVME_SC_INTERNAL);
	assert_int_equal(info_of(tgt, id).hits, 1);
	assert_int_equal(nvmf_tgt_fault_remove(tgt, id), 0);
	assert_int_equal(nvmf_host_read(t->ctrl, NSID, 200, nlb(BLK_BYTES), rb), 0);
	assert_memory_equal(rb, wb, BLK_BYTES);

	/* admin commands too (Identify); the first matching rule wins */
	f = rule(NVMF_TGT_FAULT_STATUS, NVMF_TGT_FAULT_QUEUE_ADMIN, nvme_admin_identify);
	f.status = NVME_SC_INVALID_FIELD | NVME_STATUS_DNR;
	id = add(tgt, &f);
	f.status = NVME_SC_INTERNAL | NVME_STATUS_DNR;
	add(tgt, &f);
	assert_int_equal(nvmf_host_identify(t->ctrl, NVME_ID_CNS_CTRL, 0, 0, rb),
			 NVME_SC_INVALID_FIELD | NVME_STATUS_DNR);
	assert_int_equal(info_of(tgt, id).hits, 1);
	free(wb);
	free(rb);
}

static void test_count(void **state)
{
	struct tctx *t = *state;
	struct nvmf_tgt_fault f =
		rule(NVMF_TGT_FAULT_STATUS, NVMF_TGT_FAULT_QUEUE_IO, nvme_cmd_read);
	uint8_t *rb = xalloc(BLK_BYTES);
	struct nvmf_tgt_fault_info info;
	uint32_t id;

	f.status = NVME_SC_INTERNAL;
	f.count = 2;
	id = add(tgt, &f);
	assert_int_equal(nvmf_host_read(t->ctrl, NSID, 0, nlb(BLK_BYTES), rb), NVME_SC_INTERNAL);
	assert_int_equal(nvmf_host_read(t->ctrl, NSID, 0, nlb(BLK_BYTES), rb), NVME_SC_INTERNAL);
	for (int i = 0; i < 3; i++)
		assert_int_equal(nvmf_host_read(t->ctrl, NSID, 0, nlb(BLK_BYTES), rb), 0);
	/* spent, still listed */
	info = info_of(tgt, id);
	assert_int_equal(info.hits, 2);
	assert_int_equal(info.rule.count, 2);
	free(rb);
}

static void test_probability(void **state)
{
	struct tctx *t = *state;
	struct nvmf_tgt_fault f =
		rule(NVMF_TGT_FAULT_STATUS, NVMF_TGT_FAULT_QUEUE_IO, nvme_cmd_read);
	uint8_t *rb = xalloc(BLK_BYTES);
	unsigned int failed = 0;
	uint32_t id;

	f.status = NVME_SC_INTERNAL;
	/* 0 means always, as 1 */
	f.probability = 0.0;
	id = add(tgt, &f);
	for (int i = 0; i < 10; i++)
		assert_int_equal(nvmf_host_read(t->ctrl, NSID, 0, nlb(BLK_BYTES), rb),
				 NVME_SC_INTERNAL);
	assert_int_equal(info_of(tgt, id).hits, 10);
	assert_int_equal(nvmf_tgt_fault_remove(tgt, id), 0);
	f.probability = 1.0;
	id = add(tgt, &f);
	for (int i = 0; i < 10; i++)
		assert_int_equal(nvmf_host_read(t->ctrl, NSID, 0, nlb(BLK_BYTES), rb),
				 NVME_SC_INTERNAL);
	assert_int_equal(info_of(tgt, id).hits, 10);
	assert_int_equal(nvmf_tgt_fault_remove(tgt, id), 0);

	/* in between: some, not all (each way out has a chance of 2^-200) */
	f.probability = 0.5;
	id = add(tgt, &f);
	for (int i = 0; i < 200; i++) {
		int ret = nvmf_host_read(t->ctrl, NSID, 0, nlb(BLK_BYTES), rb);

		assert_true(ret == 0 || ret == NVME_SC_INTERNAL);
		failed += ret != 0;
	}
	assert_true(failed > 0 && failed < 200);
	assert_int_equal(info_of(tgt, id).hits, failed);
	free(rb);
}

/* Over loop there are no digests: the corruptions do nothing and count no hit. */
static void test_corrupt_loop(void **state)
{
	struct tctx *t = *state;
	struct nvmf_tgt_fault h = rule(NVMF_TGT_FAULT_CORRUPT_HDGST, NVMF_TGT_FAULT_QUEUE_ANY, -1);
	struct nvmf_tgt_fault d = rule(NVMF_TGT_FAULT_CORRUPT_DDGST, NVMF_TGT_FAULT_QUEUE_ANY, -1);
	uint8_t *wb = xalloc(BLK_BYTES), *rb = xalloc(BLK_BYTES);
	uint32_t hid = add(tgt, &h), did = add(tgt, &d);

	fill(wb, BLK_BYTES, 6);
	assert_int_equal(nvmf_host_write(t->ctrl, NSID, 300, nlb(BLK_BYTES), wb, false), 0);
	assert_int_equal(nvmf_host_read(t->ctrl, NSID, 300, nlb(BLK_BYTES), rb), 0);
	assert_memory_equal(rb, wb, BLK_BYTES);
	assert_int_equal(info_of(tgt, hid).hits, 0);
	assert_int_equal(info_of(tgt, did).hits, 0);
	free(wb);
	free(rb);
}

/* A dropped response never comes: the host times the command out, resets and goes on. */
static void test_drop(void **state)
{
	struct conn c = { .io_timeout = 1000 };
	struct tctx *t = new_ctx(&c);
	struct nvmf_tgt_fault f = rule(NVMF_TGT_FAULT_DROP, NVMF_TGT_FAULT_QUEUE_IO, nvme_cmd_read);
	uint8_t *wb = xalloc(BLK_BYTES), *rb = xalloc(BLK_BYTES);
	uint32_t id;

	(void)state;
	fill(wb, BLK_BYTES, 7);
	assert_int_equal(nvmf_host_write(t->ctrl, NSID, 400, nlb(BLK_BYTES), wb, false), 0);
	f.count = 1;
	id = add(tgt, &f);
	assert_int_equal(nvmf_host_read(t->ctrl, NSID, 400, nlb(BLK_BYTES), rb), -ETIMEDOUT);
	assert_int_equal(info_of(tgt, id).hits, 1);
	POLL_UNTIL(nvmf_host_poll(t->ctrl, 10),
		   nvmf_host_ctrl_get_state(t->ctrl) == NVMF_CTRL_LIVE &&
			   atomic_load(&t->lives) >= 2);
	assert_int_equal(nvmf_host_ctrl_get_state(t->ctrl), NVMF_CTRL_LIVE);
	assert_true(atomic_load(&t->leaves) >= 1);
	assert_int_equal(nvmf_host_read(t->ctrl, NSID, 400, nlb(BLK_BYTES), rb), 0);
	assert_memory_equal(rb, wb, BLK_BYTES);
	/* the old association is gone from the target: the dropped slot came back */
	assert_int_equal(atomic_load(&tgt->nr_ctrls), 1);
	assert_int_equal(atomic_load(&tgt->nr_sqs), 2);
	end_ctx(t);
	free(wb);
	free(rb);
}

/*
 * The third write disconnects the I/O queue: the host leaves LIVE, reconnects, and its
 * write, failed over, completes on the new association. Then the same on the admin queue.
 */
static void test_disconnect(void **state)
{
	struct tctx *t = *state;
	struct nvmf_tgt_fault f =
		rule(NVMF_TGT_FAULT_DISCONNECT, NVMF_TGT_FAULT_QUEUE_IO, nvme_cmd_write);
	uint8_t *wb = xalloc(3 * BLK_BYTES), *rb = xalloc(3 * BLK_BYTES);
	unsigned int leaves = atomic_load(&t->leaves), lives = atomic_load(&t->lives);
	uint16_t cntlid = nvmf_host_ctrl_cntlid(t->ctrl);
	uint32_t id;

	fill(wb, 3 * BLK_BYTES, 8);
	f.after = 2;
	f.count = 1;
	id = add(tgt, &f);
	for (int i = 0; i < 2; i++)
		assert_int_equal(nvmf_host_write(t->ctrl, NSID, 500 + 8 * (uint64_t)i,
						 nlb(BLK_BYTES), wb + i * BLK_BYTES, false),
				 0);
	assert_int_equal(info_of(tgt, id).hits, 0);
	assert_int_equal(atomic_load(&t->leaves), leaves);
	assert_int_equal(
		nvmf_host_write(t->ctrl, NSID, 516, nlb(BLK_BYTES), wb + 2 * BLK_BYTES, false), 0);
	assert_int_equal(info_of(tgt, id).hits, 1);
	assert_int_equal(atomic_load(&t->leaves), leaves + 1);
	assert_int_equal(atomic_load(&t->lives), lives + 1);
	assert_int_equal(nvmf_host_ctrl_get_state(t->ctrl), NVMF_CTRL_LIVE);
	assert_int_not_equal(nvmf_host_ctrl_cntlid(t->ctrl), cntlid);
	assert_int_equal(nvmf_host_read(t->ctrl, NSID, 500, nlb(3 * BLK_BYTES), rb), 0);
	assert_memory_equal(rb, wb, 3 * BLK_BYTES);
	/* spent: no more disconnects */
	assert_int_equal(nvmf_host_write(t->ctrl, NSID, 500, nlb(BLK_BYTES), wb, false), 0);
	assert_int_equal(atomic_load(&t->leaves), leaves + 1);

	/* the admin queue: losing it fails the controller */
	f = rule(NVMF_TGT_FAULT_DISCONNECT, NVMF_TGT_FAULT_QUEUE_ADMIN, nvme_admin_identify);
	f.count = 1;
	id = add(tgt, &f);
	assert_int_equal(nvmf_host_identify(t->ctrl, NVME_ID_CNS_CTRL, 0, 0, rb), 0);
	assert_int_equal(info_of(tgt, id).hits, 1);
	POLL_UNTIL(nvmf_host_poll(t->ctrl, 10),
		   atomic_load(&t->lives) == lives + 2 &&
			   nvmf_host_ctrl_get_state(t->ctrl) == NVMF_CTRL_LIVE);
	assert_int_equal(atomic_load(&t->leaves), leaves + 2);
	assert_int_equal(nvmf_host_ctrl_get_state(t->ctrl), NVMF_CTRL_LIVE);
	assert_int_equal(nvmf_host_read(t->ctrl, NSID, 500, nlb(BLK_BYTES), rb), 0);
	assert_memory_equal(rb, wb, BLK_BYTES);
	assert_int_equal(atomic_load(&tgt->nr_ctrls), 1);
	free(wb);
	free(rb);
}

/* Keep Alive goes unanswered: a Keep Alive of ours times out; the host's own loses LIVE. */
static void test_no_keep_alive(void **state)
{
	struct conn c = { .adm_timeout = 1000 };
	struct tctx *t = new_ctx(&c);
	struct nvmf_tgt_fault f = rule(NVMF_TGT_FAULT_NO_KEEP_ALIVE, NVMF_TGT_FAULT_QUEUE_ANY, -1);
	struct nvme_sqe ka = { .opcode = nvme_admin_keep_alive };
	uint8_t *buf = xalloc(4096);
	struct io io = { 0 };
	uint32_t id;

	(void)state;
	id = add(tgt, &f);
	/* other admin commands pass */
	assert_int_equal(nvmf_host_identify(t->ctrl, NVME_ID_CNS_CTRL, 0, 0, buf), 0);
	assert_int_equal(info_of(tgt, id).hits, 0);
	assert_int_equal(nvmf_host_submit_admin(t->ctrl, &ka, NULL, 0, io_cb, &io), 0);
	POLL_UNTIL(nvmf_host_poll(t->ctrl, 10), atomic_load(&io.calls));
	assert_int_equal(atomic_load(&io.calls), 1);
	assert_int_equal(atomic_load(&io.status), -ETIMEDOUT);
	assert_int_equal(info_of(tgt, id).hits, 1);
	POLL_UNTIL(nvmf_host_poll(t->ctrl, 10),
		   nvmf_host_ctrl_get_state(t->ctrl) == NVMF_CTRL_LIVE &&
			   atomic_load(&t->lives) >= 2);
	assert_int_equal(nvmf_host_ctrl_get_state(t->ctrl), NVMF_CTRL_LIVE);
	end_ctx(t);

	/* a host with a keep-alive timeout of 1 s: its own Keep Alive times out */
	c.kato_ms = 1000;
	c.adm_timeout = 0;
	t = new_ctx(&c);
	id = add(tgt, &f);
	POLL_UNTIL(nvmf_host_poll(t->ctrl, 10), atomic_load(&t->leaves) >= 1);
	assert_true(atomic_load(&t->leaves) >= 1);
	assert_true(info_of(tgt, id).hits >= 1);
	assert_int_equal(nvmf_tgt_fault_remove(tgt, id), 0);
	POLL_UNTIL(nvmf_host_poll(t->ctrl, 10),
		   nvmf_host_ctrl_get_state(t->ctrl) == NVMF_CTRL_LIVE);
	assert_int_equal(nvmf_host_ctrl_get_state(t->ctrl), NVMF_CTRL_LIVE);
	assert_int_equal(nvmf_host_identify(t->ctrl, NVME_ID_CNS_CTRL, 0, 0, buf), 0);
	end_ctx(t);
	free(buf);
}

/*
 * Deleting the controller while commands are held and delayed (for a minute): the teardown
 * completes them at once, each exactly once, and leaves nothing behind.
 */
static void delete_while_parked(bool threaded)
{
	struct conn c = { .threaded = threaded };
	struct tctx *t = new_ctx(&c);
	struct nvmf_tgt_fault d =
		rule(NVMF_TGT_FAULT_DELAY, NVMF_TGT_FAULT_QUEUE_IO, nvme_cmd_read);
	struct nvmf_tgt_fault h =
		rule(NVMF_TGT_FAULT_HOLD, NVMF_TGT_FAULT_QUEUE_IO, nvme_cmd_write);
	uint8_t *buf = xalloc(4 * BLK_BYTES);
	struct io io[4] = { 0 };
	uint32_t did, hid;
	uint64_t t0;

	d.delay_ms = 60000;
	did = add(tgt, &d);
	hid = add(tgt, &h);
	fill(buf, 4 * BLK_BYTES, 9);
	for (int i = 0; i < 4; i++)
		submit_rw(t, i % 2 ? nvme_cmd_write : nvme_cmd_read, 600 + 8 * (uint64_t)i,
			  buf + i * BLK_BYTES, BLK_BYTES, &io[i]);
	if (threaded)
		POLL_UNTIL(usleep(1000),
			   info_of(tgt, did).hits == 2 && info_of(tgt, hid).held == 2);
	else
		POLL_UNTIL(nvmf_host_poll(t->ctrl, 5),
			   info_of(tgt, did).hits == 2 && info_of(tgt, hid).held == 2);
	assert_int_equal(info_of(tgt, did).hits, 2);
	assert_int_equal(info_of(tgt, hid).held, 2);
	for (int i = 0; i < 4; i++)
		assert_int_equal(atomic_load(&io[i].calls), 0);

	t0 = now_ms();
	nvmf_host_ctrl_delete(t->ctrl);
	/* well short of the delay: the teardown did not wait for it */
	assert_true(now_ms() - t0 < 30000);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(atomic_load(&io[i].calls), 1);
		assert_int_equal(atomic_load(&io[i].status), -ENOLINK);
	}
	assert_int_equal(atomic_load(&tgt->nr_ctrls), 0);
	assert_int_equal(atomic_load(&tgt->nr_sqs), 0);
	assert_int_equal(info_of(tgt, hid).held, 0);
	assert_int_equal(info_of(tgt, hid).hits, 2);
	assert_int_equal(nvmf_tgt_fault_release(tgt, hid), 0);
	free(t);
	assert_int_equal(nvmf_tgt_fault_remove(tgt, 0), 0);
	free(buf);
}

static void test_delete_while_parked(void **state)
{
	(void)state;
	delete_while_parked(false);
}

static void test_delete_while_parked_threaded(void **state)
{
	(void)state;
	delete_while_parked(true);
}

/* -------------------------------------------------------------------------------------- */
/* NVMe/TCP with digests */

struct tcp_tgt {
	struct nvmf_tgt *tgt;
	char port[16];
};

/* A TCP port on 127.0.0.1 that was free a moment ago, as a string. */
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
}

/* A started target with a TCP port on 127.0.0.1; retried on another port if it was taken. */
static void tcp_tgt_start(struct tcp_tgt *tt)
{
	struct nvmf_tgt_opts topts = { .nr_reactors = 2 };
	struct nvmf_tgt_subsys_params sp = { .nqn = SUBNQN, .allow_any_host = true };
	struct nvmf_tgt_ns_params mem = { .nsid = NSID,
					  .backend = NVMF_TGT_BACKEND_MEM,
					  .size_bytes = MEM_BYTES,
					  .enable = true };
	int ret = -EADDRINUSE;

	for (int attempt = 0; attempt < 10 && ret == -EADDRINUSE; attempt++) {
		struct nvmf_tgt_port_params pp = { .portid = 1,
						   .trtype = NVMF_TRTYPE_TCP,
						   .adrfam = NVMF_ADRFAM_IPV4,
						   .traddr = "127.0.0.1",
						   .trsvcid = tt->port };
		struct nvmf_tgt_subsys *s;
		struct nvmf_tgt_port *port;

		free_port(tt->port, sizeof(tt->port));
		tt->tgt = nvmf_tgt_create(&topts);
		assert_non_null(tt->tgt);
		assert_int_equal(nvmf_tgt_add_subsys(tt->tgt, &sp, &s), 0);
		assert_int_equal(nvmf_tgt_subsys_add_ns(s, &mem), 0);
		assert_int_equal(nvmf_tgt_add_port(tt->tgt, &pp, &port), 0);
		assert_int_equal(nvmf_tgt_port_add_subsys(port, s), 0);
		ret = nvmf_tgt_start(tt->tgt);
		if (ret) {
			nvmf_tgt_destroy(tt->tgt);
			tt->tgt = NULL;
		}
	}
	assert_int_equal(ret, 0);
}

static void tcp_wait_live(struct tctx *t, unsigned int lives)
{
	POLL_UNTIL(nvmf_host_poll(t->ctrl, 10),
		   atomic_load(&t->lives) >= lives &&
			   nvmf_host_ctrl_get_state(t->ctrl) == NVMF_CTRL_LIVE);
	assert_int_equal(nvmf_host_ctrl_get_state(t->ctrl), NVMF_CTRL_LIVE);
}

/*
 * A corrupted data digest fails the read with Data Transfer Error (the connection stays); a
 * corrupted header digest is a fatal transport error: the host resets and its read, failed
 * over, completes on the next association; a dropped response times out. Commands without
 * C2H data have no data digest to corrupt: no hit.
 */
static void test_tcp_digests_drop(void **state)
{
	struct tcp_tgt tt = { 0 };
	struct tctx *t = calloc(1, sizeof(*t));
	uint8_t *wb = xalloc(8192), *rb = xalloc(8192);
	struct nvmf_tgt_fault f;
	struct nvmf_host_opts o = {
		.trtype = "tcp",
		.traddr = "127.0.0.1",
		.subnqn = SUBNQN,
		.hostnqn = HOSTNQN,
		.hdgst = true,
		.ddgst = true,
		.nr_io_queues = 1,
		.kato_ms = -1,
		.reconnect_delay_s = 1,
		.io_timeout_ms = 1000,
		.state_cb = state_cb,
		.cb_arg = t,
	};
	uint32_t id;

	(void)state;
	assert_non_null(t);
	tcp_tgt_start(&tt);
	o.trsvcid = tt.port;
	assert_int_equal(nvmf_host_ctrl_connect(&o, &t->ctrl), 0);
	fill(wb, 8192, 10);
	assert_int_equal(nvmf_host_write(t->ctrl, NSID, 0, nlb(8192), wb, false), 0);

	/* data digest */
	f = rule(NVMF_TGT_FAULT_CORRUPT_DDGST, NVMF_TGT_FAULT_QUEUE_IO, -1);
	f.count = 1;
	id = add(tt.tgt, &f);
	assert_int_equal(nvmf_host_write(t->ctrl, NSID, 0, nlb(8192), wb, false), 0);
	assert_int_equal(info_of(tt.tgt, id).hits, 0); /* no C2H data, no data digest */
	assert_int_equal(nvmf_host_read(t->ctrl, NSID, 0, nlb(8192), rb), NVME_SC_DATA_XFER_ERROR);
	assert_int_equal(info_of(tt.tgt, id).hits, 1);
	assert_int_equal(atomic_load(&t->leaves), 0);
	assert_int_equal(nvmf_host_read(t->ctrl, NSID, 0, nlb(8192), rb), 0);
	assert_memory_equal(rb, wb, 8192);
	assert_int_equal(nvmf_tgt_fault_remove(tt.tgt, id), 0);

	/* header digest */
	f = rule(NVMF_TGT_FAULT_CORRUPT_HDGST, NVMF_TGT_FAULT_QUEUE_IO, nvme_cmd_read);
	f.count = 1;
	id = add(tt.tgt, &f);
	memset(rb, 0, 8192);
	assert_int_equal(nvmf_host_read(t->ctrl, NSID, 0, nlb(8192), rb), 0);
	assert_memory_equal(rb, wb, 8192);
	assert_int_equal(info_of(tt.tgt, id).hits, 1);
	assert_int_equal(atomic_load(&t->leaves), 1);
	tcp_wait_live(t, 2);
	assert_int_equal(nvmf_tgt_fault_remove(tt.tgt, id), 0);

	/* a dropped response */
	f = rule(NVMF_TGT_FAULT_DROP, NVMF_TGT_FAULT_QUEUE_IO, nvme_cmd_read);
	f.count = 1;
	id = add(tt.tgt, &f);
	assert_int_equal(nvmf_host_read(t->ctrl, NSID, 0, nlb(8192), rb), -ETIMEDOUT);
	assert_int_equal(info_of(tt.tgt, id).hits, 1);
	tcp_wait_live(t, 3);
	memset(rb, 0, 8192);
	assert_int_equal(nvmf_host_read(t->ctrl, NSID, 0, nlb(8192), rb), 0);
	assert_memory_equal(rb, wb, 8192);

	nvmf_host_ctrl_delete(t->ctrl);
	POLL_UNTIL(usleep(1000), !atomic_load(&tt.tgt->nr_sqs) && !atomic_load(&tt.tgt->nr_ctrls));
	assert_int_equal(atomic_load(&tt.tgt->nr_sqs), 0);
	assert_int_equal(atomic_load(&tt.tgt->nr_ctrls), 0);
	nvmf_tgt_destroy(tt.tgt);
	free(t);
	free(wb);
	free(rb);
}

/* Held over TCP, then the host goes: the target's teardown gives the slot back. */
static void test_tcp_hold_delete(void **state)
{
	struct tcp_tgt tt = { 0 };
	struct tctx *t = calloc(1, sizeof(*t));
	uint8_t *rb = xalloc(4096);
	struct io io = { 0 };
	struct nvmf_tgt_fault f = rule(NVMF_TGT_FAULT_HOLD, NVMF_TGT_FAULT_QUEUE_IO, nvme_cmd_read);
	struct nvmf_host_opts o = {
		.trtype = "tcp",
		.traddr = "127.0.0.1",
		.subnqn = SUBNQN,
		.hostnqn = HOSTNQN,
		.nr_io_queues = 1,
		.kato_ms = -1,
		.state_cb = state_cb,
		.cb_arg = t,
	};
	uint32_t id;

	(void)state;
	assert_non_null(t);
	tcp_tgt_start(&tt);
	o.trsvcid = tt.port;
	assert_int_equal(nvmf_host_ctrl_connect(&o, &t->ctrl), 0);
	id = add(tt.tgt, &f);
	submit_rw(t, nvme_cmd_read, 0, rb, 4096, &io);
	POLL_UNTIL(nvmf_host_poll(t->ctrl, 5), info_of(tt.tgt, id).held == 1);
	assert_int_equal(info_of(tt.tgt, id).held, 1);
	nvmf_host_ctrl_delete(t->ctrl);
	assert_int_equal(atomic_load(&io.calls), 1);
	assert_int_equal(atomic_load(&io.status), -ENOLINK);
	POLL_UNTIL(usleep(1000), !atomic_load(&tt.tgt->nr_sqs) && !atomic_load(&tt.tgt->nr_ctrls));
	assert_int_equal(atomic_load(&tt.tgt->nr_sqs), 0);
	assert_int_equal(atomic_load(&tt.tgt->nr_ctrls), 0);
	assert_int_equal(info_of(tt.tgt, id).held, 0);
	nvmf_tgt_destroy(tt.tgt);
	free(t);
	free(rb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_invalid),
		cmocka_unit_test_setup_teardown(test_list_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hold_release, setup, teardown),
		cmocka_unit_test(test_hold_release_threaded),
		cmocka_unit_test_setup_teardown(test_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_probability, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_loop, setup, teardown),
		cmocka_unit_test(test_drop),
		cmocka_unit_test_setup_teardown(test_disconnect, setup, teardown),
		cmocka_unit_test(test_no_keep_alive),
		cmocka_unit_test(test_delete_while_parked),
		cmocka_unit_test(test_delete_while_parked_threaded),
		cmocka_unit_test(test_tcp_digests_drop),
		cmocka_unit_test(test_tcp_hold_delete),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
