// SPDX-License-Identifier: MIT
/*
 * Host multipath (lib/host/mpath.c) against an embedded target: one subsystem exported on
 * two NVMe/TCP ports on 127.0.0.1, two mem namespaces with NGUIDs in ANA groups 1 and 2.
 *
 *   heads       one head per namespace with both paths; head and path fields; bad input
 *   policies    round-robin alternates, numa sticks, queue-depth avoids the loaded path,
 *               non-optimized only without an optimized path, inaccessible never
 *   failover    ANA state flipped under I/O, ANA statuses before the host read the log
 *               (fault injection; threaded, with the log read held: ANA-pending), a
 *               pathological target (bounded failovers), a port
 *               removed under I/O, every path inaccessible (I/O waits, then completes),
 *               a path controller that goes DEAD (ctrl_loss_tmo) leaving its heads
 *   rescan      a namespace removed and added back on the target: its head goes and comes;
 *               back with another NGUID it does not join the old head
 *   ANATT       a group left in change longer than 2 x ANATT resets that path's controller
 *   seed 001    delayed removal: a returning path resumes the queued write, or the write
 *               fails after the delay; the reference counts return to the baseline
 *   destroy     queued I/O fails with -ENOLINK exactly once
 *   threaded    the same from another thread, paths removed under I/O
 *
 * Every wait has a generous bound and only outcomes are asserted (statuses, bytes read back,
 * counters, states, reference counts). NVMF_MPATH_TESTS: a cmocka test filter;
 * NVMF_MPATH_LOG: the library's log level (default 3, errors).
 */
#include "common/log.h"
#include "nvmf/host.h"
#include "nvmf/target.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "host_test_util.h"
#include "tgt_test_util.h"

#define SUBNQN "nqn.2024-01.io.nvmf:mpath"
#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:6f1d0c3a-5b7e-4c2d-9a8f-0e1b2c3d4e5f"
#define NS_BYTES (8ull << 20)
#define LBA_SHIFT 9
#define NR_NS 2
#define WAIT_MS 60000ull /* bound of every wait: a hang fails, slowness does not */

static struct nvmf_tgt *tgt;
static struct nvmf_tgt_subsys *tsub;
static struct nvmf_tgt_port *ports[2];
static const uint8_t ns1_eui64[8] = { 0x02, 0x6e, 0x76, 0x6d, 0x66, 0x00, 0x00, 0x01 };
static char svc[2][16];
static const uint8_t ns_nguid[NR_NS][16] = {
	{ 0x6e, 0x76, 0x6d, 0x66, 0x2d, 0x6d, 0x70, 0x61, 0x74, 0x68, 0x2d, 0x6e, 0x73, 0, 0, 1 },
	{ 0x6e, 0x76, 0x6d, 0x66, 0x2d, 0x6d, 0x70, 0x61, 0x74, 0x68, 0x2d, 0x6e, 0x73, 0, 0, 2 },
};

/* -------------------------------------------------------------------------------------- */
/* Helpers */

/* Drive a polled subsystem (or sleep, for a threaded one) for @ms. */
static void spoll(struct nvmf_host_subsys *s, bool threaded, uint64_t ms)
{
	uint64_t until = now_ms() + ms;

	do {
		if (threaded)
			usleep(1000);
		else
			nvmf_host_subsys_poll(s, 5);
	} while (now_ms() < until);
}

/* Run @s until @cond holds or WAIT_MS passed. */
#define WAIT_S(s, threaded, cond)                                                                  \
	do {                                                                                       \
		uint64_t until_ = now_ms() + WAIT_MS;                                              \
		while (!(cond) && now_ms() < until_)                                               \
			spoll((s), (threaded), 1);                                                 \
	} while (0)

static struct nvmf_host_opts path_opts(int port)
{
	struct nvmf_host_opts o = {
		.trtype = "tcp",
		.traddr = "127.0.0.1",
		.trsvcid = svc[port],
		.subnqn = SUBNQN,
		.hostnqn = HOSTNQN,
		.nr_io_queues = 2,
		.queue_size = 32,
		.reconnect_delay_s = 1,
	};

	return o;
}

static struct nvmf_host_subsys *subsys_new(enum nvmf_host_iopolicy policy, bool threaded,
					   unsigned int delayed_removal_secs)
{
	struct nvmf_host_subsys_opts so = { .subnqn = SUBNQN,
					    .iopolicy = policy,
					    .threaded = threaded,
					    .delayed_removal_secs = delayed_removal_secs };
	struct nvmf_host_subsys *s = NULL;

	assert_int_equal(nvmf_host_subsys_create(&so, &s), 0);
	assert_non_null(s);
	return s;
}

static struct nvmf_host_ctrl *add_path(struct nvmf_host_subsys *s, int port)
{
	struct nvmf_host_opts o = path_opts(port);
	struct nvmf_host_ctrl *c = NULL;

	assert_int_equal(nvmf_host_subsys_add_path(s, &o, &c), 0);
	assert_non_null(c);
	return c;
}

/* Path @idx (in the order added) as the subsystem reports it, for namespace @nsid. */
static struct nvmf_host_path_info path_info(struct nvmf_host_subsys *s, uint32_t nsid, size_t idx)
{
	struct nvmf_host_path_info info[4];
	size_t n = nvmf_host_subsys_paths(s, nsid, info, 4);

	assert_true(idx < n && idx < 4);
	return info[idx];
}

/* Head @nsid; false if there is none. */
static bool head_info(struct nvmf_host_subsys *s, uint32_t nsid, struct nvmf_host_head_info *out)
{
	struct nvmf_host_head_info info[8];
	size_t n = nvmf_host_subsys_heads(s, info, 8);

	for (size_t i = 0; i < n && i < 8; i++) {
		if (info[i].nsid == nsid) {
			*out = info[i];
			return true;
		}
	}
	return false;
}

static unsigned int head_queued(struct nvmf_host_subsys *s, uint32_t nsid)
{
	struct nvmf_host_head_info h;

	return head_info(s, nsid, &h) ? h.nr_queued : 0;
}

static struct nvmf_host_subsys_refs refs_of(struct nvmf_host_subsys *s)
{
	struct nvmf_host_subsys_refs r;

	assert_int_equal(nvmf_host_subsys_get_refs(s, &r), 0);
	return r;
}

static void set_ana(int port, uint32_t grp, uint8_t state)
{
	assert_int_equal(nvmf_tgt_port_set_ana_state(ports[port], grp, state), 0);
}

/* Write a pattern to @nlb blocks at @slba of @nsid through the head and read it back. */
static void rw_verify(struct nvmf_host_subsys *s, uint32_t nsid, uint64_t slba, uint32_t nlb,
		      uint32_t seed)
{
	size_t len = (size_t)nlb << LBA_SHIFT;
	uint8_t *wb = malloc(len), *rb = malloc(len);

	assert_non_null(wb);
	assert_non_null(rb);
	fill(wb, len, seed);
	memset(rb, 0xa5, len);
	assert_int_equal(nvmf_host_mpath_write(s, nsid, slba, nlb, wb, false), 0);
	assert_int_equal(nvmf_host_mpath_read(s, nsid, slba, nlb, rb), 0);
	assert_memory_equal(wb, rb, len);
	free(wb);
	free(rb);
}

/* An asynchronous head I/O's outcome, safe to read from another thread. */
struct actx {
	atomic_int calls;
	atomic_int status;
	atomic_uint_fast64_t done_ms;
};

static void actx_cb(void *arg, int status, const struct nvme_cqe *cqe)
{
	struct actx *c = arg;

	(void)cqe;
	atomic_store(&c->status, status);
	atomic_store(&c->done_ms, now_ms());
	atomic_fetch_add(&c->calls, 1);
}

static int submit_rw(struct nvmf_host_subsys *s, uint8_t opcode, uint32_t nsid, uint64_t slba,
		     uint32_t nlb, void *buf, struct actx *c)
{
	struct nvme_sqe cmd = { .opcode = opcode, .nsid = nsid };

	cmd.cdw10 = (uint32_t)slba;
	cmd.cdw11 = (uint32_t)(slba >> 32);
	cmd.cdw12 = nlb - 1;
	return nvmf_host_mpath_submit_io(s, &cmd, buf, nlb << LBA_SHIFT, actx_cb, c);
}

