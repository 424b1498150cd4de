// SPDX-License-Identifier: MIT
/*
 * The host library against an embedded target over the loop transport: one process, no
 * sockets, the target's real fabrics/admin/I/O code and backends (mem, null, and a file on
 * io_uring so that commands really are in flight when a queue goes down).
 *
 * The shared target is never started: loop queues run on the host controller's reactor,
 * which this thread polls (nvmf_host_opts.threaded is false). One test starts, stops and
 * restarts a target of its own under a threaded host.
 *
 * The transport tests at the end drive lib/host/transport-loop.c through its ops with a
 * bare controller, to watch the teardown order of seed 000 from up close: a queue stopped
 * while the backend still has a command completes it only after the backend gave it back.
 */
#include "target/core.h"

#include "host/host-internal.h"
#include "host/queue.h"
#include "nvmf/host.h"
#include "nvmf/target.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#define SUBNQN "nqn.2024-01.io.nvmf:loop-test"
#define OTHER_NQN "nqn.2024-01.io.nvmf:not-on-loop"
#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:6b1a3f64-8f3e-4f5e-9a0c-2a7b9f6d1c01"
#define MDTS (1u << 20)
#define NSID_MEM 1
#define NSID_NULL 2
#define NSID_FILE 3
#define MEM_BYTES (32ull << 20)
#define NULL_BYTES (64ull << 20)
#define FILE_BYTES (32ull << 20)
#define LBA_SHIFT 9
#define NR_ASYNC 32
#define ASYNC_BYTES (64u << 10)
#define WAIT_NS (60ull * 1000000000ull) /* a generous bound on waits, never a timing check */

/* Run @poll until @cond holds or WAIT_NS passed; the caller asserts @cond afterwards. */
#define POLL_UNTIL(poll, cond)                                                                     \
	for (uint64_t until_ns = nvmf_now_ns() + WAIT_NS; !(cond) && nvmf_now_ns() < until_ns;)    \
	poll

static struct nvmf_tgt *tgt;
static struct nvmf_tgt_port *loop_port, *tcp_port, *disc_port;
static char file_path[] = "/tmp/nvmf-test-loop-XXXXXX";

/* -------------------------------------------------------------------------------------- */
/* Target */

static int group_setup(void **state)
{
	struct nvmf_tgt_opts topts = { .nr_reactors = 1, .mdts_bytes = MDTS };
	struct nvmf_tgt_subsys_params sp = { .nqn = SUBNQN, .allow_any_host = true };
	struct nvmf_tgt_subsys_params op = { .nqn = OTHER_NQN, .allow_any_host = true };
	struct nvmf_tgt_ns_params mem = { .nsid = NSID_MEM,
					  .backend = NVMF_TGT_BACKEND_MEM,
					  .size_bytes = MEM_BYTES,
					  .enable = true };
	struct nvmf_tgt_ns_params nul = { .nsid = NSID_NULL,
					  .backend = NVMF_TGT_BACKEND_NULL,
					  .size_bytes = NULL_BYTES,
					  .enable = true };
	struct nvmf_tgt_ns_params file = { .nsid = NSID_FILE,
					   .backend = NVMF_TGT_BACKEND_FILE,
					   .path = file_path,
					   .size_bytes = FILE_BYTES,
					   .enable = true };
	/* a loop port without an address; a TCP port exporting the subsystem; a TCP
	 * discovery-only port. The target never starts: nothing listens. */
	struct nvmf_tgt_port_params lp = { .portid = 1,
					   .trtype = NVMF_TRTYPE_LOOP,
					   .adrfam = NVMF_ADRFAM_LOOP };
	struct nvmf_tgt_port_params tp = { .portid = 2,
					   .trtype = NVMF_TRTYPE_TCP,
					   .adrfam = NVMF_ADRFAM_IPV4,
					   .traddr = "127.0.0.1",
					   .trsvcid = "4420" };
	struct nvmf_tgt_port_params dp = { .portid = 3,
					   .trtype = NVMF_TRTYPE_TCP,
					   .adrfam = NVMF_ADRFAM_IPV4,
					   .traddr = "127.0.0.1",
					   .trsvcid = "8009" };
	struct nvmf_tgt_subsys *s, *other;
	int fd;

	(void)state;
	fd = mkstemp(file_path);
	if (fd < 0)
		return -1;
	close(fd);
	tgt = nvmf_tgt_create(&topts);
	if (!tgt)
		return -1;
	if (nvmf_tgt_add_subsys(tgt, &sp, &s) || nvmf_tgt_subsys_add_ns(s, &mem) ||
	    nvmf_tgt_subsys_add_ns(s, &nul) || nvmf_tgt_subsys_add_ns(s, &file))
		return -1;
	if (nvmf_tgt_add_subsys(tgt, &op, &other))
		return -1;
	if (nvmf_tgt_add_port(tgt, &lp, &loop_port) || nvmf_tgt_add_port(tgt, &tp, &tcp_port) ||
	    nvmf_tgt_add_port(tgt, &dp, &disc_port))
		return -1;
	if (nvmf_tgt_port_add_subsys(loop_port, s) || nvmf_tgt_port_add_subsys(tcp_port, s) ||
	    nvmf_tgt_port_add_subsys(tcp_port, other))
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	nvmf_tgt_destroy(tgt);
	unlink(file_path);
	return 0;
}

/* -------------------------------------------------------------------------------------- */
/* Host controller */

struct tctx {
	struct nvmf_host_ctrl *ctrl;
	unsigned int resets; /* LIVE -> RESETTING transitions */
	unsigned int lives;  /* -> LIVE transitions */
};

static void state_cb(struct nvmf_host_ctrl *ctrl, enum nvmf_host_ctrl_state old,
		     enum nvmf_host_ctrl_state state, void *arg)
{
	struct tctx *t = arg;

