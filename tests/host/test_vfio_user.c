// SPDX-License-Identifier: MIT
/*
 * The vfio-user host transport against the target's vfio-user server, both in this process:
 * an embedded target (nvmf_tgt_*) exports a mem namespace on two vfio-user ports (UNIX
 * sockets in a temporary folder), one without keep-alive (KAS 0, as real PCIe devices) and
 * one with KAS != 0; the host connects with trtype "vfio-user".
 *
 * Cases: connect + Identify; write and read back (4 KiB: PRP1, 128 KiB: a PRP list,
 * unaligned buffers, 32 in flight on each of 2 queues); MDTS; reset during I/O; delete
 * (CC.SHN); the server going away (port removed: reconnect when it comes back, DEAD after
 * ctrl_loss_tmo); seed 002 (Keep Alive from the reserved admin tag while every other admin
 * tag is held by the target) and seed 003 (passthrough Set Features KATO refused before it
 * is sent, on every entry point).
 *
 * Timing is never a verdict: waits have generous bounds, only outcomes are asserted.
 */
#include "target/core.h"

#include "common/log.h"
#include "host/host-internal.h"
#include "nvmf/host.h"
#include "nvmf/target.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "host_test_util.h"
#include "tgt_test_util.h"

#define SUBNQN "nqn.2024-01.io.nvmf:vfio-user"
#define NSID 1
#define NS_BYTES (64ull << 20)
#define LBA_SHIFT 9
#define MDTS_BYTES (128u << 10)
#define KAS 10 /* 100 ms units: 1 s */
#define PORT_PLAIN 1
#define PORT_KA 2
#define WAIT_MS 60000ull

static struct nvmf_tgt *tgt;
static struct nvmf_tgt_subsys *subsys;
static char dir[64];
static char sock_plain[128];
static char sock_ka[128];

/* -------------------------------------------------------------------------------------- */
/* Helpers */

/* One command's outcome, read from the test thread while a reactor thread writes it. */
struct actx {
	atomic_int calls;
	atomic_int status;
};

static void acb(void *arg, int status, const struct nvme_cqe *cqe)
{
	struct actx *c = arg;

	(void)cqe;
	atomic_store(&c->status, status);
	atomic_fetch_add(&c->calls, 1);
}

struct hstate {
	atomic_uint resets;
	atomic_uint lives;
	atomic_bool dead;
	atomic_int shutdown_status;
	struct nvmf_host_ctrl_stats final;
};

static void state_cb(struct nvmf_host_ctrl *ctrl, enum nvmf_host_ctrl_state old,
		     enum nvmf_host_ctrl_state state, void *arg)
{
	struct hstate *h = arg;

	if (old == NVMF_CTRL_LIVE && state == NVMF_CTRL_RESETTING)
		atomic_fetch_add(&h->resets, 1);
	if (state == NVMF_CTRL_LIVE)
		atomic_fetch_add(&h->lives, 1);
	if (state == NVMF_CTRL_DEAD) {
		nvmf_host_ctrl_get_stats(ctrl, &h->final);
		/* on the reactor, before the controller is freed: how the shutdown went */
		atomic_store(&h->shutdown_status, ctrl->shutdown_status);
		atomic_store(&h->dead, true);
	}
}

struct copts {
	const char *sock;
	bool threaded;
	int kato_ms;
	unsigned int nr_io_queues;
	int ctrl_loss_tmo_s;
};

static struct nvmf_host_ctrl *connect_ctrl(const struct copts *c, struct hstate *h)
{
	struct nvmf_host_opts o = {
		.trtype = "vfio-user",
		.traddr = c->sock,
		.nr_io_queues = c->nr_io_queues ? c->nr_io_queues : 1,
		.queue_size = 64,
		.kato_ms = c->kato_ms,
		.reconnect_delay_s = 1,
		.ctrl_loss_tmo_s = c->ctrl_loss_tmo_s,
		.threaded = c->threaded,
		.state_cb = state_cb,
		.cb_arg = h,
	};
	struct nvmf_host_ctrl *ctrl = NULL;

	assert_int_equal(nvmf_host_ctrl_connect(&o, &ctrl), 0);
	assert_int_equal(nvmf_host_ctrl_get_state(ctrl), NVMF_CTRL_LIVE);
	return ctrl;
}

/* Nothing of the host library is left, and the target has no controller any more. */
static void assert_all_gone(void)
{
	struct nvmf_host_objects o;

	WAIT_FOR(NULL, WAIT_MS, !tgt_nr_ctrls(tgt));
	nvmf_host_get_objects(&o);
	assert_int_equal(tgt_nr_ctrls(tgt), 0);
	assert_int_equal(o.ctrls, 0);
	assert_int_equal(o.queues, 0);
	assert_int_equal(o.reqs, 0);
	assert_int_equal(o.transport_queues, 0);
}