/* -------------------------------------------------------------------------------------- */
/*
 * The load: LOAD_SLOTS head I/Os in flight on one namespace, each slot writing a pattern
 * (its index and generation) to its own LBA range and reading it back, resubmitted from its
 * completion until stopped. Counters are atomics: a threaded subsystem runs the callbacks
 * on its reactor.
 */
#define LOAD_SLOTS 16
#define LOAD_NLB 8

struct load;

struct load_slot {
	struct load *l;
	unsigned int idx;
	uint8_t *buf;
	uint8_t *expect;
	uint32_t gen;
	bool writing;
};

struct load {
	struct nvmf_host_subsys *s;
	uint32_t nsid;
	struct load_slot slot[LOAD_SLOTS];
	atomic_bool stop;
	atomic_uint inflight;
	atomic_uint_fast64_t verified; /* write + read back + compare rounds */
	atomic_uint_fast64_t errors;
	atomic_uint_fast64_t mismatches;
	atomic_int last_error;
};

static void load_cb(void *arg, int status, const struct nvme_cqe *cqe);

static uint64_t slot_slba(const struct load_slot *sl)
{
	return (uint64_t)sl->idx * LOAD_NLB;
}

static void load_issue(struct load_slot *sl)
{
	struct load *l = sl->l;
	struct nvme_sqe cmd = { .nsid = l->nsid };
	int ret;

	cmd.cdw10 = (uint32_t)slot_slba(sl);
	cmd.cdw12 = LOAD_NLB - 1;
	if (sl->writing) {
		fill(sl->expect, LOAD_NLB << LBA_SHIFT, sl->idx * 100003u + sl->gen);
		memcpy(sl->buf, sl->expect, LOAD_NLB << LBA_SHIFT);
		cmd.opcode = nvme_cmd_write;
	} else {
		memset(sl->buf, 0x5a, LOAD_NLB << LBA_SHIFT);
		cmd.opcode = nvme_cmd_read;
	}
	ret = nvmf_host_mpath_submit_io(l->s, &cmd, sl->buf, LOAD_NLB << LBA_SHIFT, load_cb, sl);
	if (ret) {
		atomic_fetch_add(&l->errors, 1);
		atomic_store(&l->last_error, ret);
		atomic_fetch_sub(&l->inflight, 1);
	}
}

static void load_cb(void *arg, int status, const struct nvme_cqe *cqe)
{
	struct load_slot *sl = arg;
	struct load *l = sl->l;

	(void)cqe;
	if (status) {
		atomic_fetch_add(&l->errors, 1);
		atomic_store(&l->last_error, status);
		atomic_fetch_sub(&l->inflight, 1);
		return;
	}
	if (sl->writing) {
		sl->writing = false;
		load_issue(sl);
		return;
	}
	if (memcmp(sl->buf, sl->expect, LOAD_NLB << LBA_SHIFT))
		atomic_fetch_add(&l->mismatches, 1);
	atomic_fetch_add(&l->verified, 1);
	sl->gen++;
	if (atomic_load(&l->stop)) {
		atomic_fetch_sub(&l->inflight, 1);
		return;
	}
	sl->writing = true;
	load_issue(sl);
}

static void load_start(struct load *l, struct nvmf_host_subsys *s, uint32_t nsid)
{
	memset(l, 0, sizeof(*l));
	l->s = s;
	l->nsid = nsid;
	atomic_store(&l->inflight, LOAD_SLOTS);
	for (unsigned int i = 0; i < LOAD_SLOTS; i++) {
		struct load_slot *sl = &l->slot[i];

		sl->l = l;
		sl->idx = i;
		sl->writing = true;
		sl->buf = malloc(LOAD_NLB << LBA_SHIFT);
		sl->expect = malloc(LOAD_NLB << LBA_SHIFT);
		assert_non_null(sl->buf);
		assert_non_null(sl->expect);
	}
	for (unsigned int i = 0; i < LOAD_SLOTS; i++)
		load_issue(&l->slot[i]);
}

/* Run until @more verified rounds happened since the call (or WAIT_MS passed). */
static void load_run(struct load *l, bool threaded, uint64_t more)
{
	uint64_t target = atomic_load(&l->verified) + more;

	WAIT_S(l->s, threaded, atomic_load(&l->verified) >= target || !atomic_load(&l->inflight));
}

/* Stop, wait for every slot to finish, check the outcome, read every slot's range back. */
static void load_stop(struct load *l, bool threaded)
{
	atomic_store(&l->stop, true);
	WAIT_S(l->s, threaded, !atomic_load(&l->inflight));
	assert_int_equal(atomic_load(&l->inflight), 0);
	if (atomic_load(&l->errors))
		fprintf(stderr, "load: %llu errors, last %d\n",
			(unsigned long long)atomic_load(&l->errors), atomic_load(&l->last_error));
	assert_int_equal(atomic_load(&l->errors), 0);
	assert_int_equal(atomic_load(&l->mismatches), 0);
	assert_true(atomic_load(&l->verified) > 0);
	for (unsigned int i = 0; i < LOAD_SLOTS; i++) {
		struct load_slot *sl = &l->slot[i];

		/* the last round wrote expect and read it back; the medium must still hold it */
		memset(sl->buf, 0, LOAD_NLB << LBA_SHIFT);
		assert_int_equal(
			nvmf_host_mpath_read(l->s, l->nsid, slot_slba(sl), LOAD_NLB, sl->buf), 0);
		assert_memory_equal(sl->buf, sl->expect, LOAD_NLB << LBA_SHIFT);
		free(sl->buf);
		free(sl->expect);
	}
}

/* Nothing of the host library is left. */
static void assert_host_empty(void)
{
	struct nvmf_host_objects o;

	nvmf_host_get_objects(&o);
	assert_int_equal(o.ctrls, 0);
	assert_int_equal(o.queues, 0);
	assert_int_equal(o.reqs, 0);
	assert_int_equal(o.subsystems, 0);
	assert_int_equal(o.ns_heads, 0);
	/* a TCP queue's last flush may free it a moment later */
	WAIT_FOR(NULL, WAIT_MS, (nvmf_host_get_objects(&o), o.transport_queues == 0));
	assert_int_equal(o.transport_queues, 0);
}

/* -------------------------------------------------------------------------------------- */
/* Target */

static int add_tcp_port(int i)
{
	struct nvmf_tgt_port_params tp = { .portid = (uint16_t)(i + 1),
					   .trtype = NVMF_TRTYPE_TCP,
					   .adrfam = NVMF_ADRFAM_IPV4,
					   .traddr = "127.0.0.1",
					   .trsvcid = svc[i] };

	free_port(svc[i], sizeof(svc[i]));
	if (nvmf_tgt_add_port(tgt, &tp, &ports[i]))
		return -1;
	return nvmf_tgt_port_add_subsys(ports[i], tsub) ? -1 : 0;
}

static int group_setup(void **state)
{
	struct nvmf_tgt_opts topts = { .nr_reactors = 2 };
	struct nvmf_tgt_subsys_params sp = { .nqn = SUBNQN, .allow_any_host = true };

	(void)state;
	nvmf_log_set_level((enum nvmf_log_level)env_ulong("NVMF_MPATH_LOG", NVMF_LOG_ERR));
	tgt = nvmf_tgt_create(&topts);
	if (!tgt || nvmf_tgt_add_subsys(tgt, &sp, &tsub))
		return -1;
	for (uint32_t i = 0; i < NR_NS; i++) {
		struct nvmf_tgt_ns_params ns = { .nsid = i + 1,
						 .backend = NVMF_TGT_BACKEND_MEM,
						 .size_bytes = NS_BYTES,
						 .anagrpid = i + 1,
						 .nguid = ns_nguid[i],
						 .eui64 = i == 0 ? ns1_eui64 : NULL,
						 .enable = true };

		if (nvmf_tgt_subsys_add_ns(tsub, &ns))
			return -1;
	}
	if (add_tcp_port(0) || add_tcp_port(1))
		return -1;
	return nvmf_tgt_start(tgt) ? -1 : 0;
}