	(void)ctrl;
	if (old == NVMF_CTRL_LIVE && state == NVMF_CTRL_RESETTING)
		t->resets++;
	if (state == NVMF_CTRL_LIVE)
		t->lives++;
}

static int connect_opts(struct tctx *t, const char *subnqn, unsigned int nr_io_queues,
			struct nvmf_host_ctrl **out)
{
	struct nvmf_host_opts o = {
		.trtype = "loop",
		.loop_tgt = tgt,
		.subnqn = subnqn,
		.hostnqn = HOSTNQN,
		.nr_io_queues = nr_io_queues,
		.reconnect_delay_s = 1,
		.state_cb = state_cb,
		.cb_arg = t,
	};

	return nvmf_host_ctrl_connect(&o, out);
}

static int setup(void **state)
{
	struct tctx *t = calloc(1, sizeof(*t));

	if (!t || connect_opts(t, SUBNQN, 2, &t->ctrl)) {
		free(t);
		return -1;
	}
	*state = t;
	return 0;
}

/* Deleting the controller frees every target object it made. */
static int teardown(void **state)
{
	struct tctx *t = *state;

	nvmf_host_ctrl_delete(t->ctrl);
	free(t);
	assert_int_equal(atomic_load(&tgt->nr_ctrls), 0);
	assert_int_equal(atomic_load(&tgt->nr_sqs), 0);
	return 0;
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

static bool all_zero(const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i])
			return false;
	return true;
}

static uint64_t le128_lo(const uint8_t v[16])
{
	uint64_t lo;

	memcpy(&lo, v, sizeof(lo));
	return lo;
}

/* -------------------------------------------------------------------------------------- */
/* Identify, namespaces */

static void test_identify(void **state)
{
	struct tctx *t = *state;
	const struct nvme_id_ctrl *id = nvmf_host_ctrl_id(t->ctrl);
	struct nvme_id_ctrl *buf = xalloc(sizeof(*buf));

	assert_int_equal(nvmf_host_ctrl_get_state(t->ctrl), NVMF_CTRL_LIVE);
	assert_int_equal(id->cntrltype, NVME_CTRL_TYPE_IO);
	assert_string_equal(id->subnqn, SUBNQN);
	assert_int_not_equal(nvmf_host_ctrl_cntlid(t->ctrl), 0);
	assert_int_equal(nvmf_host_ctrl_nr_io_queues(t->ctrl), 2);
	/* and once more on the wire, into a buffer of ours */
	assert_int_equal(nvmf_host_identify(t->ctrl, NVME_ID_CNS_CTRL, 0, 0, buf), 0);
	assert_int_equal(buf->cntrltype, NVME_CTRL_TYPE_IO);
	assert_string_equal(buf->subnqn, SUBNQN);
	assert_int_equal(buf->cntlid, nvmf_host_ctrl_cntlid(t->ctrl));
	/* MDTS in 4 KiB units: 1 MiB = 2^8 */
	assert_int_equal(buf->mdts, 8);
	assert_int_equal(atomic_load(&tgt->nr_ctrls), 1);
	assert_int_equal(atomic_load(&tgt->nr_sqs), 3); /* admin + 2 I/O */
	free(buf);
}

static void test_ns_list(void **state)
{
	struct tctx *t = *state;
	struct nvmf_host_ns_info info[8];

	assert_int_equal(nvmf_host_ns_list(t->ctrl, info, 8), 3);
	assert_int_equal(info[0].nsid, NSID_MEM);
	assert_int_equal(info[0].nsze, MEM_BYTES >> LBA_SHIFT);
	assert_int_equal(info[0].lba_shift, LBA_SHIFT);
	assert_int_equal(info[1].nsid, NSID_NULL);
	assert_int_equal(info[1].nsze, NULL_BYTES >> LBA_SHIFT);
	assert_int_equal(info[2].nsid, NSID_FILE);
	assert_int_equal(info[2].nsze, FILE_BYTES >> LBA_SHIFT);
}

/* -------------------------------------------------------------------------------------- */
/* Data */

/* Write and read back 4 KiB .. 1 MiB at @offset bytes into 4 KiB-aligned buffers. */
static void rw_sizes(struct nvmf_host_ctrl *ctrl, uint32_t nsid, size_t offset)
{
	uint64_t slba = 0;

	for (uint32_t len = 4096; len <= MDTS; len *= 2) {
		uint8_t *wb = xalloc(len + offset), *rb = xalloc(len + offset);
		uint32_t nlb = len >> LBA_SHIFT;

		fill(wb + offset, len, len + nsid);
		memset(rb + offset, 0xa5, len);
		assert_int_equal(nvmf_host_write(ctrl, nsid, slba, nlb, wb + offset, false), 0);
		assert_int_equal(nvmf_host_read(ctrl, nsid, slba, nlb, rb + offset), 0);
		assert_memory_equal(wb + offset, rb + offset, len);
		slba += nlb;
		free(wb);
		free(rb);
	}
}

static void test_rw_mem(void **state)
{
	struct tctx *t = *state;

	rw_sizes(t->ctrl, NSID_MEM, 0);
	rw_sizes(t->ctrl, NSID_MEM, 8); /* any alignment: the mem backend does not care */
}

/* Direct I/O: page-aligned buffers go to io_uring as they are, others through a bounce. */
static void test_rw_file(void **state)
{
	struct tctx *t = *state;

	rw_sizes(t->ctrl, NSID_FILE, 0);
	rw_sizes(t->ctrl, NSID_FILE, 8);
	rw_sizes(t->ctrl, NSID_FILE, 512);
}