static int add_port(uint16_t portid, const char *path, uint16_t kas)
{
	struct nvmf_tgt_port_params p = {
		.portid = portid,
		.trtype = NVMF_TRTYPE_VFIO_USER,
		.adrfam = NVMF_ADRFAM_LOOP,
		.traddr = path,
		.vfio_user = { .kas = kas },
	};
	struct nvmf_tgt_port *port;
	int ret = nvmf_tgt_add_port(tgt, &p, &port);

	return ret ? ret : nvmf_tgt_port_add_subsys(port, subsys);
}

static int group_setup(void **state)
{
	struct nvmf_tgt_opts topts = { .nr_reactors = 2, .mdts_bytes = MDTS_BYTES };
	struct nvmf_tgt_subsys_params sp = { .nqn = SUBNQN, .allow_any_host = true };
	struct nvmf_tgt_ns_params mem = { .nsid = NSID,
					  .backend = NVMF_TGT_BACKEND_MEM,
					  .size_bytes = NS_BYTES,
					  .enable = true };

	(void)state;
	nvmf_log_set_level((enum nvmf_log_level)(
		getenv("NVMF_VFU_LOG") ? atoi(getenv("NVMF_VFU_LOG")) : NVMF_LOG_ERR));
	snprintf(dir, sizeof(dir), "/tmp/nvmf-vfu-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(sock_plain, sizeof(sock_plain), "%s/ctrl.sock", dir);
	snprintf(sock_ka, sizeof(sock_ka), "%s/ka.sock", dir);
	tgt = nvmf_tgt_create(&topts);
	if (!tgt)
		return -1;
	if (nvmf_tgt_add_subsys(tgt, &sp, &subsys) || nvmf_tgt_subsys_add_ns(subsys, &mem))
		return -1;
	if (add_port(PORT_PLAIN, sock_plain, 0) || add_port(PORT_KA, sock_ka, KAS))
		return -1;
	return nvmf_tgt_start(tgt) ? -1 : 0;
}

static int group_teardown(void **state)
{
	(void)state;
	nvmf_tgt_stop(tgt);
	nvmf_tgt_destroy(tgt);
	unlink(sock_plain);
	unlink(sock_ka);
	rmdir(dir);
	return 0;
}

/* -------------------------------------------------------------------------------------- */
/* Connect and Identify */

static void test_connect_identify(void **state)
{
	struct copts c = { .sock = sock_plain, .nr_io_queues = 2 };
	struct nvmf_host_ns_info ns[4];
	const struct nvme_id_ctrl *id;
	struct nvmf_tgt_ctrl_info ti = { 0 };
	struct hstate h = { 0 };
	struct nvmf_host_ctrl *ctrl;
	uint64_t cap;

	(void)state;
	ctrl = connect_ctrl(&c, &h);
	id = nvmf_host_ctrl_id(ctrl);
	cap = nvmf_host_ctrl_cap(ctrl);
	assert_int_equal(id->cntrltype, NVME_CTRL_TYPE_IO);
	assert_int_equal(id->kas, 0);
	assert_int_equal(strncmp(id->subnqn, SUBNQN, sizeof(id->subnqn)), 0);
	assert_string_equal(ctrl->subnqn, SUBNQN);
	assert_int_equal(nvmf_host_ctrl_get_state(ctrl), NVMF_CTRL_LIVE);
	assert_int_equal(nvmf_host_ctrl_nr_io_queues(ctrl), 2);
	assert_true(nvmf_host_ctrl_io_queue_size(ctrl) >= 2);
	assert_true(nvmf_host_ctrl_io_queue_size(ctrl) <= NVME_CAP_MQES(cap));
	assert_int_equal(nvmf_host_ns_list(ctrl, ns, 4), 1);
	assert_int_equal(ns[0].nsid, NSID);
	assert_int_equal(ns[0].nsze << ns[0].lba_shift, NS_BYTES);
	/* the target's view: one live controller, enabled and ready, both I/O queues */
	assert_true(tgt_ctrl(tgt, SUBNQN, nvmf_host_ctrl_cntlid(ctrl), &ti));
	assert_int_equal(ti.cc & NVME_CC_ENABLE, NVME_CC_ENABLE);
	assert_int_equal(ti.csts & NVME_CSTS_RDY, NVME_CSTS_RDY);
	assert_int_equal(ti.nr_io_queues, 2);
	/* no keep-alive on PCIe unless asked for */
	assert_int_equal(ctrl->kato_ms, 0);
	assert_int_equal(ti.kato_ms, 0);
	pass_time(ctrl, 200);
	assert_int_equal(host_stats(ctrl).keep_alives, 0);
	printf("vfio-user connect: cntlid %u, cntrltype %u, kas %u, subnqn %s, %u I/O queues of "
	       "%u, CAP 0x%llx, VS 0x%x\n",
	       nvmf_host_ctrl_cntlid(ctrl), id->cntrltype, id->kas, ctrl->subnqn,
	       nvmf_host_ctrl_nr_io_queues(ctrl), nvmf_host_ctrl_io_queue_size(ctrl),
	       (unsigned long long)cap, ctrl->vs);
	nvmf_host_ctrl_delete(ctrl);
	assert_true(atomic_load(&h.dead));
	assert_all_gone();
}

/* -------------------------------------------------------------------------------------- */
/* Data */

static void rw_check(struct nvmf_host_ctrl *ctrl, uint64_t slba, size_t bytes, size_t misalign,
		     uint32_t seed)
{
	uint8_t *wbuf = malloc(bytes + 64), *rbuf = malloc(bytes + 64);
	uint8_t *w = wbuf + misalign, *r = rbuf + misalign;
	uint32_t nlb = (uint32_t)(bytes >> LBA_SHIFT);

	assert_non_null(wbuf);
	assert_non_null(rbuf);
	fill(w, bytes, seed);
	memset(r, 0xee, bytes);
	assert_int_equal(nvmf_host_write(ctrl, NSID, slba, nlb, w, false), 0);
	assert_int_equal(nvmf_host_read(ctrl, NSID, slba, nlb, r), 0);
	assert_memory_equal(w, r, bytes);
	free(wbuf);
	free(rbuf);
}

#define QD 32
#define QD_IO_BYTES 8192

static void test_write_read(void **state)
{
	struct copts c = { .sock = sock_plain, .nr_io_queues = 2 };
	struct hstate h = { 0 };
	struct nvmf_host_ctrl *ctrl;
	static uint8_t wbufs[2 * QD][QD_IO_BYTES + 1], rbufs[2 * QD][QD_IO_BYTES + 1];
	struct actx wctx[2 * QD], rctx[2 * QD];
	uint8_t *big;
	unsigned int done;

	(void)state;
	ctrl = connect_ctrl(&c, &h);
	rw_check(ctrl, 0, 4096, 0, 1);		 /* PRP1 only */
	rw_check(ctrl, 64, 8192, 0, 2);		 /* PRP1 + PRP2 */
	rw_check(ctrl, 128, 128u << 10, 0, 3);	 /* a PRP list */
	rw_check(ctrl, 1024, 4096, 1, 4);	 /* caller buffers not aligned */
	rw_check(ctrl, 2048, 128u << 10, 13, 5); /* ... and large */
	rw_check(ctrl, 4096, 512 * 3, 7, 6);	 /* sub-page */

	/* beyond MDTS: refused by the host, never sent (no split) */
	big = malloc(2 * MDTS_BYTES);
	assert_non_null(big);
	assert_int_equal(nvmf_host_read(ctrl, NSID, 0, (2 * MDTS_BYTES) >> LBA_SHIFT, big),
			 -EINVAL);
	free(big);

	/* 32 writes in flight on each of the two queues, then 32 reads each */
	memset(wctx, 0, sizeof(wctx));
	memset(rctx, 0, sizeof(rctx));
	for (unsigned int i = 0; i < 2 * QD; i++) {
		struct nvme_sqe w = { .opcode = nvme_cmd_write, .nsid = NSID };
		uint64_t slba = 8192 + (uint64_t)i * (QD_IO_BYTES >> LBA_SHIFT);

		fill(wbufs[i] + 1, QD_IO_BYTES, 100 + i);
		w.cdw10 = (uint32_t)slba;
		w.cdw12 = (QD_IO_BYTES >> LBA_SHIFT) - 1;
		assert_int_equal(nvmf_host_submit_io(ctrl, (uint16_t)(1 + i % 2), &w, wbufs[i] + 1,
						     QD_IO_BYTES, acb, &wctx[i]),
				 0);
	}
	assert_true(host_stats(ctrl).outstanding > 0);
	WAIT_FOR(ctrl, WAIT_MS, host_stats(ctrl).outstanding == 0);
	for (unsigned int i = 0; i < 2 * QD; i++) {
		assert_int_equal(atomic_load(&wctx[i].calls), 1);
		assert_int_equal(atomic_load(&wctx[i].status), 0);
	}
	for (unsigned int i = 0; i < 2 * QD; i++) {
		struct nvme_sqe r = { .opcode = nvme_cmd_read, .nsid = NSID };
		uint64_t slba = 8192 + (uint64_t)i * (QD_IO_BYTES >> LBA_SHIFT);

		r.cdw10 = (uint32_t)slba;
		r.cdw12 = (QD_IO_BYTES >> LBA_SHIFT) - 1;
		/* the other queue this time */
		assert_int_equal(nvmf_host_submit_io(ctrl, (uint16_t)(2 - i % 2), &r, rbufs[i] + 1,
						     QD_IO_BYTES, acb, &rctx[i]),
				 0);
	}
	WAIT_FOR(ctrl, WAIT_MS, host_stats(ctrl).outstanding == 0);
	done = 0;
	for (unsigned int i = 0; i < 2 * QD; i++) {
		assert_int_equal(atomic_load(&rctx[i].calls), 1);
		assert_int_equal(atomic_load(&rctx[i].status), 0);
		assert_memory_equal(wbufs[i] + 1, rbufs[i] + 1, QD_IO_BYTES);
		done++;
	}
	assert_int_equal(host_stats(ctrl).stray_cqes, 0);
	printf("vfio-user data: 4 KiB, 8 KiB, 128 KiB (PRP list), unaligned and sub-page buffers "
	       "read back equal; %u KiB read -> -EINVAL (MDTS %u KiB); %u writes + %u reads at QD "
	       "%u on 2 queues, all equal\n",
	       2 * MDTS_BYTES >> 10, MDTS_BYTES >> 10, 2 * QD, done, QD);
	nvmf_host_ctrl_delete(ctrl);
	assert_all_gone();
}

/* -------------------------------------------------------------------------------------- */
/* Reset during I/O: every command completes exactly once, the data is there afterwards */

#define R_IOS 64
#define R_BYTES 4096

static void test_reset_during_io(void **state)
{
	struct copts c = { .sock = sock_plain, .nr_io_queues = 2 };
	struct hstate h = { 0 };
	struct nvmf_host_ctrl *ctrl;
	static uint8_t wbufs[R_IOS][R_BYTES];
	struct actx ctx[R_IOS];
	struct nvmf_host_ctrl_stats st;
	uint8_t *r = malloc(R_BYTES);
	unsigned int ok = 0;

	(void)state;
	assert_non_null(r);
	ctrl = connect_ctrl(&c, &h);
	memset(ctx, 0, sizeof(ctx));
	for (unsigned int i = 0; i < R_IOS; i++) {
		struct nvme_sqe w = { .opcode = nvme_cmd_write, .nsid = NSID };

		fill(wbufs[i], R_BYTES, 7000 + i);
		w.cdw10 = 20000 + i * (R_BYTES >> LBA_SHIFT);
		w.cdw12 = (R_BYTES >> LBA_SHIFT) - 1;
		assert_int_equal(nvmf_host_submit_io(ctrl, (uint16_t)(1 + i % 2), &w, wbufs[i],
						     R_BYTES, acb, &ctx[i]),
				 0);
	}
	assert_int_equal(nvmf_host_ctrl_reset(ctrl), 0);
	WAIT_FOR(ctrl, WAIT_MS,
		 host_stats(ctrl).outstanding == 0 &&
			 nvmf_host_ctrl_get_state(ctrl) == NVMF_CTRL_LIVE);
	assert_int_equal(nvmf_host_ctrl_get_state(ctrl), NVMF_CTRL_LIVE);
	assert_int_equal(atomic_load(&h.resets), 1);
	st = host_stats(ctrl);
	assert_int_equal(st.reconnects, 1);
	for (unsigned int i = 0; i < R_IOS; i++) {
		assert_int_equal(atomic_load(&ctx[i].calls), 1);
		ok += atomic_load(&ctx[i].status) == 0;
	}
	/* requeued across the reset, as Linux does: all of them succeed */
	assert_int_equal(ok, R_IOS);
	for (unsigned int i = 0; i < R_IOS; i++) {
		assert_int_equal(nvmf_host_read(ctrl, NSID, 20000 + i * (R_BYTES >> LBA_SHIFT),
						R_BYTES >> LBA_SHIFT, r),
				 0);
		assert_memory_equal(r, wbufs[i], R_BYTES);
	}
	assert_int_equal(st.stray_cqes, 0);
	printf("vfio-user reset during I/O: %u writes each completed once (%u ok, %llu retried "
	       "across the reset), data read back equal after it\n",
	       R_IOS, ok, (unsigned long long)st.retried);
	nvmf_host_ctrl_delete(ctrl);
	free(r);
	assert_all_gone();
}

/* -------------------------------------------------------------------------------------- */
/* Delete: CC.SHN normal, CSTS.SHST complete, the controller gone from the target */

static void test_delete(void **state)
{
	struct copts c = { .sock = sock_plain, .nr_io_queues = 2, .threaded = true };
	struct hstate h = { 0 };
	struct nvmf_host_ctrl *ctrl;
	uint8_t buf[4096];

	(void)state;
	atomic_store(&h.shutdown_status, -1);
	ctrl = connect_ctrl(&c, &h);
	memset(buf, 0x5a, sizeof(buf));
	assert_int_equal(nvmf_host_write(ctrl, NSID, 0, 8, buf, false), 0);
	assert_int_equal(tgt_nr_ctrls(tgt), 1);
	nvmf_host_ctrl_delete(ctrl);
	assert_true(atomic_load(&h.dead));
	/* the host saw CSTS.SHST = complete after writing CC.SHN = normal */
	assert_int_equal(atomic_load(&h.shutdown_status), 0);
	assert_int_equal(h.final.submitted, h.final.completed);
	assert_int_equal(h.final.completed_error, 0);
	WAIT_FOR(NULL, WAIT_MS, tgt_nr_ctrls(tgt) == 0);
	assert_int_equal(tgt_nr_ctrls(tgt), 0);
	printf("vfio-user delete: shutdown complete (CSTS.SHST 10b), target controllers: %zu\n",
	       tgt_nr_ctrls(tgt));
	assert_all_gone();
}

/* -------------------------------------------------------------------------------------- */
/* The server goes away: reconnect when it is back, DEAD once ctrl_loss_tmo expired */

static int remove_port(uint16_t portid)
{
	struct nvmf_tgt_port *port = nvmf_tgt_find_port_by_id(tgt, portid);

	return port ? nvmf_tgt_remove_port(tgt, port) : -ENOENT;
}

static void test_server_gone(void **state)
{
	struct copts c = { .sock = sock_plain, .threaded = true, .ctrl_loss_tmo_s = 600 };
	struct nvme_sqe rd = { .opcode = nvme_cmd_read, .nsid = NSID, .cdw12 = 7 };
	struct hstate h = { 0 }, h2 = { 0 };
	struct nvmf_host_ctrl *ctrl;
	struct actx a = { 0 }, b = { 0 };
	uint8_t buf[4096], buf2[4096], w[4096];
	struct nvmf_host_ctrl_stats st;

	(void)state;
	ctrl = connect_ctrl(&c, &h);
	fill(w, sizeof(w), 42);
	assert_int_equal(nvmf_host_write(ctrl, NSID, 0, 8, w, false), 0);

	/* the port goes: the host resets and keeps trying; I/O waits */
	assert_int_equal(remove_port(PORT_PLAIN), 0);
	WAIT_FOR(NULL, WAIT_MS, atomic_load(&h.resets) == 1);
	assert_int_equal(atomic_load(&h.resets), 1);
	assert_int_not_equal(nvmf_host_ctrl_get_state(ctrl), NVMF_CTRL_LIVE);
	assert_int_equal(nvmf_host_submit_io(ctrl, 1, &rd, buf, sizeof(buf), acb, &a), 0);
	pass_time(NULL, 1500);
	assert_int_equal(atomic_load(&a.calls), 0);

	/* back: reconnected, the parked read completes with the data */
	assert_int_equal(add_port(PORT_PLAIN, sock_plain, 0), 0);
	WAIT_FOR(NULL, WAIT_MS, atomic_load(&a.calls) == 1);
	assert_int_equal(atomic_load(&a.calls), 1);
	assert_int_equal(atomic_load(&a.status), 0);
	assert_memory_equal(buf, w, sizeof(buf));
	assert_int_equal(nvmf_host_ctrl_get_state(ctrl), NVMF_CTRL_LIVE);
	st = host_stats(ctrl);
	assert_true(st.reconnects >= 1);
	nvmf_host_ctrl_delete(ctrl);
	assert_all_gone();

	/* gone for good: after ctrl_loss_tmo the controller is DEAD and I/O fails */
	c.ctrl_loss_tmo_s = 2;
	ctrl = connect_ctrl(&c, &h2);
	assert_int_equal(remove_port(PORT_PLAIN), 0);
	WAIT_FOR(NULL, WAIT_MS, atomic_load(&h2.resets) == 1);
	assert_int_equal(nvmf_host_submit_io(ctrl, 1, &rd, buf2, sizeof(buf2), acb, &b), 0);
	WAIT_FOR(NULL, WAIT_MS, nvmf_host_ctrl_get_state(ctrl) == NVMF_CTRL_DEAD);
	assert_int_equal(nvmf_host_ctrl_get_state(ctrl), NVMF_CTRL_DEAD);
	WAIT_FOR(NULL, WAIT_MS, atomic_load(&b.calls) == 1);
	assert_int_equal(atomic_load(&b.calls), 1);
	assert_int_equal(atomic_load(&b.status), -ENOLINK);
	assert_int_equal(nvmf_host_read(ctrl, NSID, 0, 8, buf2), -ENOLINK);
	nvmf_host_ctrl_delete(ctrl);
	assert_int_equal(add_port(PORT_PLAIN, sock_plain, 0), 0);
	printf("vfio-user server gone: port removed -> reset, a read parked; port back -> "
	       "reconnected, read ok with the data; removed with ctrl_loss_tmo 2 s -> DEAD, "
	       "parked read -ENOLINK\n");
	assert_all_gone();
}

/* -------------------------------------------------------------------------------------- */
/*
 * Seed 002: with keep-alive on (KAS != 0, opts.kato_ms > 0), Keep Alive goes out from the
 * reserved admin tag while every normal admin tag is held by the target: on PCIe the admin
 * queue reserves one tag (no Connect), so 32 - 1 (AER) - 1 = 30 normal tags.
 */

#define S2_KATO_MS 2000
#define S2_NORMAL_TAGS (NVMF_HOST_AQ_DEPTH - 1 - 1)

static void test_seed002(void **state)
{
	struct copts c = { .sock = sock_ka, .kato_ms = S2_KATO_MS };
	struct nvmf_tgt_fault f = {
		.subsys_nqn = SUBNQN,
		.cntlid = -1,
		.queue = NVMF_TGT_FAULT_QUEUE_ADMIN,
		.opcode = nvme_admin_get_features,
		.nsid = -1,
		.action = NVMF_TGT_FAULT_HOLD,
	};
	struct nvme_sqe gf = { .opcode = nvme_admin_get_features, .cdw10 = NVME_FEAT_NUM_QUEUES };
	struct actx a[NVMF_HOST_AQ_DEPTH];
	struct nvmf_host_ctrl_stats st0, st1;
	struct hstate h = { 0 };
	struct nvmf_host_ctrl *ctrl;
	uint64_t ka0, ka1;
	uint16_t cntlid;
	unsigned int n = 0;
	uint32_t id;
	int ret;

	(void)state;
	memset(a, 0, sizeof(a));
	ctrl = connect_ctrl(&c, &h);
	cntlid = nvmf_host_ctrl_cntlid(ctrl);
	assert_int_equal(nvmf_host_ctrl_id(ctrl)->kas, KAS);
	assert_int_equal(ctrl->kato_ms, S2_KATO_MS);
	assert_int_equal(tgt_kato(tgt, SUBNQN, cntlid), S2_KATO_MS);
	assert_int_equal(nvmf_tgt_fault_add(tgt, &f, &id), 0);

	while (n < NVMF_HOST_AQ_DEPTH &&
	       !(ret = nvmf_host_submit_admin(ctrl, &gf, NULL, 0, acb, &a[n])))
		n++;
	assert_int_equal(ret, -EAGAIN);
	assert_int_equal(n, S2_NORMAL_TAGS);
	WAIT_FOR(ctrl, WAIT_MS, fault_held(tgt, id) == n);
	assert_int_equal(fault_held(tgt, id), n);

	ka0 = tgt_ka_count(tgt, SUBNQN, cntlid);
	st0 = host_stats(ctrl);
	pass_time(ctrl, 3 * S2_KATO_MS);
	ka1 = tgt_ka_count(tgt, SUBNQN, cntlid);
	st1 = host_stats(ctrl);
	assert_int_equal(nvmf_host_ctrl_get_state(ctrl), NVMF_CTRL_LIVE);
	assert_int_equal(atomic_load(&h.resets), 0);
	assert_true(ka1 >= ka0 + 2);
	assert_true(st1.keep_alives >= st0.keep_alives + 2);
	assert_int_equal(st1.keep_alive_failures, 0);
	for (unsigned int i = 0; i < n; i++)
		assert_int_equal(atomic_load(&a[i].calls), 0);

	assert_int_equal(nvmf_tgt_fault_release(tgt, id), (int)n);
	WAIT_FOR(ctrl, WAIT_MS, host_stats(ctrl).outstanding == 0);
	for (unsigned int i = 0; i < n; i++) {
		assert_int_equal(atomic_load(&a[i].calls), 1);
		assert_int_equal(atomic_load(&a[i].status), 0);
	}
	assert_int_equal(nvmf_tgt_fault_remove(tgt, id), 0);
	printf("seed002 vfio-user: %u normal admin tags held (AQ depth %u, 1 reserved, AER 1); "
	       "3 x KATO %u ms: LIVE, target keep-alives +%llu, host +%llu, failures 0; %u "
	       "released, each completed once with success\n",
	       n, NVMF_HOST_AQ_DEPTH, S2_KATO_MS, (unsigned long long)(ka1 - ka0),
	       (unsigned long long)(st1.keep_alives - st0.keep_alives), n);
	nvmf_host_ctrl_delete(ctrl);
	assert_all_gone();
}

/*
 * A subsystem with an allow list is not exported on a vfio-user port: a PCIe controller has
 * no host NQN to check, so enabling it fails (CSTS.CFS) and no controller is made.
 */
static void test_allow_list_refused(void **state)
{
	struct nvmf_tgt_subsys_params sp = { .nqn = "nqn.2024-01.io.nvmf:vfio-user-restricted" };
	struct nvmf_tgt_port_params pp = { .portid = 40,
					   .trtype = NVMF_TRTYPE_VFIO_USER,
					   .adrfam = NVMF_ADRFAM_LOOP };
	struct nvmf_host_opts o = { .trtype = "vfio-user", .ctrl_loss_tmo_s = 0 };
	struct nvmf_tgt_ctrl_info info[4];
	struct nvmf_tgt_subsys *rs;
	struct nvmf_tgt_port *port;
	struct nvmf_host_ctrl *ctrl = NULL;
	char path[160];
	int ret;

	(void)state;
	snprintf(path, sizeof(path), "%s/restricted.sock", dir);
	pp.traddr = path;
	assert_int_equal(nvmf_tgt_add_subsys(tgt, &sp, &rs), 0);
	assert_int_equal(nvmf_tgt_subsys_allow_host(rs, "nqn.2024-01.io.nvmf:only-this-host"), 0);
	assert_int_equal(nvmf_tgt_add_port(tgt, &pp, &port), 0);
	assert_int_equal(nvmf_tgt_port_add_subsys(port, rs), 0);
	o.traddr = path;
	ret = nvmf_host_ctrl_connect(&o, &ctrl);
	assert_int_not_equal(ret, 0);
	assert_null(ctrl);
	assert_int_equal(nvmf_tgt_ctrl_list(tgt, sp.nqn, info, 4), 0);
	printf("vfio-user allow list: connect to a subsystem with allowed hosts -> %d, target "
	       "controllers of it: 0\n",
	       ret);
	fflush(stdout);
	assert_int_equal(nvmf_tgt_remove_port(tgt, port), 0);
	assert_all_gone();
}

/* With KAS 0 a requested keep-alive is not run (and the library says so in its log). */
static void test_kas0_no_keep_alive(void **state)
{
	struct copts c = { .sock = sock_plain, .kato_ms = 1000 };
	struct hstate h = { 0 };
	struct nvmf_host_ctrl *ctrl;

	(void)state;
	ctrl = connect_ctrl(&c, &h);
	assert_int_equal(nvmf_host_ctrl_id(ctrl)->kas, 0);
	assert_int_equal(ctrl->kato_ms, 0);
	assert_int_equal(tgt_kato(tgt, SUBNQN, nvmf_host_ctrl_cntlid(ctrl)), 0);
	pass_time(ctrl, 1500);
	assert_int_equal(host_stats(ctrl).keep_alives, 0);
	assert_int_equal(tgt_ka_count(tgt, SUBNQN, nvmf_host_ctrl_cntlid(ctrl)), 0);
	nvmf_host_ctrl_delete(ctrl);
	assert_all_gone();
}

/* -------------------------------------------------------------------------------------- */
/*
 * Seed 003: Set Features KATO from the user is refused with -EOPNOTSUPP before anything is
 * sent, on every entry point (nvmf_host_passthru, nvmf_host_set_feature,
 * nvmf_host_submit_admin, and the latter from another thread of a threaded controller);
 * the KATO stays the library's, keep-alive goes on. A DELAY rule of 0 ms on the admin
 * queue's Set Features counts what the target receives.
 */

static void seed003(bool threaded)
{
	struct copts c = { .sock = sock_ka, .kato_ms = 2000, .threaded = threaded };
	struct nvmf_tgt_fault f = {
		.subsys_nqn = SUBNQN,
		.cntlid = -1,
		.queue = NVMF_TGT_FAULT_QUEUE_ADMIN,
		.opcode = nvme_admin_set_features,
		.nsid = -1,
		.action = NVMF_TGT_FAULT_DELAY,
		.delay_ms = 0,
	};
	struct nvme_sqe sf = { .opcode = nvme_admin_set_features, .cdw10 = NVME_FEAT_KATO };
	struct nvme_sqe sfs = { .opcode = nvme_admin_set_features,
				.cdw10 = NVME_FEAT_KATO | NVME_FEAT_SV };
	struct nvmf_host_ctrl_stats st0, st1;
	struct hstate h = { 0 };
	struct nvmf_host_ctrl *ctrl;
	struct actx a = { 0 };
	uint64_t ka0, ka1;
	uint16_t cntlid;
	uint32_t id, res = 0;

	ctrl = connect_ctrl(&c, &h);
	cntlid = nvmf_host_ctrl_cntlid(ctrl);
	assert_int_equal(tgt_kato(tgt, SUBNQN, cntlid), 2000);
	assert_int_equal(nvmf_tgt_fault_add(tgt, &f, &id), 0);
	st0 = host_stats(ctrl);
	ka0 = tgt_ka_count(tgt, SUBNQN, cntlid);

	sf.cdw11 = 1000;
	sfs.cdw11 = 30000;
	assert_int_equal(nvmf_host_passthru(ctrl, true, &sf, NULL, 0, 0, &res), -EOPNOTSUPP);
	assert_int_equal(nvmf_host_passthru(ctrl, true, &sfs, NULL, 0, 0, NULL), -EOPNOTSUPP);
	assert_int_equal(nvmf_host_set_feature(ctrl, NVME_FEAT_KATO, 0, 1000, false, NULL, 0, &res),
			 -EOPNOTSUPP);
	assert_int_equal(nvmf_host_submit_admin(ctrl, &sf, NULL, 0, acb, &a), -EOPNOTSUPP);
	pass_time(threaded ? NULL : ctrl, 2500);
	assert_int_equal(atomic_load(&a.calls), 0);
	st1 = host_stats(ctrl);
	ka1 = tgt_ka_count(tgt, SUBNQN, cntlid);
	/* nothing reached the target, nothing was counted as submitted */
	assert_int_equal(fault_hits(tgt, id), 0);
	assert_int_equal(st1.submitted, st0.submitted);
	assert_int_equal(tgt_kato(tgt, SUBNQN, cntlid), 2000);
	assert_int_equal(ctrl->kato_ms, 2000);
	/* Linux's pace: KATO / 2, KATO / 4 with traffic-based keep-alive */
	assert_int_equal(ctrl->ka_interval_ms, ctrl->tbkas ? 500 : 1000);
	assert_true(ka1 > ka0);
	assert_int_equal(nvmf_host_ctrl_get_state(ctrl), NVMF_CTRL_LIVE);
	/* the rule does count Set Features: another feature goes through and is seen */
	assert_int_equal(
		nvmf_host_set_feature(ctrl, NVME_FEAT_NUM_QUEUES, 0, 0, false, NULL, 0, &res), 0);
	assert_int_equal(fault_hits(tgt, id), 1);
	assert_int_equal(nvmf_tgt_fault_remove(tgt, id), 0);
	printf("seed003 vfio-user (%s): Set Features KATO via passthru, passthru with SV, "
	       "set_feature, submit_admin: -EOPNOTSUPP, target saw 0 Set Features (then 1 for "
	       "Number of Queues), KATO stays 2000 ms, keep-alives +%llu\n",
	       threaded ? "threaded" : "polled", (unsigned long long)(ka1 - ka0));
	nvmf_host_ctrl_delete(ctrl);
	assert_all_gone();
}

static void test_seed003_polled(void **state)
{
	(void)state;
	seed003(false);
}

static void test_seed003_threaded(void **state)
{
	(void)state;
	seed003(true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect_identify),
		cmocka_unit_test(test_write_read),
		cmocka_unit_test(test_reset_during_io),
		cmocka_unit_test(test_delete),
		cmocka_unit_test(test_server_gone),
		cmocka_unit_test(test_seed002),
		cmocka_unit_test(test_kas0_no_keep_alive),
		cmocka_unit_test(test_seed003_polled),
		cmocka_unit_test(test_seed003_threaded),
		cmocka_unit_test(test_allow_list_refused),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