static int group_teardown(void **state)
{
	(void)state;
	nvmf_tgt_stop(tgt);
	nvmf_tgt_destroy(tgt);
	return 0;
}

/* Each test starts with every group optimized on both ports and no fault rule. */
static int test_setup(void **state)
{
	(void)state;
	/* a test that failed after removing a port does not take the next ones down with it */
	for (int p = 0; p < 2; p++)
		if (!ports[p] && add_tcp_port(p))
			return -1;
	for (int p = 0; p < 2; p++)
		for (uint32_t g = 1; g <= NR_NS; g++)
			if (nvmf_tgt_port_set_ana_state(ports[p], g, NVME_ANA_OPTIMIZED))
				return -1;
	nvmf_tgt_fault_remove(tgt, 0);
	return 0;
}

static int test_teardown(void **state)
{
	(void)state;
	nvmf_tgt_fault_remove(tgt, 0);
	assert_host_empty();
	return 0;
}

/* -------------------------------------------------------------------------------------- */
/* Heads and paths */

static void test_heads(void **state)
{
	struct nvmf_host_subsys_opts bad = { .subnqn = NULL };
	struct nvmf_host_subsys *s, *x = NULL;
	struct nvmf_host_ctrl *c0, *c1;
	struct nvmf_host_head_info h;
	struct nvmf_host_path_info pi;
	struct nvmf_host_subsys_refs r;
	struct nvmf_host_objects o;
	struct nvmf_host_opts wrong = path_opts(0);
	struct nvme_sqe cmd = { .opcode = nvme_cmd_read, .nsid = 9 };
	uint8_t buf[512];
	static const uint8_t zero[16];
	struct nvmf_host_head_info h2;
	struct actx a = { 0 };

	(void)state;
	/* bad input: clear errors, nothing created */
	assert_int_equal(nvmf_host_subsys_create(&bad, &x), -EINVAL);
	bad.subnqn = SUBNQN;
	bad.iopolicy = (enum nvmf_host_iopolicy)7;
	assert_int_equal(nvmf_host_subsys_create(&bad, &x), -EINVAL);
	assert_null(x);
	assert_int_equal(nvmf_host_iopolicy_parse("round-robin"), NVMF_IOPOLICY_ROUND_ROBIN);
	assert_int_equal(nvmf_host_iopolicy_parse("queue-depth"), NVMF_IOPOLICY_QUEUE_DEPTH);
	assert_int_equal(nvmf_host_iopolicy_parse("numa"), NVMF_IOPOLICY_NUMA);
	assert_int_equal(nvmf_host_iopolicy_parse("fastest"), -EINVAL);
	assert_string_equal(nvmf_host_iopolicy_name(NVMF_IOPOLICY_QUEUE_DEPTH), "queue-depth");

	s = subsys_new(NVMF_IOPOLICY_ROUND_ROBIN, false, 0);
	wrong.subnqn = "nqn.2024-01.io.nvmf:other";
	assert_int_equal(nvmf_host_subsys_add_path(s, &wrong, NULL), -EINVAL);
	wrong.subnqn = SUBNQN;
	wrong.trsvcid = "1"; /* nothing listens there */
	assert_true(nvmf_host_subsys_add_path(s, &wrong, NULL) < 0);
	assert_int_equal(nvmf_host_subsys_paths(s, 0, NULL, 0), 0);
	c0 = add_path(s, 0);
	c1 = add_path(s, 1);
	assert_int_equal(nvmf_host_subsys_remove_path(s, NULL), -EINVAL);
	assert_int_equal(nvmf_host_subsys_set_iopolicy(s, (enum nvmf_host_iopolicy)9), -EINVAL);

	/* one head per namespace, both paths in it */
	assert_int_equal(nvmf_host_subsys_heads(s, NULL, 0), NR_NS);
	assert_true(head_info(s, 1, &h));
	assert_true(head_info(s, 2, &h2));
	assert_memory_not_equal(h.uuid, h2.uuid, 16);
	for (uint32_t nsid = 1; nsid <= NR_NS; nsid++) {
		assert_true(head_info(s, nsid, &h));
		assert_int_equal(h.nsid, nsid);
		assert_int_equal(h.nsze, NS_BYTES >> LBA_SHIFT);
		assert_int_equal(h.lba_shift, LBA_SHIFT);
		assert_memory_equal(h.nguid, ns_nguid[nsid - 1], 16);
		/* EUI-64 only where the target has one; the UUID from the descriptor list */
		if (nsid == 1)
			assert_memory_equal(h.eui64, ns1_eui64, 8);
		else
			assert_memory_equal(h.eui64, zero, 8);
		assert_memory_not_equal(h.uuid, zero, 16);
		assert_int_equal(h.nr_paths, 2);
		assert_int_equal(h.nr_queued, 0);
		assert_false(h.removal_pending);
		assert_int_equal(h.refs, 2);
	}
	/* paths in the order added, with the namespace's ANA group and state */
	assert_int_equal(nvmf_host_subsys_paths(s, 2, NULL, 0), 2);
	pi = path_info(s, 2, 0);
	assert_ptr_equal(pi.ctrl, c0);
	assert_int_equal(pi.cntlid, nvmf_host_ctrl_cntlid(c0));
	assert_string_equal(pi.trtype, "tcp");
	assert_string_equal(pi.traddr, "127.0.0.1");
	assert_string_equal(pi.trsvcid, svc[0]);
	assert_int_equal(pi.state, NVMF_CTRL_LIVE);
	assert_int_equal(pi.anagrpid, 2);
	assert_int_equal(pi.ana_state, NVME_ANA_OPTIMIZED);
	assert_false(pi.ana_pending);
	pi = path_info(s, 2, 1);
	assert_ptr_equal(pi.ctrl, c1);
	assert_string_equal(pi.trsvcid, svc[1]);
	assert_int_not_equal(pi.cntlid, nvmf_host_ctrl_cntlid(c0));

	r = refs_of(s);
	assert_int_equal(r.subsys, 3); /* the handle and two paths */
	assert_int_equal(r.heads, NR_NS);
	assert_int_equal(r.head_refs, 2 * NR_NS);
	assert_int_equal(r.removals_pending, 0);
	nvmf_host_get_objects(&o);
	assert_int_equal(o.subsystems, 1);
	assert_int_equal(o.ns_heads, NR_NS);
	assert_int_equal(o.ctrls, 2);

	/* data through both heads; no such head; a path that is not one */
	rw_verify(s, 1, 0, 8, 1);
	rw_verify(s, 2, 64, 16, 2);
	assert_int_equal(nvmf_host_mpath_submit_io(s, &cmd, buf, sizeof(buf), actx_cb, &a),
			 -ENODEV);
	assert_int_equal(nvmf_host_mpath_read(s, 9, 0, 1, buf), -ENODEV);
	assert_int_equal(nvmf_host_mpath_read(s, 1, 0, 0, buf), -EINVAL);
	assert_int_equal(atomic_load(&a.calls), 0);

	/* removing a path leaves one in each head; the handle stays valid */
	assert_int_equal(nvmf_host_subsys_remove_path(s, c0), 0);
	assert_int_equal(nvmf_host_subsys_remove_path(s, c0), -ENOENT);
	assert_true(head_info(s, 1, &h));
	assert_int_equal(h.nr_paths, 1);
	assert_int_equal(h.refs, 1);
	assert_int_equal(refs_of(s).subsys, 2);
	rw_verify(s, 1, 8, 8, 3);
	nvmf_host_subsys_destroy(s);
}

/* -------------------------------------------------------------------------------------- */
/* Policies */

static void seq_writes(struct nvmf_host_subsys *s, uint32_t nsid, unsigned int n)
{
	uint8_t buf[4096];

	for (unsigned int i = 0; i < n; i++) {
		fill(buf, sizeof(buf), i);
		assert_int_equal(nvmf_host_mpath_write(s, nsid, (uint64_t)i * 8, 8, buf, false), 0);
	}
}