static void test_rw_null(void **state)
{
	struct tctx *t = *state;
	uint8_t *buf = xalloc(65536);

	fill(buf, 65536, 1);
	assert_int_equal(nvmf_host_write(t->ctrl, NSID_NULL, 0, 128, buf, true), 0);
	memset(buf, 0xa5, 65536);
	assert_int_equal(nvmf_host_read(t->ctrl, NSID_NULL, 0, 128, buf), 0);
	assert_true(all_zero(buf, 65536));
	free(buf);
}

/* A transfer beyond MDTS is refused by the target, as over TCP, and touches nothing. */
static void test_rw_beyond_mdts(void **state)
{
	struct tctx *t = *state;
	uint32_t len = 2 * MDTS;
	uint8_t *buf = xalloc(len);

	memset(buf, 0xa5, len);
	assert_int_equal(nvmf_host_read(t->ctrl, NSID_MEM, 0, len >> LBA_SHIFT, buf),
			 NVME_SC_INVALID_FIELD | NVME_STATUS_DNR);
	assert_int_equal(buf[0], 0xa5);
	assert_int_equal(buf[len - 1], 0xa5);
	free(buf);
}

static void compare_on(struct nvmf_host_ctrl *ctrl, uint32_t nsid, size_t offset)
{
	uint32_t len = 8192;
	uint8_t *buf = xalloc(len + offset);
	uint8_t *p = buf + offset;

	fill(p, len, 77);
	assert_int_equal(nvmf_host_write(ctrl, nsid, 1000, len >> LBA_SHIFT, p, false), 0);
	assert_int_equal(nvmf_host_compare(ctrl, nsid, 1000, len >> LBA_SHIFT, p), 0);
	p[len - 1] ^= 1;
	assert_int_equal(nvmf_host_compare(ctrl, nsid, 1000, len >> LBA_SHIFT, p),
			 NVME_SC_COMPARE_FAILED | NVME_STATUS_DNR);
	free(buf);
}

static void test_compare(void **state)
{
	struct tctx *t = *state;

	compare_on(t->ctrl, NSID_MEM, 0);
	compare_on(t->ctrl, NSID_FILE, 0);
	compare_on(t->ctrl, NSID_FILE, 8);
}

static void write_zeroes_on(struct nvmf_host_ctrl *ctrl, uint32_t nsid, bool deallocate)
{
	uint32_t len = 65536;
	uint8_t *wb = xalloc(len), *rb = xalloc(len);

	fill(wb, len, 5);
	assert_int_equal(nvmf_host_write(ctrl, nsid, 2048, len >> LBA_SHIFT, wb, false), 0);
	/* the first half */
	assert_int_equal(
		nvmf_host_write_zeroes(ctrl, nsid, 2048, (len / 2) >> LBA_SHIFT, deallocate), 0);
	assert_int_equal(nvmf_host_read(ctrl, nsid, 2048, len >> LBA_SHIFT, rb), 0);
	assert_true(all_zero(rb, len / 2));
	assert_memory_equal(rb + len / 2, wb + len / 2, len / 2);
	free(wb);
	free(rb);
}

static void test_write_zeroes(void **state)
{
	struct tctx *t = *state;

	write_zeroes_on(t->ctrl, NSID_MEM, false);
	write_zeroes_on(t->ctrl, NSID_MEM, true);
	write_zeroes_on(t->ctrl, NSID_FILE, false);
	write_zeroes_on(t->ctrl, NSID_FILE, true);
}

static void test_dsm(void **state)
{
	struct tctx *t = *state;
	struct nvme_dsm_range *r = xalloc(2 * sizeof(*r));
	uint8_t *buf = xalloc(8192);

	memset(r, 0, 2 * sizeof(*r));
	r[0].nlb = 16;
	r[0].slba = 4096;
	r[1].nlb = 8;
	r[1].slba = 8192;
	assert_int_equal(nvmf_host_dsm(t->ctrl, NSID_MEM, r, 2, NVME_DSMGMT_AD), 0);
	assert_int_equal(nvmf_host_dsm(t->ctrl, NSID_FILE, r, 2, NVME_DSMGMT_AD), 0);
	assert_int_equal(nvmf_host_dsm(t->ctrl, NSID_MEM, r, 1, 0), 0); /* hints only */
	/* a range past the end is refused */
	r[0].slba = (MEM_BYTES >> LBA_SHIFT) - 4;
	assert_int_not_equal(nvmf_host_dsm(t->ctrl, NSID_MEM, r, 1, NVME_DSMGMT_AD), 0);
	/* the queue works on */
	assert_int_equal(nvmf_host_read(t->ctrl, NSID_MEM, 0, 16, buf), 0);
	free(r);
	free(buf);
}

static void test_flush(void **state)
{
	struct tctx *t = *state;

	assert_int_equal(nvmf_host_flush(t->ctrl, NSID_MEM), 0);
	assert_int_equal(nvmf_host_flush(t->ctrl, NSID_NULL), 0);
	assert_int_equal(nvmf_host_flush(t->ctrl, NSID_FILE), 0);
	assert_int_equal(nvmf_host_flush(t->ctrl, NVME_NSID_ALL), 0);
}

static void get_smart(struct nvmf_host_ctrl *ctrl, struct nvme_smart_log *log)
{
	memset(log, 0, sizeof(*log));
	assert_int_equal(nvmf_host_get_log(ctrl, NVME_LOG_SMART, NVME_NSID_ALL, 0, 0, false, log,
					   sizeof(*log)),
			 0);
}