/* What seq_writes() wrote is on the medium. */
static void seq_verify(struct nvmf_host_subsys *s, uint32_t nsid, unsigned int n)
{
	uint8_t buf[4096], rb[4096];

	for (unsigned int i = 0; i < n; i++) {
		fill(buf, sizeof(buf), i);
		assert_int_equal(nvmf_host_mpath_read(s, nsid, (uint64_t)i * 8, 8, rb), 0);
		assert_memory_equal(rb, buf, sizeof(buf));
	}
}

static void test_policy_round_robin(void **state)
{
	struct nvmf_host_subsys *s = subsys_new(NVMF_IOPOLICY_ROUND_ROBIN, false, 0);
	uint64_t a, b;

	(void)state;
	add_path(s, 0);
	add_path(s, 1);
	seq_writes(s, 1, 20);
	a = path_info(s, 1, 0).submitted;
	b = path_info(s, 1, 1).submitted;
	/* one at a time, so strictly alternating */
	assert_int_equal(a + b, 20);
	assert_int_equal(a, 10);
	assert_int_equal(b, 10);
	nvmf_host_subsys_destroy(s);
}

static void test_policy_numa(void **state)
{
	struct nvmf_host_subsys *s = subsys_new(NVMF_IOPOLICY_NUMA, false, 0);
	struct nvmf_host_path_info p0, p1;

	(void)state;
	add_path(s, 0);
	add_path(s, 1);
	seq_writes(s, 1, 20);
	p0 = path_info(s, 1, 0);
	p1 = path_info(s, 1, 1);
	assert_int_equal(p0.submitted + p1.submitted, 20);
	/* the first optimized path, kept */
	assert_int_equal(p0.submitted, 20);
	assert_true(p0.current);
	assert_false(p1.current);
	/* switching policy at run time: from now on both are used */
	assert_int_equal(nvmf_host_subsys_set_iopolicy(s, NVMF_IOPOLICY_ROUND_ROBIN), 0);
	seq_writes(s, 1, 4);
	assert_int_equal(path_info(s, 1, 1).submitted, 2);
	nvmf_host_subsys_destroy(s);
}

static void test_policy_queue_depth(void **state)
{
	struct nvmf_host_subsys *s = subsys_new(NVMF_IOPOLICY_QUEUE_DEPTH, false, 0);
	struct nvmf_host_ctrl *c0;
	struct nvmf_tgt_fault f = { .subsys_nqn = SUBNQN,
				    .queue = NVMF_TGT_FAULT_QUEUE_IO,
				    .opcode = nvme_cmd_write,
				    .nsid = -1,
				    .count = 1,
				    .action = NVMF_TGT_FAULT_HOLD };
	uint8_t held[4096];
	struct actx a = { 0 };
	uint32_t id;

	(void)state;
	c0 = add_path(s, 0);
	add_path(s, 1);
	/* idle paths: the first one */
	seq_writes(s, 1, 3);
	assert_int_equal(path_info(s, 1, 0).submitted, 3);
	assert_int_equal(path_info(s, 1, 1).submitted, 0);
	/* one write held on path 0: the next ones go to the idle path 1 */
	f.cntlid = nvmf_host_ctrl_cntlid(c0);
	assert_int_equal(nvmf_tgt_fault_add(tgt, &f, &id), 0);
	fill(held, sizeof(held), 77);
	assert_int_equal(submit_rw(s, nvme_cmd_write, 1, 512, 8, held, &a), 0);
	WAIT_S(s, false, fault_held(tgt, id) == 1);
	assert_int_equal(fault_held(tgt, id), 1);
	assert_int_equal(path_info(s, 1, 0).inflight, 1);
	seq_writes(s, 1, 10);
	assert_int_equal(path_info(s, 1, 0).submitted, 4);
	assert_int_equal(path_info(s, 1, 1).submitted, 10);
	assert_int_equal(atomic_load(&a.calls), 0);
	assert_int_equal(nvmf_tgt_fault_release(tgt, id), 1);
	WAIT_S(s, false, atomic_load(&a.calls) == 1);
	assert_int_equal(atomic_load(&a.calls), 1);
	assert_int_equal(atomic_load(&a.status), 0);
	nvmf_host_subsys_destroy(s);
}

/* Non-optimized only when no optimized path is left; inaccessible never. */
static void test_policy_ana_classes(void **state)
{
	struct nvmf_host_subsys *s;
	uint64_t a0, b0;

	(void)state;
	/* set before connecting: the paths read it in their first ANA log */
	set_ana(1, 1, NVME_ANA_NONOPTIMIZED);
	s = subsys_new(NVMF_IOPOLICY_ROUND_ROBIN, false, 0);
	add_path(s, 0);
	add_path(s, 1);
	assert_int_equal(path_info(s, 1, 1).ana_state, NVME_ANA_NONOPTIMIZED);
	assert_int_equal(path_info(s, 2, 1).ana_state, NVME_ANA_OPTIMIZED);
	seq_writes(s, 1, 10);
	assert_int_equal(path_info(s, 1, 0).submitted, 10);
	assert_int_equal(path_info(s, 1, 1).submitted, 0);

	/* path 0 inaccessible: the host learns it from the ANA status or the AEN, then only
	 * the non-optimized path serves */
	set_ana(0, 1, NVME_ANA_INACCESSIBLE);
	seq_writes(s, 1, 2);
	WAIT_S(s, false,
	       path_info(s, 1, 0).ana_state == NVME_ANA_INACCESSIBLE &&
		       !path_info(s, 1, 0).ana_pending);
	assert_int_equal(path_info(s, 1, 0).ana_state, NVME_ANA_INACCESSIBLE);
	a0 = path_info(s, 1, 0).submitted;
	b0 = path_info(s, 1, 1).submitted;
	seq_writes(s, 1, 10);
	assert_int_equal(path_info(s, 1, 0).submitted, a0);
	assert_int_equal(path_info(s, 1, 1).submitted, b0 + 10);
	assert_true(path_info(s, 1, 1).current);
	/* namespace 2 (group 2) is untouched: both optimized, alternating */
	seq_writes(s, 2, 4);
	assert_int_equal(path_info(s, 2, 0).submitted - a0, 2);
	nvmf_host_subsys_destroy(s);
}

/* -------------------------------------------------------------------------------------- */
/* Failover */

static void failover_ana_flip(bool threaded)
{
	struct nvmf_host_subsys *s = subsys_new(NVMF_IOPOLICY_ROUND_ROBIN, threaded, 0);
	struct load l;
	uint64_t a0, b0;

	add_path(s, 0);
	add_path(s, 1);
	load_start(&l, s, 1);
	load_run(&l, threaded, 100);
	assert_true(path_info(s, 1, 0).submitted > 0);
	assert_true(path_info(s, 1, 1).submitted > 0);

	set_ana(0, 1, NVME_ANA_INACCESSIBLE);
	WAIT_S(s, threaded,
	       path_info(s, 1, 0).ana_state == NVME_ANA_INACCESSIBLE &&
		       !path_info(s, 1, 0).ana_pending);
	assert_int_equal(path_info(s, 1, 0).ana_state, NVME_ANA_INACCESSIBLE);
	/* from now on everything goes to path 1 */
	a0 = path_info(s, 1, 0).submitted;
	b0 = path_info(s, 1, 1).submitted;
	load_run(&l, threaded, 200);
	assert_int_equal(path_info(s, 1, 0).submitted, a0);
	assert_true(path_info(s, 1, 1).submitted >= b0 + 200);
	load_stop(&l, threaded);
	nvmf_host_subsys_destroy(s);
}

static void test_failover_ana_flip(void **state)
{
	(void)state;
	failover_ana_flip(false);
}

/*
 * ANA Inaccessible answered while the ANA log still says optimized (as before the host read
 * a changed log): the write fails over, the path is ANA-pending until its log is read again,
 * then used again.
 */
static void test_failover_ana_status(void **state)
{
	struct nvmf_host_subsys *s = subsys_new(NVMF_IOPOLICY_ROUND_ROBIN, false, 0);
	struct nvmf_host_ctrl *c0;
	struct nvmf_tgt_fault f = { .subsys_nqn = SUBNQN,
				    .queue = NVMF_TGT_FAULT_QUEUE_IO,
				    .opcode = nvme_cmd_write,
				    .nsid = 1,
				    .count = 5,
				    .action = NVMF_TGT_FAULT_STATUS,
				    .status = NVME_SC_ANA_INACCESSIBLE };
	struct nvmf_host_path_info p0;
	uint32_t id;

	(void)state;
	c0 = add_path(s, 0);
	add_path(s, 1);
	f.cntlid = nvmf_host_ctrl_cntlid(c0);
	assert_int_equal(nvmf_tgt_fault_add(tgt, &f, &id), 0);
	/* writes only (round robin sends every other one to path 0), then read back */
	seq_writes(s, 1, 30);
	assert_int_equal(fault_hits(tgt, id), 5);
	seq_verify(s, 1, 30);
	WAIT_S(s, false, !path_info(s, 1, 0).ana_pending);
	p0 = path_info(s, 1, 0);
	assert_int_equal(p0.failovers, 5);
	assert_false(p0.ana_pending);
	assert_int_equal(p0.ana_state, NVME_ANA_OPTIMIZED);
	assert_int_equal(path_info(s, 1, 1).failovers, 0);
	/* back in use once the log was read: path 0 took more than the 5 failed writes */
	assert_true(p0.submitted > 5);
	nvmf_host_subsys_destroy(s);
}

/*
 * The same, threaded, with the path's ANA log read held by the target: the path stays
 * ANA-pending and unused meanwhile, I/O goes on through the other path while the reactor
 * waits in that read, and a path added from another thread meanwhile waits for the read to
 * finish (nothing is created or freed under the nested frame), then joins.
 */
struct add_args {
	struct nvmf_host_subsys *s;
	atomic_bool done;
	int ret;
};

static void *add_path_thread(void *arg)
{
	struct add_args *a = arg;
	struct nvmf_host_opts o = path_opts(1);

	a->ret = nvmf_host_subsys_add_path(a->s, &o, NULL);
	atomic_store(&a->done, true);
	return NULL;
}

static void test_ana_pending_threaded(void **state)
{
	struct nvmf_host_subsys *s = subsys_new(NVMF_IOPOLICY_ROUND_ROBIN, true, 0);
	struct nvmf_host_ctrl *c0;
	struct nvmf_tgt_fault hold = { .subsys_nqn = SUBNQN,
				       .queue = NVMF_TGT_FAULT_QUEUE_ADMIN,
				       .opcode = nvme_admin_get_log_page,
				       .nsid = -1,
				       .count = 1,
				       .action = NVMF_TGT_FAULT_HOLD };
	struct nvmf_tgt_fault st = { .subsys_nqn = SUBNQN,
				     .queue = NVMF_TGT_FAULT_QUEUE_IO,
				     .opcode = nvme_cmd_write,
				     .nsid = 1,
				     .count = 1,
				     .action = NVMF_TGT_FAULT_STATUS,
				     .status = NVME_SC_ANA_INACCESSIBLE };
	struct add_args aa = { 0 };
	struct nvmf_host_path_info p0;
	pthread_t th;
	uint32_t hid, sid;

	(void)state;
	c0 = add_path(s, 0);
	add_path(s, 1);
	hold.cntlid = st.cntlid = nvmf_host_ctrl_cntlid(c0);
	assert_int_equal(nvmf_tgt_fault_add(tgt, &hold, &hid), 0);
	assert_int_equal(nvmf_tgt_fault_add(tgt, &st, &sid), 0);
	/* the first write goes to path 0 and gets ANA Inaccessible: it fails over */
	seq_writes(s, 1, 1);
	assert_int_equal(fault_hits(tgt, sid), 1);
	WAIT_S(s, true, fault_held(tgt, hid) == 1);
	assert_int_equal(fault_held(tgt, hid), 1);
	p0 = path_info(s, 1, 0);
	assert_true(p0.ana_pending);
	assert_int_equal(p0.failovers, 1);
	assert_int_equal(p0.submitted, 1);
	/* pending: not used, while the reactor waits for the log inside ana_work */
	seq_writes(s, 1, 10);
	assert_int_equal(path_info(s, 1, 0).submitted, 1);
	assert_int_equal(path_info(s, 1, 1).submitted, 11);

	aa.s = s;
	assert_int_equal(pthread_create(&th, NULL, add_path_thread, &aa), 0);
	spoll(s, true, 300);
	assert_false(atomic_load(&aa.done));
	assert_int_equal(nvmf_host_subsys_paths(s, 0, NULL, 0), 2);

	assert_int_equal(nvmf_tgt_fault_release(tgt, hid), 1);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(aa.ret, 0);
	assert_int_equal(nvmf_host_subsys_paths(s, 0, NULL, 0), 3);
	WAIT_S(s, true, !path_info(s, 1, 0).ana_pending);
	p0 = path_info(s, 1, 0);
	assert_false(p0.ana_pending);
	assert_int_equal(p0.ana_state, NVME_ANA_OPTIMIZED);
	seq_writes(s, 1, 9);
	assert_true(path_info(s, 1, 0).submitted > 1);
	seq_verify(s, 1, 10);
	assert_int_equal(refs_of(s).subsys, 4);
	nvmf_host_subsys_destroy(s);
}

/* A target answering every attempt with a path error: the I/O fails after the bound. */
static void test_failover_bounded(void **state)
{
	struct nvmf_host_subsys *s = subsys_new(NVMF_IOPOLICY_NUMA, false, 0);
	struct nvmf_tgt_fault f = { .subsys_nqn = SUBNQN,
				    .cntlid = -1,
				    .queue = NVMF_TGT_FAULT_QUEUE_IO,
				    .opcode = nvme_cmd_write,
				    .nsid = 1,
				    .action = NVMF_TGT_FAULT_STATUS,
				    .status = NVME_SC_ANA_INACCESSIBLE };
	uint8_t buf[512] = { 0 };
	uint32_t id;

	(void)state;
	add_path(s, 0);
	assert_int_equal(nvmf_tgt_fault_add(tgt, &f, &id), 0);
	assert_int_equal(nvmf_host_mpath_write(s, 1, 0, 1, buf, false), NVME_SC_ANA_INACCESSIBLE);
	/* the first attempt and 16 failovers (MPATH_MAX_FAILOVERS) */
	assert_int_equal(fault_hits(tgt, id), 17);
	assert_int_equal(path_info(s, 1, 0).failovers, 16);
	assert_int_equal(nvmf_tgt_fault_remove(tgt, id), 0);
	rw_verify(s, 1, 0, 1, 5);
	nvmf_host_subsys_destroy(s);
}

static void test_failover_port_removed(void **state)
{
	struct nvmf_host_subsys *s = subsys_new(NVMF_IOPOLICY_ROUND_ROBIN, false, 0);
	struct load l;
	uint64_t b0;

	(void)state;
	add_path(s, 0);
	add_path(s, 1);
	load_start(&l, s, 1);
	load_run(&l, false, 100);
	assert_int_equal(nvmf_tgt_remove_port(tgt, ports[0]), 0);
	ports[0] = NULL;
	WAIT_S(s, false, path_info(s, 1, 0).state != NVMF_CTRL_LIVE);
	assert_int_not_equal(path_info(s, 1, 0).state, NVMF_CTRL_LIVE);
	b0 = path_info(s, 1, 1).submitted;
	load_run(&l, false, 200);
	assert_true(path_info(s, 1, 1).submitted >= b0 + 200);
	load_stop(&l, false);
	assert_true(path_info(s, 1, 0).failovers + path_info(s, 1, 0).submitted > 0);

	/* the port comes back (on a new TCP port number): so does the path (reconnect) */
	assert_int_equal(add_tcp_port(0), 0);
	nvmf_host_subsys_destroy(s);
}

/*
 * A path controller that goes DEAD (ctrl_loss_tmo) leaves its heads as if removed; its
 * object stays listed until nvmf_host_subsys_remove_path().
 */