static void test_smart_counters(void **state)
{
	struct tctx *t = *state;
	struct nvme_smart_log *before = xalloc(sizeof(*before)), *after = xalloc(sizeof(*after));
	uint8_t *buf = xalloc(1u << 20);

	get_smart(t->ctrl, before);
	fill(buf, 1u << 20, 9);
	for (int i = 0; i < 3; i++)
		assert_int_equal(
			nvmf_host_write(t->ctrl, NSID_MEM, (uint64_t)i * 2048, 2048, buf, false),
			0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(nvmf_host_read(t->ctrl, NSID_MEM, 0, 2048, buf), 0);
	get_smart(t->ctrl, after);
	assert_int_equal(le128_lo(after->host_writes) - le128_lo(before->host_writes), 3);
	assert_int_equal(le128_lo(after->host_reads) - le128_lo(before->host_reads), 2);
	/* 3 MiB written: 6144 units of 512 bytes, about 6 more thousands */
	assert_true(le128_lo(after->data_units_written) >=
		    le128_lo(before->data_units_written) + 6);
	assert_true(le128_lo(after->data_units_read) >= le128_lo(before->data_units_read) + 4);
	free(before);
	free(after);
	free(buf);
}

/* -------------------------------------------------------------------------------------- */
/* Asynchronous I/O, reset, delete */

struct async_io {
	unsigned int calls;
	int status;
};

static void async_cb(void *arg, int status, const struct nvme_cqe *cqe)
{
	struct async_io *io = arg;

	(void)cqe;
	io->calls++;
	io->status = status;
}

static void submit_writes(struct nvmf_host_ctrl *ctrl, uint32_t nsid, uint8_t *bufs,
			  struct async_io *ios)
{
	for (unsigned int i = 0; i < NR_ASYNC; i++) {
		struct nvme_sqe c = { .opcode = nvme_cmd_write, .nsid = nsid };
		uint64_t slba = (uint64_t)i * (ASYNC_BYTES >> LBA_SHIFT);

		fill(bufs + (size_t)i * ASYNC_BYTES, ASYNC_BYTES, 1000 + i + nsid);
		c.cdw10 = (uint32_t)slba;
		c.cdw12 = (ASYNC_BYTES >> LBA_SHIFT) - 1;
		assert_int_equal(nvmf_host_submit_io(ctrl, 1 + i % 2, &c,
						     bufs + (size_t)i * ASYNC_BYTES, ASYNC_BYTES,
						     async_cb, &ios[i]),
				 0);
	}
}

static bool all_called(const struct async_io *ios)
{
	for (unsigned int i = 0; i < NR_ASYNC; i++)
		if (!ios[i].calls)
			return false;
	return true;
}

static void reset_under_io(struct tctx *t, uint32_t nsid)
{
	uint8_t *bufs = xalloc((size_t)NR_ASYNC * ASYNC_BYTES);
	uint8_t *rb = xalloc(ASYNC_BYTES);
	struct async_io ios[NR_ASYNC];
	unsigned int resets = t->resets, lives = t->lives;

	memset(ios, 0, sizeof(ios));
	submit_writes(t->ctrl, nsid, bufs, ios);
	assert_int_equal(nvmf_host_ctrl_reset(t->ctrl), 0);
	POLL_UNTIL(nvmf_host_poll(t->ctrl, 10), all_called(ios) && t->lives != lives);
	assert_int_equal(t->resets, resets + 1);
	assert_int_equal(t->lives, lives + 1);
	assert_int_equal(nvmf_host_ctrl_get_state(t->ctrl), NVMF_CTRL_LIVE);
	/* a few more rounds: nothing completes twice */
	for (int i = 0; i < 20; i++)
		nvmf_host_poll(t->ctrl, 1);
	for (unsigned int i = 0; i < NR_ASYNC; i++) {
		assert_int_equal(ios[i].calls, 1);
		/* completed before the reset, or failed over and retried after it */
		assert_int_equal(ios[i].status, 0);
	}
	/* the old association is gone from the target, the new one is all there is */
	assert_int_equal(atomic_load(&tgt->nr_ctrls), 1);
	assert_int_equal(atomic_load(&tgt->nr_sqs), 3);
	for (unsigned int i = 0; i < NR_ASYNC; i++) {
		assert_int_equal(nvmf_host_read(t->ctrl, nsid,
						(uint64_t)i * (ASYNC_BYTES >> LBA_SHIFT),
						ASYNC_BYTES >> LBA_SHIFT, rb),
				 0);
		assert_memory_equal(rb, bufs + (size_t)i * ASYNC_BYTES, ASYNC_BYTES);
	}
	free(bufs);
	free(rb);
}

static void test_reset_under_io(void **state)
{
	struct tctx *t = *state;

	reset_under_io(t, NSID_FILE); /* io_uring: the writes are in flight at the reset */
	reset_under_io(t, NSID_MEM);  /* synchronous backend: completed, not yet delivered */
}

/* Deleting with commands in flight: each callback once, then nothing left in the target. */
static void test_delete_under_io(void **state)
{
	struct tctx *t = calloc(1, sizeof(*t));
	uint8_t *bufs = xalloc((size_t)NR_ASYNC * ASYNC_BYTES);
	struct async_io ios[NR_ASYNC];

	(void)state;
	assert_non_null(t);
	assert_int_equal(connect_opts(t, SUBNQN, 2, &t->ctrl), 0);
	memset(ios, 0, sizeof(ios));
	submit_writes(t->ctrl, NSID_FILE, bufs, ios);
	nvmf_host_ctrl_delete(t->ctrl);
	for (unsigned int i = 0; i < NR_ASYNC; i++) {
		assert_int_equal(ios[i].calls, 1);
		assert_true(ios[i].status == 0 || ios[i].status == -ENOLINK);
	}
	assert_int_equal(atomic_load(&tgt->nr_ctrls), 0);
	assert_int_equal(atomic_load(&tgt->nr_sqs), 0);
	free(bufs);
	free(t);
}

/* The target drops the association (keep-alive loss, say): the host resets and reconnects. */
static void test_target_disconnect(void **state)
{
	struct tctx *t = *state;
	struct nvmf_tgt_subsys *s = nvmf_tgt_find_subsys(tgt, SUBNQN);
	unsigned int lives = t->lives;
	struct nvmf_tgt_ctrl *tc;
	uint8_t *buf = xalloc(4096);

	pthread_mutex_lock(&s->lock);
	tc = s->ctrls;
	assert_non_null(tc);
	nvmf_tgt_ctrl_fatal(tc, "test");
	pthread_mutex_unlock(&s->lock);
	POLL_UNTIL(nvmf_host_poll(t->ctrl, 10), t->lives != lives);
	assert_int_equal(t->lives, lives + 1);
	assert_int_equal(nvmf_host_ctrl_get_state(t->ctrl), NVMF_CTRL_LIVE);
	fill(buf, 4096, 3);
	assert_int_equal(nvmf_host_write(t->ctrl, NSID_MEM, 8, 8, buf, false), 0);
	for (int i = 0; i < 20; i++)
		nvmf_host_poll(t->ctrl, 1);
	assert_int_equal(atomic_load(&tgt->nr_ctrls), 1);
	free(buf);
}

/* The loop transport's stop (nvmf_tgt_stop() of a started target) disconnects its queues. */
static void test_target_stop_op(void **state)
{
	struct tctx *t = *state;
	unsigned int resets = t->resets, lives = t->lives;

	nvmf_tgt_loop_ops.stop(tgt);
	POLL_UNTIL(nvmf_host_poll(t->ctrl, 10), t->lives != lives);
	assert_int_equal(t->resets, resets + 1);
	assert_int_equal(t->lives, lives + 1);
	assert_int_equal(nvmf_host_ctrl_get_state(t->ctrl), NVMF_CTRL_LIVE);
}

/* A callback that resubmits on a synchronous backend: no recursion, the reactor goes on. */
struct chain {
	struct nvmf_host_ctrl *ctrl;
	uint8_t *buf;
	unsigned int left;
	unsigned int done;
	int status;
};

static void chain_cb(void *arg, int status, const struct nvme_cqe *cqe)
{
	struct chain *c = arg;
	struct nvme_sqe cmd = { .opcode = nvme_cmd_read, .nsid = NSID_MEM, .cdw12 = 7 };

	(void)cqe;
	c->done++;
	if (status) {
		c->status = status;
		return;
	}
	if (--c->left)
		assert_int_equal(nvmf_host_submit_io(c->ctrl, 1, &cmd, c->buf, 4096, chain_cb, c),
				 0);
}

static void test_resubmit_from_callback(void **state)
{
	struct tctx *t = *state;
	struct chain c = { .ctrl = t->ctrl, .buf = xalloc(4096), .left = 20000 };
	struct nvme_sqe cmd = { .opcode = nvme_cmd_read, .nsid = NSID_MEM, .cdw12 = 7 };
	unsigned int polls = 0;

	assert_int_equal(nvmf_host_submit_io(t->ctrl, 1, &cmd, c.buf, 4096, chain_cb, &c), 0);
	while (c.left && !c.status && polls < 10 * 20000) {
		nvmf_host_poll(t->ctrl, 10);
		polls++;
	}
	assert_int_equal(c.status, 0);
	assert_int_equal(c.left, 0);
	assert_int_equal(c.done, 20000);
	/* one completion per loop iteration: the poll returned in between every time */
	assert_true(polls >= 20000 / 2);
	free(c.buf);
}

/* -------------------------------------------------------------------------------------- */
/* Discovery, connect errors */

static const struct nvmf_disc_log_entry *disc_entry(const void *log, uint64_t i)
{
	return &((const struct nvmf_disc_rsp_page_hdr *)log)->entries[i];
}

static void test_discovery(void **state)
{
	struct tctx t = { 0 };
	struct nvmf_host_ctrl *ctrl;
	uint8_t *log = xalloc(8192);
	const struct nvmf_disc_rsp_page_hdr *hdr = (const void *)log;
	size_t total;

	(void)state;
	/* through the loop port: the discovery controller and the subsystem, both loop */
	assert_int_equal(connect_opts(&t, NULL, 0, &ctrl), 0);
	assert_int_equal(nvmf_host_ctrl_id(ctrl)->cntrltype, NVME_CTRL_TYPE_DISC);
	assert_int_equal(nvmf_host_get_log(ctrl, NVME_LOG_DISC, 0, 0, 0, false, log, 4096), 0);
	assert_int_equal(hdr->numrec, 2);
	assert_int_equal(disc_entry(log, 0)->subtype, NVME_NQN_CURR);
	assert_int_equal(disc_entry(log, 0)->trtype, NVMF_TRTYPE_LOOP);
	assert_int_equal(disc_entry(log, 0)->adrfam, NVMF_ADRFAM_LOOP);
	assert_int_equal(disc_entry(log, 0)->portid, 1);
	assert_string_equal(disc_entry(log, 0)->traddr, "");
	assert_int_equal(disc_entry(log, 1)->subtype, NVME_NQN_NVME);
	assert_int_equal(disc_entry(log, 1)->trtype, NVMF_TRTYPE_LOOP);
	assert_string_equal(disc_entry(log, 1)->subnqn, SUBNQN);
	nvmf_host_ctrl_delete(ctrl);
	assert_int_equal(atomic_load(&tgt->nr_ctrls), 0);
	assert_int_equal(atomic_load(&tgt->nr_sqs), 0);

	/* through the TCP discovery-only port: every TCP port's subsystems, no loop entry */
	memset(log, 0, 8192);
	total = nvmf_tgt_discovery_log(disc_port, HOSTNQN, NULL, log, 8192);
	assert_int_equal(hdr->numrec, 3);
	assert_int_equal(total, sizeof(*hdr) + 3 * sizeof(struct nvmf_disc_log_entry));
	for (uint64_t i = 0; i < hdr->numrec; i++)
		assert_int_equal(disc_entry(log, i)->trtype, NVMF_TRTYPE_TCP);
	assert_int_equal(disc_entry(log, 0)->portid, 3);
	free(log);
}

static void test_connect_errors(void **state)
{
	struct tctx t = { 0 };
	struct nvmf_host_ctrl *ctrl = NULL;
	struct nvmf_tgt *bare = nvmf_tgt_create(&(struct nvmf_tgt_opts){ .nr_reactors = 1 });
	struct nvmf_host_opts o = {
		.trtype = "loop", .loop_tgt = bare, .subnqn = SUBNQN, .hostnqn = HOSTNQN
	};

	(void)state;
	/* a subsystem the loop port does not export: the target's Connect refuses it */
	assert_true(connect_opts(&t, OTHER_NQN, 1, &ctrl) > 0);
	assert_int_equal(atomic_load(&tgt->nr_ctrls), 0);
	assert_int_equal(atomic_load(&tgt->nr_sqs), 0);
	/* a target without a loop port */
	assert_non_null(bare);
	assert_int_equal(nvmf_host_ctrl_connect(&o, &ctrl), -ENOENT);
	assert_int_equal(atomic_load(&bare->nr_sqs), 0);
	nvmf_tgt_destroy(bare);
}

static void wait_state(struct nvmf_host_ctrl *ctrl, enum nvmf_host_ctrl_state state)
{
	for (int i = 0; i < 3000 && nvmf_host_ctrl_get_state(ctrl) != state; i++)
		usleep(10000);
	assert_int_equal(nvmf_host_ctrl_get_state(ctrl), state);
}

/*
 * A threaded host on a started target: nvmf_tgt_stop() closes the loop port, disconnects
 * the queues and waits for them to drain (the host's thread does that); the host's
 * reconnects are refused until nvmf_tgt_start() opens the port again.
 */
static void test_threaded_tgt_stop_start(void **state)
{
	struct nvmf_tgt *t2 = nvmf_tgt_create(&(struct nvmf_tgt_opts){ .nr_reactors = 1 });
	struct nvmf_tgt_subsys_params sp = { .nqn = SUBNQN, .allow_any_host = true };
	struct nvmf_tgt_ns_params mem = {
		.nsid = 1, .backend = NVMF_TGT_BACKEND_MEM, .size_bytes = 1u << 20, .enable = true
	};
	struct nvmf_tgt_port_params lp = { .portid = 7, .trtype = NVMF_TRTYPE_LOOP };
	struct nvmf_host_opts o = { .trtype = "loop",
				    .loop_tgt = t2,
				    .subnqn = SUBNQN,
				    .hostnqn = HOSTNQN,
				    .threaded = true,
				    .reconnect_delay_s = 1 };
	struct nvmf_host_ctrl *ctrl;
	struct nvmf_tgt_subsys *s;
	struct nvmf_tgt_port *port;
	uint8_t *wb = xalloc(4096), *rb = xalloc(4096);

	(void)state;
	assert_non_null(t2);
	assert_int_equal(nvmf_tgt_add_subsys(t2, &sp, &s), 0);
	assert_int_equal(nvmf_tgt_subsys_add_ns(s, &mem), 0);
	assert_int_equal(nvmf_tgt_add_port(t2, &lp, &port), 0);
	assert_string_equal(port->traddr, "");
	assert_string_equal(port->trsvcid, "");
	assert_int_equal(nvmf_tgt_port_add_subsys(port, s), 0);
	assert_int_equal(nvmf_tgt_start(t2), 0);

	assert_int_equal(nvmf_host_ctrl_connect(&o, &ctrl), 0);
	fill(wb, 4096, 11);
	assert_int_equal(nvmf_host_write(ctrl, 1, 8, 8, wb, false), 0);
	assert_int_equal(atomic_load(&t2->nr_sqs), 2);

	nvmf_tgt_stop(t2);
	assert_int_equal(atomic_load(&t2->nr_sqs), 0);
	for (int i = 0; i < 3000 && atomic_load(&t2->nr_ctrls); i++)
		usleep(10000);
	assert_int_equal(atomic_load(&t2->nr_ctrls), 0);
	assert_int_not_equal(nvmf_host_ctrl_get_state(ctrl), NVMF_CTRL_LIVE);
	/* refused while stopped: a reconnect attempt or two later, still not connected */
	usleep(1500000);
	assert_int_not_equal(nvmf_host_ctrl_get_state(ctrl), NVMF_CTRL_LIVE);
	assert_int_equal(atomic_load(&t2->nr_sqs), 0);

	assert_int_equal(nvmf_tgt_start(t2), 0);
	wait_state(ctrl, NVMF_CTRL_LIVE);
	assert_int_equal(nvmf_host_read(ctrl, 1, 8, 8, rb), 0);
	assert_memory_equal(rb, wb, 4096);

	nvmf_host_ctrl_delete(ctrl);
	assert_int_equal(atomic_load(&t2->nr_sqs), 0);
	assert_int_equal(atomic_load(&t2->nr_ctrls), 0);
	nvmf_tgt_destroy(t2);
	free(wb);
	free(rb);
}

/* -------------------------------------------------------------------------------------- */
/* The transport alone, under a bare controller */

struct bare {
	struct nvmf_host_ctrl *ctrl;
	struct nvmf_host_queue *ioq[3];
	uint16_t cntlid;
};

struct sync_wait {
	bool done;
	int status;
	struct nvme_cqe cqe;
};

static void sync_cb(void *arg, int status, const struct nvme_cqe *cqe)
{
	struct sync_wait *w = arg;

	w->done = true;
	w->status = status;
	if (cqe)
		w->cqe = *cqe;
}

static struct nvmf_host_req *bare_send(struct nvmf_host_queue *q, bool reserved,
				       const struct nvme_sqe *cmd, void *buf, uint32_t len,
				       nvmf_host_cb cb, void *arg)
{
	struct nvmf_host_req *req = reserved ? nvmf_host_tag_get_fixed(q, NVMF_HOST_CONNECT_TAG)
					     : nvmf_host_tag_get(q, false);

	assert_non_null(req);
	req->cmd = *cmd;
	req->buf = buf;
	req->len = len;
	req->cb = cb;
	req->arg = arg;
	req->internal = true; /* never parked: the bare controller cannot reconnect */
	assert_int_equal(nvmf_host_queue_send(q, req, 0), 0);
	return req;
}

static int bare_sync(struct bare *b, struct nvmf_host_queue *q, bool reserved,
		     const struct nvme_sqe *cmd, void *buf, uint32_t len, struct nvme_cqe *cqe)
{
	struct sync_wait w = { 0 };

	bare_send(q, reserved, cmd, buf, len, sync_cb, &w);
	POLL_UNTIL(nvmf_reactor_poll_once(b->ctrl->reactor, 10), w.done);
	assert_true(w.done);
	if (cqe)
		*cqe = w.cqe;
	return w.status;
}

static int bare_connect(struct bare *b, struct nvmf_host_queue *q)
{
	struct nvmf_connect_cmd c = { .opcode = nvme_fabrics_command,
				      .fctype = nvme_fabrics_type_connect };
	struct nvmf_connect_data *d = xalloc(sizeof(*d));
	struct nvme_cqe cqe;
	int ret;

	c.qid = q->qid;
	c.sqsize = (uint16_t)(q->depth - 1);
	memset(d, 0, sizeof(*d));
	d->cntlid = q->qid ? b->cntlid : NVME_CNTLID_DYNAMIC;
	snprintf(d->subsysnqn, sizeof(d->subsysnqn), "%s", SUBNQN);
	snprintf(d->hostnqn, sizeof(d->hostnqn), "%s", HOSTNQN);
	ret = bare_sync(b, q, true, (const struct nvme_sqe *)&c, d, sizeof(*d), &cqe);
	if (!ret && !q->qid)
		b->cntlid = (uint16_t)cqe.result.dw0;
	free(d);
	return ret;
}

static int bare_setup(void **state)
{
	struct bare *b = calloc(1, sizeof(*b));
	struct nvmf_host_ctrl *ctrl = calloc(1, sizeof(*ctrl));
	struct nvmf_property_cmd p = { .opcode = nvme_fabrics_command,
				       .fctype = nvme_fabrics_type_property_set,
				       .offset = NVME_REG_CC };

	assert_non_null(b);
	assert_non_null(ctrl);
	b->ctrl = ctrl;
	ctrl->opts.loop_tgt = tgt;
	ctrl->ops = &nvmf_host_loop_ops;
	snprintf(ctrl->subnqn, sizeof(ctrl->subnqn), "%s", SUBNQN);
	snprintf(ctrl->hostnqn, sizeof(ctrl->hostnqn), "%s", HOSTNQN);
	ctrl->pending_tail = &ctrl->pending;
	atomic_init(&ctrl->state, NVMF_CTRL_LIVE);
	ctrl->reactor = nvmf_reactor_create(9, 0);
	assert_non_null(ctrl->reactor);

	assert_int_equal(nvmf_host_queue_init(ctrl, &ctrl->admin, 0, NVMF_HOST_AQ_DEPTH,
					      NVMF_HOST_AQ_RESERVED),
			 0);
	assert_int_equal(ctrl->ops->queue_connect(&ctrl->admin), 0);
	assert_int_equal(bare_connect(b, &ctrl->admin), 0);
	p.value = NVME_CC_ENABLE | (6u << NVME_CC_IOSQES_SHIFT) | (4u << NVME_CC_IOCQES_SHIFT);
	assert_int_equal(
		bare_sync(b, &ctrl->admin, false, (const struct nvme_sqe *)&p, NULL, 0, NULL), 0);
	for (uint16_t qid = 1; qid <= 2; qid++) {
		struct nvmf_host_queue *q = calloc(1, sizeof(*q));

		assert_non_null(q);
		b->ioq[qid] = q;
		assert_int_equal(nvmf_host_queue_init(ctrl, q, qid, 32, NVMF_HOST_IOQ_RESERVED), 0);
		assert_int_equal(ctrl->ops->queue_connect(q), 0);
		assert_int_equal(bare_connect(b, q), 0);
	}
	assert_int_equal(atomic_load(&tgt->nr_ctrls), 1);
	assert_int_equal(atomic_load(&tgt->nr_sqs), 3);
	*state = b;
	return 0;
}

/* Stop and free whatever is left, run the target's messages, check nothing leaked. */
static int bare_teardown(void **state)
{
	struct bare *b = *state;
	struct nvmf_host_ctrl *ctrl = b->ctrl;

	for (int qid = 1; qid <= 2; qid++) {
		if (!b->ioq[qid])
			continue;
		ctrl->ops->queue_stop(b->ioq[qid]);
		assert_int_equal(b->ioq[qid]->nr_sent, 0);
		ctrl->ops->queue_free(b->ioq[qid]);
		nvmf_host_queue_release(b->ioq[qid]);
		free(b->ioq[qid]);
	}
	ctrl->ops->queue_stop(&ctrl->admin);
	assert_int_equal(ctrl->admin.nr_sent, 0);
	ctrl->ops->queue_free(&ctrl->admin);
	nvmf_host_queue_release(&ctrl->admin);
	for (int i = 0; i < 10; i++)
		nvmf_reactor_poll_once(ctrl->reactor, 0);
	assert_int_equal(atomic_load(&tgt->nr_ctrls), 0);
	assert_int_equal(atomic_load(&tgt->nr_sqs), 0);
	nvmf_reactor_destroy(ctrl->reactor);
	free(ctrl);
	free(b);
	return 0;
}

static struct nvme_sqe write_cmd(uint32_t nsid, uint64_t slba, uint32_t len)
{
	struct nvme_sqe c = { .opcode = nvme_cmd_write, .nsid = nsid };

	c.cdw10 = (uint32_t)slba;
	c.cdw11 = (uint32_t)(slba >> 32);
	c.cdw12 = (len >> LBA_SHIFT) - 1;
	return c;
}

/*
 * Seed 000: a queue stopped while its command is in the backend (io_uring) completes that
 * command only once the backend gave the slot back, with -ENOLINK, and only then does the
 * target queue go away.
 */
static void test_stop_waits_for_backend(void **state)
{
	struct bare *b = *state;
	struct nvmf_host_queue *q = b->ioq[1];
	uint8_t *buf = xalloc(MDTS);
	struct nvme_sqe c = write_cmd(NSID_FILE, 0, MDTS);
	struct sync_wait w = { 0 };
	int sqs = atomic_load(&tgt->nr_sqs);

	fill(buf, MDTS, 42);
	bare_send(q, false, &c, buf, MDTS, sync_cb, &w);
	b->ctrl->ops->queue_stop(q);
	/* the write is the backend's: not completed, the target queue still there */
	assert_false(w.done);
	assert_int_equal(q->nr_sent, 1);
	assert_int_equal(atomic_load(&tgt->nr_sqs), sqs);
	/* a stopped queue takes nothing more */
	{
		struct nvmf_host_req *req = nvmf_host_tag_get(q, false);

		assert_non_null(req);
		req->cmd = c;
		req->buf = buf;
		req->len = MDTS;
		req->internal = true;
		assert_int_equal(nvmf_host_queue_send(q, req, 0), -ENOLINK);
	}
	POLL_UNTIL(nvmf_reactor_poll_once(b->ctrl->reactor, 10), w.done);
	assert_true(w.done);
	assert_int_equal(w.status, -ENOLINK);
	assert_int_equal(q->nr_sent, 0);
	assert_int_equal(atomic_load(&tgt->nr_sqs), sqs - 1);
	/* the other queues are unaffected */
	c = write_cmd(NSID_FILE, 4096, 4096);
	assert_int_equal(bare_sync(b, b->ioq[2], false, &c, buf, 4096, NULL), 0);
	free(buf);
}

/* Freed before it drained: the queue lives on until the backend is done, then goes. */
static void test_free_before_drained(void **state)
{
	struct bare *b = *state;
	struct nvmf_host_queue *q = b->ioq[2];
	uint8_t *buf = xalloc(MDTS);
	struct nvme_sqe c = write_cmd(NSID_FILE, 0, MDTS);
	struct sync_wait w = { 0 };
	int sqs = atomic_load(&tgt->nr_sqs);

	fill(buf, MDTS, 43);
	bare_send(q, false, &c, buf, MDTS, sync_cb, &w);
	b->ctrl->ops->queue_stop(q);
	b->ctrl->ops->queue_free(q);
	assert_null(q->tr);
	assert_int_equal(atomic_load(&tgt->nr_sqs), sqs);
	/* the host side is gone: its request will never hear back, the target queue drains */
	nvmf_host_queue_release(q);
	free(q);
	b->ioq[2] = NULL;
	POLL_UNTIL(nvmf_reactor_poll_once(b->ctrl->reactor, 10), atomic_load(&tgt->nr_sqs) != sqs);
	assert_int_equal(atomic_load(&tgt->nr_sqs), sqs - 1);
	assert_false(w.done);
	/* the buffer was the target's until now (zero copy): only now may it go */
	free(buf);
}

/* The admin queue's AER is parked in the target; stopping the queue hands it back. */
static void test_stop_returns_parked_aer(void **state)
{
	struct bare *b = *state;
	struct nvmf_host_queue *aq = &b->ctrl->admin;
	struct nvme_sqe aer = { .opcode = nvme_admin_async_event };
	struct nvmf_host_req *req = nvmf_host_tag_get_fixed(aq, NVMF_HOST_AER_TAG);
	struct sync_wait w = { 0 };

	assert_non_null(req);
	req->cmd = aer;
	req->cb = sync_cb;
	req->arg = &w;
	req->internal = true;
	assert_int_equal(nvmf_host_queue_send(aq, req, 0), 0);
	for (int i = 0; i < 5; i++)
		nvmf_reactor_poll_once(b->ctrl->reactor, 0);
	assert_false(w.done); /* parked */
	b->ctrl->ops->queue_stop(aq);
	/* no backend work: completed at once */
	assert_true(w.done);
	assert_int_equal(w.status, -ENOLINK);
	assert_int_equal(aq->nr_sent, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_identify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ns_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rw_mem, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rw_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rw_null, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rw_beyond_mdts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compare, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_zeroes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dsm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush, setup, teardown),
		cmocka_unit_test_setup_teardown(test_smart_counters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_under_io, setup, teardown),
		cmocka_unit_test(test_delete_under_io),
		cmocka_unit_test_setup_teardown(test_target_disconnect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_target_stop_op, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resubmit_from_callback, setup, teardown),
		cmocka_unit_test(test_discovery),
		cmocka_unit_test(test_connect_errors),
		cmocka_unit_test(test_threaded_tgt_stop_start),
		cmocka_unit_test_setup_teardown(test_stop_waits_for_backend, bare_setup,
						bare_teardown),
		cmocka_unit_test_setup_teardown(test_free_before_drained, bare_setup,
						bare_teardown),
		cmocka_unit_test_setup_teardown(test_stop_returns_parked_aer, bare_setup,
						bare_teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