static void test_path_dead(void **state)
{
	struct nvmf_host_subsys *s = subsys_new(NVMF_IOPOLICY_ROUND_ROBIN, false, 0);
	struct nvmf_host_opts o = path_opts(0);
	struct nvmf_host_ctrl *c0 = NULL;
	struct nvmf_host_head_info h;
	struct load l;

	(void)state;
	o.ctrl_loss_tmo_s = 2;
	assert_int_equal(nvmf_host_subsys_add_path(s, &o, &c0), 0);
	add_path(s, 1);
	load_start(&l, s, 1);
	load_run(&l, false, 100);
	assert_int_equal(nvmf_tgt_remove_port(tgt, ports[0]), 0);
	ports[0] = NULL;
	WAIT_S(s, false, nvmf_host_ctrl_get_state(c0) == NVMF_CTRL_DEAD);
	assert_int_equal(nvmf_host_ctrl_get_state(c0), NVMF_CTRL_DEAD);
	load_run(&l, false, 100);
	load_stop(&l, false);
	for (uint32_t nsid = 1; nsid <= NR_NS; nsid++) {
		assert_true(head_info(s, nsid, &h));
		assert_int_equal(h.nr_paths, 1);
		assert_int_equal(h.refs, 1);
	}
	assert_int_equal(nvmf_host_subsys_paths(s, 1, NULL, 0), 2);
	assert_int_equal(path_info(s, 1, 0).state, NVMF_CTRL_DEAD);
	assert_int_equal(path_info(s, 1, 0).anagrpid, 0); /* no namespace through it any more */
	assert_int_equal(refs_of(s).subsys, 3);
	assert_int_equal(nvmf_host_subsys_remove_path(s, c0), 0);
	assert_int_equal(refs_of(s).subsys, 2);
	assert_int_equal(refs_of(s).head_refs, NR_NS);
	assert_int_equal(add_tcp_port(0), 0);
	nvmf_host_subsys_destroy(s);
}

/* Every path inaccessible: I/O waits on the requeue list, then completes on the first path
 * that becomes optimized again. */
static void test_all_paths_inaccessible(void **state)
{
	struct nvmf_host_subsys *s = subsys_new(NVMF_IOPOLICY_ROUND_ROBIN, false, 0);
	struct actx a[4];
	uint8_t *buf[4];

	(void)state;
	add_path(s, 0);
	add_path(s, 1);
	set_ana(0, 1, NVME_ANA_INACCESSIBLE);
	set_ana(1, 1, NVME_ANA_INACCESSIBLE);
	for (int i = 0; i < 4; i++) {
		memset(&a[i], 0, sizeof(a[i]));
		buf[i] = malloc(4096);
		assert_non_null(buf[i]);
		fill(buf[i], 4096, 300 + (uint32_t)i);
		assert_int_equal(submit_rw(s, nvme_cmd_write, 1, (uint64_t)i * 8, 8, buf[i], &a[i]),
				 0);
	}
	WAIT_S(s, false,
	       head_queued(s, 1) == 4 && path_info(s, 1, 0).ana_state == NVME_ANA_INACCESSIBLE &&
		       path_info(s, 1, 1).ana_state == NVME_ANA_INACCESSIBLE);
	assert_int_equal(head_queued(s, 1), 4);
	/* they stay queued while nothing changes */
	spoll(s, false, 200);
	for (int i = 0; i < 4; i++)
		assert_int_equal(atomic_load(&a[i].calls), 0);
	assert_int_equal(head_queued(s, 1), 4);

	set_ana(1, 1, NVME_ANA_OPTIMIZED);
	WAIT_S(s, false,
	       atomic_load(&a[0].calls) + atomic_load(&a[1].calls) + atomic_load(&a[2].calls) +
			       atomic_load(&a[3].calls) ==
		       4);
	for (int i = 0; i < 4; i++) {
		uint8_t rb[4096];

		assert_int_equal(atomic_load(&a[i].calls), 1);
		assert_int_equal(atomic_load(&a[i].status), 0);
		assert_int_equal(nvmf_host_mpath_read(s, 1, (uint64_t)i * 8, 8, rb), 0);
		assert_memory_equal(rb, buf[i], 4096);
		free(buf[i]);
	}
	assert_int_equal(head_queued(s, 1), 0);
	assert_int_equal(path_info(s, 1, 1).ana_state, NVME_ANA_OPTIMIZED);
	nvmf_host_subsys_destroy(s);
}

/* An ANA Change event alone (no I/O) updates the path's state, when the target sends it. */
struct aen_seen {
	atomic_uint ana;
};

static void aen_cb(struct nvmf_host_ctrl *ctrl, uint32_t dw0, void *arg)
{
	struct aen_seen *a = arg;

	(void)ctrl;
	if ((dw0 & 7) == NVME_AER_TYPE_NOTICE && ((dw0 >> 8) & 0xff) == NVME_AER_NOTICE_ANA)
		atomic_fetch_add(&a->ana, 1);
}

static void test_ana_change_event(void **state)
{
	struct nvmf_host_subsys *s = subsys_new(NVMF_IOPOLICY_ROUND_ROBIN, false, 0);
	struct nvmf_host_opts o = path_opts(1);
	struct aen_seen seen = { 0 };
	uint64_t until;

	(void)state;
	add_path(s, 0);
	o.aen_cb = aen_cb;
	o.cb_arg = &seen;
	assert_int_equal(nvmf_host_subsys_add_path(s, &o, NULL), 0);
	set_ana(1, 2, NVME_ANA_NONOPTIMIZED);
	until = now_ms() + 5000;
	while (!atomic_load(&seen.ana) && now_ms() < until)
		spoll(s, false, 5);
	if (!atomic_load(&seen.ana)) {
		nvmf_host_subsys_destroy(s);
		skip(); /* a target without ANA Change events: nothing to check here */
	}
	/* the library read the log before calling aen_cb */
	assert_int_equal(path_info(s, 2, 1).ana_state, NVME_ANA_NONOPTIMIZED);
	assert_int_equal(path_info(s, 2, 0).ana_state, NVME_ANA_OPTIMIZED);
	assert_int_equal(path_info(s, 1, 1).ana_state, NVME_ANA_OPTIMIZED);
	seq_writes(s, 2, 6);
	assert_int_equal(path_info(s, 2, 1).submitted, 0);
	nvmf_host_subsys_destroy(s);
}

/* -------------------------------------------------------------------------------------- */
/* Namespace rescan: a namespace removed from the target leaves its head; back, it rejoins */

static void test_ns_rescan(void **state)
{
	struct nvmf_host_subsys *s = subsys_new(NVMF_IOPOLICY_ROUND_ROBIN, false, 0);
	struct nvmf_tgt_ns_params ns = { .nsid = 2,
					 .backend = NVMF_TGT_BACKEND_MEM,
					 .size_bytes = NS_BYTES,
					 .anagrpid = 2,
					 .nguid = ns_nguid[1],
					 .enable = true };
	struct nvmf_host_head_info h;

	(void)state;
	add_path(s, 0);
	add_path(s, 1);
	assert_int_equal(nvmf_tgt_subsys_remove_ns(tsub, 2), 0);
	/* Namespace Attribute Changed on both paths: each rescans and leaves head 2 */
	WAIT_S(s, false, !head_info(s, 2, &h));
	assert_false(head_info(s, 2, &h));
	assert_int_equal(nvmf_host_subsys_heads(s, NULL, 0), 1);
	assert_int_equal(refs_of(s).head_refs, 2);
	assert_int_equal(nvmf_tgt_subsys_add_ns(tsub, &ns), 0);
	WAIT_S(s, false, head_info(s, 2, &h) && h.nr_paths == 2);
	assert_true(head_info(s, 2, &h));
	assert_int_equal(h.nr_paths, 2);
	assert_memory_equal(h.nguid, ns_nguid[1], 16);
	rw_verify(s, 2, 0, 8, 9);
	nvmf_host_subsys_destroy(s);
}

/*
 * Heads are keyed by NSID and checked against the identifiers: namespace 2 comes back with
 * another NGUID while its old head's removal is pending: it does not join that head (whose
 * removal runs out); a path connected afterwards makes a new head of it.
 */
static void test_ns_ids_mismatch(void **state)
{
	static const uint8_t other[16] = { 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8,
					   0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf, 0xb0 };
	struct nvmf_host_subsys *s = subsys_new(NVMF_IOPOLICY_ROUND_ROBIN, false, 2);
	struct nvmf_tgt_ns_params ns = { .nsid = 2,
					 .backend = NVMF_TGT_BACKEND_MEM,
					 .size_bytes = NS_BYTES,
					 .anagrpid = 2,
					 .nguid = other,
					 .enable = true };
	struct nvmf_host_head_info h;
	struct nvmf_host_ctrl *c0;
	uint64_t t0;

	(void)state;
	c0 = add_path(s, 0);
	add_path(s, 1);
	assert_int_equal(nvmf_tgt_subsys_remove_ns(tsub, 2), 0);
	WAIT_S(s, false, head_info(s, 2, &h) && h.removal_pending);
	assert_true(head_info(s, 2, &h));
	assert_true(h.removal_pending);
	assert_int_equal(h.nr_paths, 0);
	t0 = now_ms();
	assert_int_equal(nvmf_tgt_subsys_add_ns(tsub, &ns), 0);
	/* the rescans find NSID 2 with another NGUID: left out, the removal runs out */
	WAIT_S(s, false, !head_info(s, 2, &h));
	assert_false(head_info(s, 2, &h));
	assert_true(now_ms() - t0 >= 1500);
	assert_int_equal(refs_of(s).subsys, 3);
	assert_int_equal(refs_of(s).head_refs, 2);
	/* a fresh path scans it into a new head with the new identifier */
	assert_int_equal(nvmf_host_subsys_remove_path(s, c0), 0);
	add_path(s, 0);
	assert_true(head_info(s, 2, &h));
	assert_memory_equal(h.nguid, other, 16);
	assert_int_equal(h.nr_paths, 1);
	rw_verify(s, 2, 0, 8, 17);
	nvmf_host_subsys_destroy(s);
	/* the target's namespace 2 as the other tests know it */
	ns.nguid = ns_nguid[1];
	assert_int_equal(nvmf_tgt_subsys_remove_ns(tsub, 2), 0);
	assert_int_equal(nvmf_tgt_subsys_add_ns(tsub, &ns), 0);
}

/* -------------------------------------------------------------------------------------- */
/* ANATT: a group in change for longer than 2 x ANATT (10 s on our target) resets the path */

static void test_anatt(void **state)
{
	struct nvmf_host_subsys *s = subsys_new(NVMF_IOPOLICY_ROUND_ROBIN, false, 0);
	struct nvmf_host_ctrl *c0;
	uint64_t resets0;

	(void)state;
	c0 = add_path(s, 0);
	add_path(s, 1);
	resets0 = host_stats(c0).resets;
	set_ana(0, 1, NVME_ANA_CHANGE);
	/* writes find out (ANA Transition) or the event tells: path 0 is in change */
	seq_writes(s, 1, 4);
	WAIT_S(s, false, path_info(s, 1, 0).ana_state == NVME_ANA_CHANGE);
	assert_int_equal(path_info(s, 1, 0).ana_state, NVME_ANA_CHANGE);
	assert_int_equal(host_stats(c0).resets, resets0);
	WAIT_S(s, false, host_stats(c0).resets > resets0);
	assert_true(host_stats(c0).resets > resets0);
	/* the group leaves change: the path reconnects and is used again */
	set_ana(0, 1, NVME_ANA_OPTIMIZED);
	WAIT_S(s, false,
	       path_info(s, 1, 0).state == NVMF_CTRL_LIVE &&
		       path_info(s, 1, 0).ana_state == NVME_ANA_OPTIMIZED);
	assert_int_equal(path_info(s, 1, 0).ana_state, NVME_ANA_OPTIMIZED);
	rw_verify(s, 1, 0, 8, 11);
	nvmf_host_subsys_destroy(s);
}

/* -------------------------------------------------------------------------------------- */
/*
 * Seed 001: delayed_removal_secs = 5 and one path. Whatever the pending removal holds is
 * released exactly once, whether the path comes back or the delay runs out.
 */
#define S1_DELAY_S 5

static void test_seed001_path_returns(void **state)
{
	struct nvmf_host_subsys *s = subsys_new(NVMF_IOPOLICY_NUMA, false, S1_DELAY_S);
	struct nvmf_host_subsys_refs base, r;
	struct nvmf_host_objects obase, o;
	struct nvmf_host_head_info h;
	struct nvmf_host_ctrl *c;
	uint8_t wb[4096], rb[4096];
	struct actx a = { 0 };
	uint64_t t_removed;

	(void)state;
	c = add_path(s, 0);
	base = refs_of(s);
	nvmf_host_get_objects(&obase);
	assert_int_equal(base.subsys, 2);
	assert_int_equal(base.heads, NR_NS);
	assert_int_equal(base.head_refs, NR_NS);

	assert_int_equal(nvmf_host_subsys_remove_path(s, c), 0);
	t_removed = now_ms();
	/* the heads stay, removal pending, each holding a reference on itself and on s */
	assert_true(head_info(s, 1, &h));
	assert_true(h.removal_pending);
	assert_int_equal(h.nr_paths, 0);
	assert_int_equal(h.refs, 1);
	r = refs_of(s);
	assert_int_equal(r.removals_pending, NR_NS);
	assert_int_equal(r.subsys, 1 + NR_NS);

	fill(wb, sizeof(wb), 4242);
	assert_int_equal(submit_rw(s, nvme_cmd_write, 1, 16, 8, wb, &a), 0);
	spoll(s, false, 50);
	assert_true(head_info(s, 1, &h));
	assert_int_equal(h.nr_queued, 1);
	assert_int_equal(atomic_load(&a.calls), 0);

	/* the path comes back within 1 s: removal cancelled, the write goes out */
	add_path(s, 0);
	assert_true(now_ms() - t_removed < 1000 * S1_DELAY_S);
	WAIT_S(s, false, atomic_load(&a.calls) == 1);
	assert_int_equal(atomic_load(&a.calls), 1);
	assert_int_equal(atomic_load(&a.status), 0);
	assert_int_equal(nvmf_host_mpath_read(s, 1, 16, 8, rb), 0);
	assert_memory_equal(wb, rb, sizeof(wb));

	r = refs_of(s);
	assert_int_equal(r.subsys, base.subsys);
	assert_int_equal(r.heads, base.heads);
	assert_int_equal(r.head_refs, base.head_refs);
	assert_int_equal(r.removals_pending, 0);
	assert_true(head_info(s, 1, &h));
	assert_false(h.removal_pending);
	assert_int_equal(h.nr_queued, 0);
	nvmf_host_get_objects(&o);
	assert_int_equal(o.subsystems, obase.subsystems);
	assert_int_equal(o.ns_heads, obase.ns_heads);
	assert_int_equal(o.ctrls, obase.ctrls);
	/* the cancelled timer stays cancelled: nothing changes after the delay */
	spoll(s, false, 1000 * S1_DELAY_S + 500);
	r = refs_of(s);
	assert_int_equal(r.subsys, base.subsys);
	assert_int_equal(r.head_refs, base.head_refs);
	rw_verify(s, 1, 16, 8, 4343);
	nvmf_host_subsys_destroy(s);
}

static void test_seed001_delay_expires(void **state)
{
	struct nvmf_host_subsys *s = subsys_new(NVMF_IOPOLICY_NUMA, false, S1_DELAY_S);
	struct nvmf_host_subsys_refs r;
	struct nvmf_host_objects o;
	struct nvmf_host_head_info h;
	struct nvmf_host_ctrl *c;
	uint8_t wb[4096];
	struct actx a = { 0 };
	uint64_t t_removed;

	(void)state;
	c = add_path(s, 0);
	assert_int_equal(nvmf_host_subsys_remove_path(s, c), 0);
	t_removed = now_ms();
	fill(wb, sizeof(wb), 4444);
	assert_int_equal(submit_rw(s, nvme_cmd_write, 1, 16, 8, wb, &a), 0);
	spoll(s, false, 50);
	assert_true(head_info(s, 1, &h));
	assert_true(h.removal_pending);
	assert_int_equal(h.nr_queued, 1);

	WAIT_S(s, false, atomic_load(&a.calls) > 0);
	assert_int_equal(atomic_load(&a.calls), 1);
	assert_int_equal(atomic_load(&a.status), -ENOLINK);
	/* not before the delay (a scheduling slack of 500 ms) */
	assert_true(atomic_load(&a.done_ms) - t_removed >= 1000 * S1_DELAY_S - 500);
	assert_false(head_info(s, 1, &h));
	assert_int_equal(nvmf_host_subsys_heads(s, NULL, 0), 0);
	r = refs_of(s);
	assert_int_equal(r.subsys, 1);
	assert_int_equal(r.heads, 0);
	assert_int_equal(r.head_refs, 0);
	assert_int_equal(r.removals_pending, 0);
	nvmf_host_get_objects(&o);
	assert_int_equal(o.subsystems, 1);
	assert_int_equal(o.ns_heads, 0);
	assert_int_equal(o.ctrls, 0);
	spoll(s, false, 100);
	assert_int_equal(atomic_load(&a.calls), 1);
	nvmf_host_subsys_destroy(s);
	/* test_teardown: every object count back to zero */
}

/* -------------------------------------------------------------------------------------- */
/* Destroy with queued I/O: each fails with -ENOLINK, exactly once */

static void test_destroy_queued(void **state)
{
	struct nvmf_host_subsys *s = subsys_new(NVMF_IOPOLICY_NUMA, false, 0);
	struct actx a[3];
	uint8_t buf[3][512];

	(void)state;
	add_path(s, 0);
	set_ana(0, 1, NVME_ANA_INACCESSIBLE);
	for (int i = 0; i < 3; i++) {
		memset(&a[i], 0, sizeof(a[i]));
		assert_int_equal(submit_rw(s, nvme_cmd_write, 1, (uint64_t)i, 1, buf[i], &a[i]), 0);
	}
	WAIT_S(s, false, head_queued(s, 1) == 3);
	assert_int_equal(head_queued(s, 1), 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(atomic_load(&a[i].calls), 0);
	nvmf_host_subsys_destroy(s);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(atomic_load(&a[i].calls), 1);
		assert_int_equal(atomic_load(&a[i].status), -ENOLINK);
	}
}

/* -------------------------------------------------------------------------------------- */
/* Threaded: calls from this thread, callbacks on the subsystem's reactor thread */

static void test_threaded(void **state)
{
	struct nvmf_host_subsys *s;
	struct nvmf_host_ctrl *c0;
	struct load l;
	uint64_t b0;

	(void)state;
	failover_ana_flip(true);
	assert_host_empty();
	test_setup(NULL);

	s = subsys_new(NVMF_IOPOLICY_QUEUE_DEPTH, true, 0);
	c0 = add_path(s, 0);
	add_path(s, 1);
	assert_int_equal(nvmf_host_subsys_poll(s, 0), -EINVAL);
	rw_verify(s, 2, 0, 8, 21);
	load_start(&l, s, 2);
	load_run(&l, true, 100);
	/* a path removed under I/O, from this thread: the load goes on on the other one */
	assert_int_equal(nvmf_host_subsys_remove_path(s, c0), 0);
	assert_int_equal(nvmf_host_subsys_paths(s, 0, NULL, 0), 1);
	b0 = path_info(s, 2, 0).submitted;
	load_run(&l, true, 100);
	assert_true(path_info(s, 2, 0).submitted >= b0 + 100);
	/* and one added back under I/O */
	add_path(s, 0);
	load_run(&l, true, 100);
	load_stop(&l, true);
	assert_int_equal(refs_of(s).subsys, 3);
	nvmf_host_subsys_destroy(s);
}

/*
 * A namespace moved to another ANA group (nvmf_tgt_subsys_set_ns_anagrpid()) is announced
 * by an ANA Change event only, with no namespace rescan: the host takes the group and state
 * of each NSID from the ANA log's descriptors (Linux nvme_update_ana_state()), not from the
 * group Identify Namespace gave it earlier. Groups 1 and 2 are in opposite states on the two
 * ports, so after the move I/O must go to the other port at once.
 */
static void test_ns_moved_group(void **state)
{
	struct nvmf_host_subsys *s = subsys_new(NVMF_IOPOLICY_NUMA, false, 0);
	struct nvmf_host_path_info p0, p1;
	uint64_t sub1;

	(void)state;
	set_ana(0, 1, NVME_ANA_OPTIMIZED);
	set_ana(0, 2, NVME_ANA_INACCESSIBLE);
	set_ana(1, 1, NVME_ANA_INACCESSIBLE);
	set_ana(1, 2, NVME_ANA_OPTIMIZED);
	add_path(s, 0);
	add_path(s, 1);
	rw_verify(s, 1, 0, 1, 11);
	assert_int_equal(path_info(s, 1, 1).submitted, 0);
	assert_int_equal(nvmf_tgt_subsys_set_ns_anagrpid(tsub, 1, 2), 0);
	WAIT_S(s, false, path_info(s, 1, 0).anagrpid == 2 && path_info(s, 1, 1).anagrpid == 2);
	p0 = path_info(s, 1, 0);
	p1 = path_info(s, 1, 1);
	assert_int_equal(p0.anagrpid, 2);
	assert_int_equal(p0.ana_state, NVME_ANA_INACCESSIBLE);
	assert_int_equal(p1.anagrpid, 2);
	assert_int_equal(p1.ana_state, NVME_ANA_OPTIMIZED);
	sub1 = p1.submitted;
	rw_verify(s, 1, 8, 1, 12);
	p0 = path_info(s, 1, 0);
	p1 = path_info(s, 1, 1);
	assert_int_equal(p0.failovers, 0);
	assert_true(p1.submitted >= sub1 + 2);
	assert_int_equal(nvmf_tgt_subsys_set_ns_anagrpid(tsub, 1, 1), 0);
	WAIT_S(s, false, path_info(s, 1, 0).anagrpid == 1);
	assert_int_equal(path_info(s, 1, 0).ana_state, NVME_ANA_OPTIMIZED);
	nvmf_host_subsys_destroy(s);
}

/*
 * A path removed (nvme disconnect of one controller) while verified I/O runs on both, then
 * added back, 20 times: the removed path's head I/O in flight finishes before its
 * controller shuts down (CC.SHN), or fails over; none completes with an error, nothing
 * read back differs.
 */
static void test_remove_path_under_io(void **state)
{
	struct nvmf_host_subsys *s = subsys_new(NVMF_IOPOLICY_ROUND_ROBIN, false, 0);
	struct nvmf_host_ctrl *c0;
	struct load l;

	(void)state;
	c0 = add_path(s, 0);
	add_path(s, 1);
	load_start(&l, s, 1);
	for (int round = 0; round < 20; round++) {
		load_run(&l, false, 50);
		assert_int_equal(nvmf_host_subsys_remove_path(s, c0), 0);
		c0 = add_path(s, 0);
	}
	load_run(&l, false, 50);
	load_stop(&l, false);
	assert_int_equal(nvmf_host_subsys_paths(s, 0, NULL, 0), 2);
	nvmf_host_subsys_destroy(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_heads, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_policy_round_robin, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_policy_numa, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_policy_queue_depth, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_policy_ana_classes, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_failover_ana_flip, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_failover_ana_status, test_setup,
						test_teardown),
		cmocka_unit_test_setup_teardown(test_failover_bounded, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_ana_pending_threaded, test_setup,
						test_teardown),
		cmocka_unit_test_setup_teardown(test_all_paths_inaccessible, test_setup,
						test_teardown),
		cmocka_unit_test_setup_teardown(test_ana_change_event, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_ns_rescan, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_ns_moved_group, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_ns_ids_mismatch, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_seed001_path_returns, test_setup,
						test_teardown),
		cmocka_unit_test_setup_teardown(test_seed001_delay_expires, test_setup,
						test_teardown),
		cmocka_unit_test_setup_teardown(test_destroy_queued, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_threaded, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_failover_port_removed, test_setup,
						test_teardown),
		cmocka_unit_test_setup_teardown(test_remove_path_under_io, test_setup,
						test_teardown),
		cmocka_unit_test_setup_teardown(test_path_dead, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_anatt, test_setup, test_teardown),
	};

	/* e.g. NVMF_MPATH_TESTS='test_seed001_*' */
	if (getenv("NVMF_MPATH_TESTS"))
		cmocka_set_test_filter(getenv("NVMF_MPATH_TESTS"));
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
