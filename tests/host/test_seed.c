// SPDX-License-Identifier: MIT
/*
 * The seed scenarios (the four Linux patches the project started from) against our host
 * library: an embedded target with a mem namespace, a loop port and a TCP port on
 * 127.0.0.1, and its fault injection (nvmf_tgt_fault_add()) to make the timing bad.
 *
 *   seed 000  reset and delete during I/O: every request completes exactly once, data
 *             stays right, nothing leaks (blktests nvme/040), over loop and over TCP
 *   seed 002  every normal admin tag held by the target: keep-alive still goes out from
 *             its reserved tag, and a reconnect still gets its reserved Connect tag (the
 *             held commands are requeued across it and complete once, when released)
 *   seed 003  Set Features Keep Alive Timer through passthrough on fabrics: the target and
 *             the host both follow it; the passthrough filter's documented errors
 *   keep-alive timeout: a Keep Alive left unanswered resets the controller and it comes back
 *
 * NVMF_SEED_CYCLES sets the number of reset/delete cycles of seed 000 (default 1000),
 * NVMF_SEED_RNG its random seed (printed), NVMF_SEED_DELAY_PROB the share of its I/O the
 * target delays (default 0.1, see S0_DELAY_PROBABILITY), NVMF_SEED_TESTS a cmocka test
 * filter ('*' and '?' wildcards), NVMF_SEED_LOG the library's log level (default 3: errors).
 * Timing is never a verdict here: every wait has a generous bound and only outcomes are
 * asserted (counts, states, data, statuses).
 */
#include "target/core.h"

#include "common/log.h"
#include "host/host-internal.h"
#include "nvmf/host.h"
#include "nvmf/target.h"

#include <errno.h>
#include <malloc.h>
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

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SEED_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SEED_SANITIZER 1
#endif
#endif
#ifdef SEED_SANITIZER
/* the sanitizers' allocator (sanitizer/allocator_interface.h, which gcc does not ship) */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

#define SUBNQN "nqn.2024-01.io.nvmf:seed"
#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:0c8a3d52-93c4-4d6e-b1f3-5e2f8d7a6b01"
#define NSID 1
#define NS_BYTES (16ull << 20)
#define LBA_SHIFT 9
#define WAIT_MS 60000ull /* bound of every wait: a hang fails, slowness does not */
#define HEAP_SLACK 65536 /* bytes: glibc caches a run may leave warmer (sanitizers: exact) */

static struct nvmf_tgt *tgt;
static char tcp_svc[16];

/* -------------------------------------------------------------------------------------- */
/* Helpers */

/* Bytes the process has allocated (malloc and friends) right now. */
static int64_t heap_bytes(void)
{
#ifdef SEED_SANITIZER
	return (int64_t)__sanitizer_get_current_allocated_bytes();
#else
	struct mallinfo2 mi = mallinfo2();

	return (int64_t)(mi.uordblks + mi.hblkhd);
#endif
}

/*
 * The heap once it stopped moving: a target queue is off the books (nvmf_tgt_ctrl_list(),
 * nr_sqs) a moment before its reactor frees its buffers. 100 ms unchanged, at most 5 s.
 */
static int64_t heap_settled(void)
{
	int64_t last = heap_bytes();
	unsigned int same = 0;

	for (unsigned int i = 0; i < 500 && same < 10; i++) {
		int64_t now;

		usleep(10000);
		now = heap_bytes();
		same = now == last ? same + 1 : 0;
		last = now;
	}
	return last;
}

/* xorshift64*: reproducible from the seed printed with each summary */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

/* What the state callback saw of one controller. */
struct hstate {
	atomic_uint resets; /* LIVE -> RESETTING */
	atomic_uint lives;  /* -> LIVE */
	atomic_bool dead;
	struct nvmf_host_ctrl_stats final; /* read when it went DEAD, on its reactor */
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
		/* every user command has completed by now: the counters are final */
		nvmf_host_ctrl_get_stats(ctrl, &h->final);
		atomic_store(&h->dead, true);
	}
}

static struct nvmf_host_ctrl *connect_ctrl(const char *trtype, bool threaded, int kato_ms,
					   unsigned int nr_io_queues, struct hstate *h)
{
	struct nvmf_host_opts o = {
		.trtype = trtype,
		.traddr = "127.0.0.1",
		.trsvcid = tcp_svc,
		.loop_tgt = tgt,
		.subnqn = SUBNQN,
		.hostnqn = HOSTNQN,
		.nr_io_queues = nr_io_queues,
		.queue_size = 32,
		.kato_ms = kato_ms,
		.reconnect_delay_s = 1,
		.threaded = threaded,
		.state_cb = state_cb,
		.cb_arg = h,
	};
	struct nvmf_host_ctrl *ctrl = NULL;

	assert_int_equal(nvmf_host_ctrl_connect(&o, &ctrl), 0);
	assert_int_equal(nvmf_host_ctrl_get_state(ctrl), NVMF_CTRL_LIVE);
	return ctrl;
}

/* Nothing of the host library or of the target's controllers is left. */
static void assert_all_gone(void)
{
	struct nvmf_host_objects o;

	/* a TCP controller goes on the target's reactor once it saw the connection close */
	WAIT_FOR(NULL, WAIT_MS, !tgt_nr_ctrls(tgt) && !atomic_load(&tgt->nr_sqs));
	nvmf_host_get_objects(&o);
	if (tgt_nr_ctrls(tgt) || atomic_load(&tgt->nr_sqs) || o.ctrls || o.queues ||
	    o.transport_queues) {
		struct nvmf_tgt_ctrl_info info[8];
		size_t n = nvmf_tgt_ctrl_list(tgt, NULL, info, 8);

		fprintf(stderr,
			"left over: target %zu controllers, %d SQs; host %llu controllers, %llu "
			"queues, %llu transport queues\n",
			n, atomic_load(&tgt->nr_sqs), (unsigned long long)o.ctrls,
			(unsigned long long)o.queues, (unsigned long long)o.transport_queues);
		for (size_t i = 0; i < n && i < 8; i++)
			fprintf(stderr, "  cntlid %u %s: %s, %u I/O queues, kato %u ms\n",
				info[i].cntlid, info[i].subsys_nqn, info[i].state,
				info[i].nr_io_queues, info[i].kato_ms);
	}
	assert_int_equal(tgt_nr_ctrls(tgt), 0);
	assert_int_equal(atomic_load(&tgt->nr_ctrls), 0);
	assert_int_equal(atomic_load(&tgt->nr_sqs), 0);
	assert_int_equal(o.ctrls, 0);
	assert_int_equal(o.queues, 0);
	assert_int_equal(o.reqs, 0);
	assert_int_equal(o.transport_queues, 0);
}

/* Synchronous write + read back of @nlb blocks at @slba with a pattern from @seed. */
static void write_read_back(struct nvmf_host_ctrl *ctrl, uint64_t slba, uint32_t nlb, uint32_t seed)
{
	size_t len = (size_t)nlb << LBA_SHIFT;
	uint8_t *wb = aligned_alloc(4096, len), *rb = aligned_alloc(4096, len);

	assert_non_null(wb);
	assert_non_null(rb);
	fill(wb, len, seed);
	memset(rb, 0xa5, len);
	assert_int_equal(nvmf_host_write(ctrl, NSID, slba, nlb, wb, false), 0);
	assert_int_equal(nvmf_host_read(ctrl, NSID, slba, nlb, rb), 0);
	assert_memory_equal(wb, rb, len);
	free(wb);
	free(rb);
}

/* -------------------------------------------------------------------------------------- */
/* Target */

static int group_setup(void **state)
{
	struct nvmf_tgt_opts topts = { .nr_reactors = 2 };
	struct nvmf_tgt_subsys_params sp = { .nqn = SUBNQN, .allow_any_host = true };
	struct nvmf_tgt_ns_params mem = { .nsid = NSID,
					  .backend = NVMF_TGT_BACKEND_MEM,
					  .size_bytes = NS_BYTES,
					  .enable = true };
	struct nvmf_tgt_port_params lp = { .portid = 1,
					   .trtype = NVMF_TRTYPE_LOOP,
					   .adrfam = NVMF_ADRFAM_LOOP };
	struct nvmf_tgt_port_params tp = { .portid = 2,
					   .trtype = NVMF_TRTYPE_TCP,
					   .adrfam = NVMF_ADRFAM_IPV4,
					   .traddr = "127.0.0.1",
					   .trsvcid = tcp_svc };
	struct nvmf_tgt_port *loop_port, *tcp_port;
	struct nvmf_tgt_subsys *s;

	(void)state;
	/* the library's chatter on every reset would bury the summaries (NVMF_SEED_LOG=7) */
	nvmf_log_set_level((enum nvmf_log_level)env_ulong("NVMF_SEED_LOG", NVMF_LOG_ERR));
	free_port(tcp_svc, sizeof(tcp_svc));
	tgt = nvmf_tgt_create(&topts);
	if (!tgt)
		return -1;
	if (nvmf_tgt_add_subsys(tgt, &sp, &s) || nvmf_tgt_subsys_add_ns(s, &mem))
		return -1;
	if (nvmf_tgt_add_port(tgt, &lp, &loop_port) || nvmf_tgt_add_port(tgt, &tp, &tcp_port))
		return -1;
	if (nvmf_tgt_port_add_subsys(loop_port, s) || nvmf_tgt_port_add_subsys(tcp_port, s))
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

/* -------------------------------------------------------------------------------------- */
/*
 * Seed 000: reset and delete during I/O.
 *
 * The load: S0_QUEUES I/O queues with S0_QD commands each, every one resubmitted from its
 * own completion, on 4 KiB regions of the namespace, half writes (a pattern naming the
 * region and a generation) and half reads checked against the region's last write that
 * succeeded. A region whose write failed is unknown until written again; no two commands
 * use one region at once. The target delays every I/O completion by 50..500 ms.
 *
 * Meanwhile the test thread resets the controller or deletes it and connects a new one,
 * at random, 0..20 ms apart. Every command gets a record (struct s0_rec) that counts its
 * callbacks: each one accepted must see exactly one, each one refused none.
 */

#define S0_QUEUES 4
#define S0_QD 16
#define S0_SLOTS (S0_QUEUES * S0_QD)
#define S0_REGION_BYTES 4096
#define S0_REGION_WORDS (S0_REGION_BYTES / 8)
#define S0_NR_REGIONS 2048
#define S0_REC_SHIFT 16
#define S0_REC_CHUNKS 4096
/*
 * A share of the I/O commands is delayed, not all of them: a cycle lasts 0..20 ms and a
 * delayed command 50..500 ms, so with every command delayed hardly any would complete
 * between two resets (each reset sends them again, the sixth time they fail) and nothing
 * would be read back. With one in ten, every queue soon has a few stuck in the target when
 * the next reset or delete comes, and the rest of the load flows and is verified.
 * NVMF_SEED_DELAY_PROB overrides it (1: every command).
 */
#define S0_DELAY_PROBABILITY 0.1

struct s0_slot;

struct s0_rec {
	struct s0_slot *slot;
	atomic_uint calls;
	atomic_bool refused; /* nvmf_host_submit_io() did not return 0 */
};

struct s0_region {
	uint32_t gen_ok;   /* generation of the last write that succeeded */
	uint32_t next_gen; /* of the last write issued */
	bool known;	   /* gen_ok is what the medium holds */
	bool busy;
};

struct s0 {
	pthread_mutex_t lock; /* regions, rng, record chunks */
	struct s0_region regions[S0_NR_REGIONS];
	uint64_t rng;
	struct s0_rec *recs[S0_REC_CHUNKS];
	atomic_uint_fast64_t nr_recs;
	uint8_t *bufs; /* S0_SLOTS regions */

	atomic_uint_fast64_t dups;	    /* callbacks of a record already called or refused */
	atomic_uint_fast64_t verify_errors; /* reads that did not return the last write */
	atomic_uint_fast64_t verified;	    /* reads compared */
	atomic_uint_fast64_t overflow;	    /* records beyond the table: test too small */
};

struct s0_job;

struct s0_slot {
	struct s0_job *job;
	uint16_t qid;
	bool write;
	bool verify; /* a read of a known region */
	uint32_t region;
	uint32_t gen;
	uint64_t *buf;
};

/* One controller's life: connect, load, delete. */
struct s0_job {
	struct s0 *s;
	struct nvmf_host_ctrl *ctrl;
	struct hstate h;
	atomic_int inflight;
	atomic_uint_fast64_t accepted, completed, errors;
	struct s0_slot slots[S0_SLOTS];
};

static uint64_t s0_word(uint32_t region, uint32_t gen, unsigned int i)
{
	return (uint64_t)region << 44 | (uint64_t)gen << 12 | i;
}

static struct s0_rec *s0_rec_new(struct s0 *s)
{
	uint64_t seq = atomic_fetch_add(&s->nr_recs, 1);
	size_t chunk = seq >> S0_REC_SHIFT;
	struct s0_rec *r = NULL;

	if (chunk >= S0_REC_CHUNKS) {
		atomic_fetch_add(&s->overflow, 1);
		return NULL;
	}
	pthread_mutex_lock(&s->lock);
	if (!s->recs[chunk])
		s->recs[chunk] = calloc((size_t)1 << S0_REC_SHIFT, sizeof(struct s0_rec));
	if (s->recs[chunk])
		r = &s->recs[chunk][seq & (((uint64_t)1 << S0_REC_SHIFT) - 1)];
	pthread_mutex_unlock(&s->lock);
	if (!r)
		atomic_fetch_add(&s->overflow, 1);
	return r;
}

static void s0_cb(void *arg, int status, const struct nvme_cqe *cqe);

/* Start the next command of @sl (the caller owns the idle slot). */
static void s0_start(struct s0_slot *sl)
{
	struct s0_job *j = sl->job;
	struct s0 *s = j->s;
	struct nvme_sqe c = { .nsid = NSID };
	struct s0_region *reg;
	struct s0_rec *rec;
	uint64_t slba;
	uint32_t r;
	int ret;

	rec = s0_rec_new(s);
	if (!rec)
		return;
	pthread_mutex_lock(&s->lock);
	r = (uint32_t)(rnd(&s->rng) % S0_NR_REGIONS);
	while (s->regions[r].busy)
		r = (r + 1) % S0_NR_REGIONS;
	reg = &s->regions[r];
	reg->busy = true;
	sl->region = r;
	sl->write = rnd(&s->rng) & 1;
	if (sl->write) {
		sl->gen = ++reg->next_gen;
	} else {
		sl->verify = reg->known;
		sl->gen = reg->gen_ok;
	}
	pthread_mutex_unlock(&s->lock);

	if (sl->write)
		for (unsigned int i = 0; i < S0_REGION_WORDS; i++)
			sl->buf[i] = s0_word(r, sl->gen, i);
	else
		memset(sl->buf, 0xa5, S0_REGION_BYTES);
	slba = (uint64_t)r * (S0_REGION_BYTES >> LBA_SHIFT);
	c.opcode = sl->write ? nvme_cmd_write : nvme_cmd_read;
	c.cdw10 = (uint32_t)slba;
	c.cdw11 = (uint32_t)(slba >> 32);
	c.cdw12 = (S0_REGION_BYTES >> LBA_SHIFT) - 1;
	rec->slot = sl;
	atomic_fetch_add(&j->inflight, 1);
	ret = nvmf_host_submit_io(j->ctrl, sl->qid, &c, sl->buf, S0_REGION_BYTES, s0_cb, rec);
	if (!ret) {
		/* the callback may have run already: @sl is not ours any more */
		atomic_fetch_add(&j->accepted, 1);
		return;
	}
	/* refused (-ENOLINK once the controller is being deleted): never sent */
	atomic_store(&rec->refused, true);
	pthread_mutex_lock(&s->lock);
	reg->busy = false;
	pthread_mutex_unlock(&s->lock);
	atomic_fetch_sub(&j->inflight, 1);
}

static void s0_cb(void *arg, int status, const struct nvme_cqe *cqe)
{
	struct s0_rec *rec = arg;
	struct s0_slot *sl = rec->slot;
	struct s0_job *j = sl->job;
	struct s0 *s = j->s;
	struct s0_region *reg = &s->regions[sl->region];

	(void)cqe;
	if (atomic_fetch_add(&rec->calls, 1) || atomic_load(&rec->refused)) {
		/* a second completion: the slot may be in use by another command, leave it */
		atomic_fetch_add(&s->dups, 1);
		return;
	}
	atomic_fetch_add(&j->completed, 1);
	if (status)
		atomic_fetch_add(&j->errors, 1);
	if (!sl->write && !status && sl->verify) {
		bool ok = true;

		for (unsigned int i = 0; i < S0_REGION_WORDS && ok; i++)
			ok = sl->buf[i] == s0_word(sl->region, sl->gen, i);
		atomic_fetch_add(&s->verified, 1);
		if (!ok) {
			atomic_fetch_add(&s->verify_errors, 1);
			fprintf(stderr,
				"seed000: region %u: read gen %u expected, got word0 0x%016llx\n",
				sl->region, sl->gen, (unsigned long long)sl->buf[0]);
		}
	}
	pthread_mutex_lock(&s->lock);
	if (sl->write && !status) {
		reg->gen_ok = sl->gen;
		reg->known = true;
	} else if (sl->write) {
		reg->known = false; /* it may or may not have reached the medium */
	}
	reg->busy = false;
	pthread_mutex_unlock(&s->lock);
	atomic_fetch_sub(&j->inflight, 1);
	/* as fio does: the next command at once (refused while the controller is deleted) */
	s0_start(sl);
}

static struct s0_job *s0_job_start(struct s0 *s, const char *trtype)
{
	struct s0_job *j = calloc(1, sizeof(*j));

	assert_non_null(j);
	j->s = s;
	j->ctrl = connect_ctrl(trtype, true, 0, S0_QUEUES, &j->h);
	assert_int_equal(nvmf_host_ctrl_nr_io_queues(j->ctrl), S0_QUEUES);
	for (unsigned int i = 0; i < S0_SLOTS; i++) {
		j->slots[i].job = j;
		j->slots[i].qid = (uint16_t)(i % S0_QUEUES + 1);
		j->slots[i].buf = (uint64_t *)(s->bufs + (size_t)i * S0_REGION_BYTES);
	}
	for (unsigned int i = 0; i < S0_SLOTS; i++)
		s0_start(&j->slots[i]);
	return j;
}

struct s0_totals {
	uint64_t accepted, completed, errors;
	uint64_t lib_submitted, lib_completed, lib_errors, retried, stray, resets, reconnects;
	uint64_t timeouts, ctrls;
};

/* Delete the job's controller: afterwards every command it accepted has completed. */
static void s0_job_end(struct s0_job *j, struct s0_totals *t)
{
	const struct nvmf_host_ctrl_stats *st = &j->h.final;

	nvmf_host_ctrl_delete(j->ctrl);
	assert_true(atomic_load(&j->h.dead));
	assert_int_equal(atomic_load(&j->inflight), 0);
	/* the library's counters agree with ours, for this controller */
	assert_int_equal(st->submitted, atomic_load(&j->accepted));
	assert_int_equal(st->completed, atomic_load(&j->completed));
	assert_int_equal(st->completed_error, atomic_load(&j->errors));
	assert_int_equal(st->outstanding, 0);
	assert_int_equal(st->stray_cqes, 0);
	t->accepted += atomic_load(&j->accepted);
	t->completed += atomic_load(&j->completed);
	t->errors += atomic_load(&j->errors);
	t->lib_submitted += st->submitted;
	t->lib_completed += st->completed;
	t->lib_errors += st->completed_error;
	t->retried += st->retried;
	t->stray += st->stray_cqes;
	t->resets += st->resets;
	t->reconnects += st->reconnects;
	t->timeouts += st->timeouts;
	t->ctrls++;
	free(j);
}

/*
 * @all_delayed: every I/O command is delayed (the literal setup): most commands
 * then exhaust their retries across the back-to-back resets and fail, so this variant runs
 * fewer cycles (NVMF_SEED_CYCLES / 5) and verifies exactly-once completion rather than data.
 */
static void seed000(const char *trtype, bool all_delayed)
{
	unsigned long cycles = env_ulong("NVMF_SEED_CYCLES", 1000) / (all_delayed ? 5 : 1);
	const char *prob = getenv("NVMF_SEED_DELAY_PROB");
	uint64_t seed = env_ulong("NVMF_SEED_RNG", 0), mrng;
	struct nvmf_tgt_fault f = {
		.cntlid = -1,
		.queue = NVMF_TGT_FAULT_QUEUE_IO,
		.opcode = -1,
		.nsid = -1,
		.action = NVMF_TGT_FAULT_DELAY,
		.delay_ms = 50,
		.delay_max_ms = 500,
		.probability = all_delayed     ? 1.0
			       : prob && *prob ? strtod(prob, NULL)
					       : S0_DELAY_PROBABILITY,
	};
	struct s0_totals t = { 0 };
	unsigned long resets = 0, busy = 0, deletes = 0;
	uint64_t lost = 0, once = 0, dup_calls = 0, nr_recs, t0, verify_errors, verified;
	struct hstate wh = { 0 };
	struct nvmf_host_ctrl *warm;
	struct s0_job *j;
	int64_t heap0, heap1;
	uint32_t id;
	struct s0 *s;

	if (!seed)
		seed = nvmf_now_ns() | 1;
	mrng = seed * 7 + 1;

	/* warm up: the first connection sets up what lives as long as the process */
	warm = connect_ctrl(trtype, true, 0, S0_QUEUES, &wh);
	write_read_back(warm, 0, 8, 1);
	nvmf_host_ctrl_delete(warm);
	assert_all_gone();
	heap0 = heap_settled();
	t0 = now_ms();

	s = calloc(1, sizeof(*s));
	assert_non_null(s);
	pthread_mutex_init(&s->lock, NULL);
	s->rng = seed;
	s->bufs = aligned_alloc(4096, (size_t)S0_SLOTS * S0_REGION_BYTES);
	assert_non_null(s->bufs);
	assert_int_equal(nvmf_tgt_fault_add(tgt, &f, &id), 0);

	j = s0_job_start(s, trtype);
	for (unsigned long c = 0; c < cycles; c++) {
		usleep((useconds_t)(rnd(&mrng) % 21) * 1000);
		if (rnd(&mrng) & 1) {
			int ret;

			/* a reset of a controller still reconnecting would only say -EBUSY */
			WAIT_FOR(NULL, WAIT_MS,
				 nvmf_host_ctrl_get_state(j->ctrl) == NVMF_CTRL_LIVE);
			assert_int_equal(nvmf_host_ctrl_get_state(j->ctrl), NVMF_CTRL_LIVE);
			ret = nvmf_host_ctrl_reset(j->ctrl);
			if (ret == -EBUSY) {
				busy++; /* something else reset it in between */
				continue;
			}
			assert_int_equal(ret, 0);
			resets++;
		} else {
			/* whatever state it is in: LIVE, RESETTING or CONNECTING */
			s0_job_end(j, &t);
			j = s0_job_start(s, trtype);
			deletes++;
		}
	}
	s0_job_end(j, &t);
	assert_int_equal(nvmf_tgt_fault_remove(tgt, id), 0);
	assert_all_gone();

	/* every record: accepted ones completed exactly once, refused ones never */
	assert_int_equal(atomic_load(&s->overflow), 0);
	nr_recs = atomic_load(&s->nr_recs);
	for (uint64_t i = 0; i < nr_recs; i++) {
		struct s0_rec *r =
			&s->recs[i >> S0_REC_SHIFT][i & (((uint64_t)1 << S0_REC_SHIFT) - 1)];
		unsigned int calls = atomic_load(&r->calls);

		if (atomic_load(&r->refused)) {
			dup_calls += calls;
			continue;
		}
		if (!calls)
			lost++;
		else if (calls > 1)
			dup_calls += calls - 1;
		else
			once++;
	}

	verify_errors = atomic_load(&s->verify_errors);
	verified = atomic_load(&s->verified);
	dup_calls += atomic_load(&s->dups);
	for (size_t c = 0; c < S0_REC_CHUNKS; c++)
		free(s->recs[c]);
	free(s->bufs);
	pthread_mutex_destroy(&s->lock);
	free(s);
	heap1 = heap_settled();

	printf("seed000 %s%s: %lu cycles (%lu resets, %lu delete+reconnect, %lu resets refused "
	       "busy), %llu I/Os submitted, %llu completed once, %llu lost, %llu duplicated, "
	       "%llu verify errors (%llu reads verified), heap %+lld B; library: submitted "
	       "%llu completed %llu (%llu with errors), %llu retried, %llu stray CQEs, %llu "
	       "resets, %llu reconnects, %llu timeouts, %llu controllers; %.1f s, "
	       "NVMF_SEED_RNG=%llu\n",
	       trtype, all_delayed ? " (every I/O delayed)" : "", cycles, resets, deletes, busy,
	       (unsigned long long)t.accepted, (unsigned long long)once, (unsigned long long)lost,
	       (unsigned long long)dup_calls, (unsigned long long)verify_errors,
	       (unsigned long long)verified, (long long)(heap1 - heap0),
	       (unsigned long long)t.lib_submitted, (unsigned long long)t.lib_completed,
	       (unsigned long long)t.lib_errors, (unsigned long long)t.retried,
	       (unsigned long long)t.stray, (unsigned long long)t.resets,
	       (unsigned long long)t.reconnects, (unsigned long long)t.timeouts,
	       (unsigned long long)t.ctrls, (double)(now_ms() - t0) / 1000.0,
	       (unsigned long long)seed);
	fflush(stdout);

	assert_int_equal(verify_errors, 0);
	assert_int_equal(lost, 0);
	assert_int_equal(dup_calls, 0);
	assert_int_equal(once, t.accepted);
	assert_int_equal(t.accepted, t.completed);
	assert_int_equal(t.lib_submitted, t.accepted);
	assert_int_equal(t.lib_completed, t.completed);
	assert_int_equal(t.lib_errors, t.errors);
	/* stray CQEs: see test_seed000_loop() */
	assert_int_equal(t.stray, 0);
	/* resets the test asked for, and the delete+reconnects, all happened */
	assert_true(t.resets >= resets);
	assert_int_equal(t.ctrls, deletes + 1);
	/* below the baseline is fine: glibc gave back a cache or an mmapped chunk it had */
	assert_true(heap1 - heap0 < HEAP_SLACK);
}

/*
 * Stray CQEs are expected to be 0 on both transports: a completion whose CID matches no
 * command in flight could only come from the target answering a command the host has
 * already completed and maybe reused the tag of - exactly the cancel-then-late-completion
 * of seed 000. The host never completes a command while the target may still answer it
 * (loop: it waits for the target to give each slot back; TCP: the socket is shut down
 * first, so a late CapsuleResp is never read), so none can arrive.
 */
static void test_seed000_loop(void **state)
{
	(void)state;
	seed000("loop", false);
}

static void test_seed000_tcp(void **state)
{
	(void)state;
	seed000("tcp", false);
}

static void test_seed000_loop_all_delayed(void **state)
{
	(void)state;
	seed000("loop", true);
}

static void test_seed000_tcp_all_delayed(void **state)
{
	(void)state;
	seed000("tcp", true);
}

/* -------------------------------------------------------------------------------------- */
/*
 * Seed 002: Keep Alive has a reserved admin tag (and Connect another). A HOLD rule keeps
 * every Get Features the host sends; the host accepts them until its normal admin tags are
 * gone (-EAGAIN): NVMF_HOST_AQ_DEPTH - 1 (the AER's tag) - 2 (reserved) = 29. Keep-alive
 * must still go out, and a reconnect must still connect.
 *
 * A polled controller: submissions from its own thread report -EAGAIN at once.
 */

#define S2_KATO_MS 2000
#define S2_NORMAL_TAGS (NVMF_HOST_AQ_DEPTH - 1 - NVMF_HOST_AQ_RESERVED)

/* Submit Get Features until the host refuses; the number accepted. */
static unsigned int s2_fill_tags(struct nvmf_host_ctrl *ctrl, struct io_ctx *ctx, size_t max)
{
	struct nvme_sqe c = { .opcode = nvme_admin_get_features };
	unsigned int n = 0;
	int ret = 0;

	c.cdw10 = NVME_FEAT_NUM_QUEUES;
	while (n < max && !(ret = nvmf_host_submit_admin(ctrl, &c, NULL, 0, io_cb, &ctx[n])))
		n++;
	assert_int_equal(ret, -EAGAIN);
	return n;
}

/* Callbacks run so far, all of @ctx[0..n) together. */
static unsigned int s2_calls(const struct io_ctx *ctx, unsigned int n)
{
	unsigned int calls = 0;

	for (unsigned int i = 0; i < n; i++)
		calls += (unsigned int)ctx[i].calls;
	return calls;
}

static void seed002(const char *trtype)
{
	struct nvmf_tgt_fault f = {
		.subsys_nqn = SUBNQN,
		.cntlid = -1, /* the controller of the reconnect too */
		.queue = NVMF_TGT_FAULT_QUEUE_ADMIN,
		.opcode = nvme_admin_get_features,
		.nsid = -1,
		.action = NVMF_TGT_FAULT_HOLD,
	};
	struct io_ctx a[NVMF_HOST_AQ_DEPTH] = { 0 }, b[NVMF_HOST_AQ_DEPTH] = { 0 };
	struct nvmf_host_ctrl_stats st0, st1, st2;
	struct hstate h = { 0 };
	struct nvmf_host_ctrl *ctrl;
	uint64_t ka0, ka1, host_ka, t_fail, t_live;
	uint16_t cntlid, cntlid2;
	unsigned int n, n2, ok = 0;
	uint32_t id;
	int released;

	ctrl = connect_ctrl(trtype, false, S2_KATO_MS, 1, &h);
	cntlid = nvmf_host_ctrl_cntlid(ctrl);
	assert_int_equal(tgt_kato(tgt, SUBNQN, cntlid), S2_KATO_MS);
	assert_int_equal(nvmf_tgt_fault_add(tgt, &f, &id), 0);

	/* every normal admin tag, held by the target */
	n = s2_fill_tags(ctrl, a, NVMF_HOST_AQ_DEPTH);
	assert_int_equal(n, S2_NORMAL_TAGS);
	WAIT_FOR(ctrl, WAIT_MS, fault_held(tgt, id) == n);
	assert_int_equal(fault_held(tgt, id), n);

	/* 3 x KATO: keep-alive goes on from its reserved tag, the controller stays LIVE */
	ka0 = tgt_ka_count(tgt, SUBNQN, cntlid);
	st0 = host_stats(ctrl);
	pass_time(ctrl, 3 * S2_KATO_MS);
	ka1 = tgt_ka_count(tgt, SUBNQN, cntlid);
	st1 = host_stats(ctrl);
	host_ka = st1.keep_alives - st0.keep_alives;
	assert_int_equal(nvmf_host_ctrl_get_state(ctrl), NVMF_CTRL_LIVE);
	assert_int_equal(atomic_load(&h.resets), 0);
	assert_int_equal(nvmf_host_ctrl_cntlid(ctrl), cntlid);
	assert_true(ka1 >= ka0 + 2);
	assert_true(host_ka >= 2);
	assert_int_equal(st1.keep_alive_failures, 0);
	assert_int_equal(s2_calls(a, n), 0);

	/* released: each completes once, with success */
	released = nvmf_tgt_fault_release(tgt, id);
	assert_int_equal(released, (int)n);
	WAIT_FOR(ctrl, WAIT_MS, s2_calls(a, n) == n);
	for (unsigned int i = 0; i < n; i++) {
		assert_int_equal(a[i].calls, 1);
		assert_int_equal(a[i].status, 0);
	}

	/* held again, then the target fails the controller: the host reconnects */
	n2 = s2_fill_tags(ctrl, b, NVMF_HOST_AQ_DEPTH);
	assert_int_equal(n2, n);
	WAIT_FOR(ctrl, WAIT_MS, fault_held(tgt, id) == n2);
	assert_int_equal(fault_held(tgt, id), n2);
	st1 = host_stats(ctrl);
	t_fail = now_ms();
	assert_int_equal(nvmf_tgt_ctrl_fail(tgt, SUBNQN, cntlid), 0);
	WAIT_FOR(ctrl, WAIT_MS,
		 atomic_load(&h.resets) >= 1 && nvmf_host_ctrl_get_state(ctrl) == NVMF_CTRL_LIVE);
	t_live = now_ms();
	assert_int_equal(atomic_load(&h.resets), 1);
	assert_int_equal(nvmf_host_ctrl_get_state(ctrl), NVMF_CTRL_LIVE);
	cntlid2 = nvmf_host_ctrl_cntlid(ctrl);
	assert_int_not_equal(cntlid2, cntlid);
	st2 = host_stats(ctrl);
	assert_int_equal(st2.reconnects, st1.reconnects + 1);

	/*
	 * The held commands: the association broke under them, so the library requeued them
	 * (Linux requeues what it cancels with Host Aborted Command) and sent them again on
	 * the new association, where the rule holds them again. None has completed yet.
	 */
	WAIT_FOR(ctrl, WAIT_MS, fault_held(tgt, id) == n2);
	assert_int_equal(fault_held(tgt, id), n2);
	assert_int_equal(s2_calls(b, n2), 0);
	assert_int_equal(st2.retried, st1.retried + n2);
	released = nvmf_tgt_fault_release(tgt, id);
	assert_int_equal(released, (int)n2);
	WAIT_FOR(ctrl, WAIT_MS, s2_calls(b, n2) == n2);
	for (unsigned int i = 0; i < n2; i++) {
		assert_int_equal(b[i].calls, 1);
		ok += b[i].status == 0;
	}
	assert_int_equal(ok, n2);
	assert_int_equal(nvmf_tgt_fault_remove(tgt, id), 0);

	printf("seed002 %s: %u normal admin tags held (AQ depth %u, %u reserved, AER 1); "
	       "3 x KATO %u ms: LIVE, target keep-alives +%llu, host keep-alives +%llu; "
	       "controller failed by the target: LIVE again after %llu ms (cntlid %u -> %u), "
	       "%u held commands retried, %u/%u completed once with success after release\n",
	       trtype, n, NVMF_HOST_AQ_DEPTH, NVMF_HOST_AQ_RESERVED, S2_KATO_MS,
	       (unsigned long long)(ka1 - ka0), (unsigned long long)host_ka,
	       (unsigned long long)(t_live - t_fail), cntlid, cntlid2,
	       (unsigned int)(st2.retried - st1.retried), ok, n2);
	fflush(stdout);

	nvmf_host_ctrl_delete(ctrl);
	assert_true(atomic_load(&h.dead));
	assert_int_equal(h.final.submitted, h.final.completed);
	assert_int_equal(h.final.submitted, 2 * n);
	assert_int_equal(h.final.completed_error, 0);
	assert_int_equal(h.final.stray_cqes, 0);
	/* the refused submissions were never accepted, so never called back */
	assert_int_equal(a[n].calls, 0);
	assert_int_equal(b[n2].calls, 0);
	assert_all_gone();
}

static void test_seed002_loop(void **state)
{
	(void)state;
	seed002("loop");
}

static void test_seed002_tcp(void **state)
{
	(void)state;
	seed002("tcp");
}

/* -------------------------------------------------------------------------------------- */
/*
 * Seed 003, fabrics half: Set Features Keep Alive Timer through passthrough is a fabrics
 * host's right. The target takes the new KATO (rounded up to its 100 ms granularity), the
 * host keeps alive at the new pace and its own KATO becomes ceil(cdw11 / 1000) s, as Linux
 * nvme_passthru_end() does.
 */

#define S3_WINDOW_MS 3000

static int s3_set_kato(struct nvmf_host_ctrl *ctrl, uint32_t kato_ms)
{
	struct nvme_sqe c = { .opcode = nvme_admin_set_features };

	c.cdw10 = NVME_FEAT_KATO;
	c.cdw11 = kato_ms;
	return nvmf_host_passthru(ctrl, true, &c, NULL, 0, 0, NULL);
}

/* Keep Alive commands the target received from @cntlid in S3_WINDOW_MS. */
static uint64_t s3_ka_in_window(uint16_t cntlid)
{
	uint64_t ka0 = tgt_ka_count(tgt, SUBNQN, cntlid);

	pass_time(NULL, S3_WINDOW_MS);
	return tgt_ka_count(tgt, SUBNQN, cntlid) - ka0;
}

static void test_seed003_tcp(void **state)
{
	struct nvme_sqe get = { .opcode = nvme_admin_get_features };
	struct nvme_sqe bad = { .opcode = nvme_admin_set_features };
	struct hstate h = { 0 };
	struct nvmf_host_ctrl *ctrl;
	uint64_t ka_fast, ka_slow;
	uint32_t result = 0;
	uint16_t cntlid;

	(void)state;
	ctrl = connect_ctrl("tcp", true, 5000, 1, &h);
	cntlid = nvmf_host_ctrl_cntlid(ctrl);
	assert_int_equal(tgt_kato(tgt, SUBNQN, cntlid), 5000);
	/* Get Features is not filtered: the target's KATO */
	get.cdw10 = NVME_FEAT_KATO;
	assert_int_equal(nvmf_host_passthru(ctrl, true, &get, NULL, 0, 0, &result), 0);
	assert_int_equal(result, 5000);

	/* 1 s: several keep-alives in 3 s (every KATO / 4 with TBKAS, idle) */
	assert_int_equal(s3_set_kato(ctrl, 1000), 0);
	assert_int_equal(tgt_kato(tgt, SUBNQN, cntlid), 1000);
	assert_int_equal(atomic_load(&ctrl->passthru_kato_ms), 1000);
	ka_fast = s3_ka_in_window(cntlid);
	assert_true(ka_fast >= 2);

	/* 30 s: every 7.5 s; at most the one the old pace had already sent */
	assert_int_equal(s3_set_kato(ctrl, 30000), 0);
	assert_int_equal(tgt_kato(tgt, SUBNQN, cntlid), 30000);
	ka_slow = s3_ka_in_window(cntlid);
	assert_true(ka_slow <= 1);

	/* 1.5 s: the target rounds to 100 ms, the host up to whole seconds (DIV_ROUND_UP) */
	assert_int_equal(s3_set_kato(ctrl, 1500), 0);
	assert_int_equal(tgt_kato(tgt, SUBNQN, cntlid), 1500);
	assert_int_equal(atomic_load(&ctrl->passthru_kato_ms), 2000);
	assert_int_equal(nvmf_host_passthru(ctrl, true, &get, NULL, 0, 0, &result), 0);
	assert_int_equal(result, 1500);

	/*
	 * An unrecognised feature is not the filter's business: it is sent, and the
	 * controller's status comes back as a positive NVMe status (host.h: "Return: 0, a
	 * positive NVMe status, or -errno"): Invalid Field in Command, DNR. The host's
	 * keep-alive is left alone.
	 */
	bad.cdw10 = 0x7f; /* a reserved Feature Identifier */
	bad.cdw11 = 1000;
	assert_int_equal(nvmf_host_passthru(ctrl, true, &bad, NULL, 0, 0, NULL),
			 NVME_SC_INVALID_FIELD | NVME_STATUS_DNR);
	assert_int_equal(tgt_kato(tgt, SUBNQN, cntlid), 1500);
	assert_int_equal(atomic_load(&ctrl->passthru_kato_ms), 2000);

	assert_int_equal(nvmf_host_ctrl_get_state(ctrl), NVMF_CTRL_LIVE);
	assert_int_equal(atomic_load(&h.resets), 0);
	printf("seed003 tcp: passthru Set Features KATO: 5000 -> 1000 ms (target 1000, %llu "
	       "keep-alives in %u ms) -> 30000 ms (target 30000, %llu in %u ms) -> 1500 ms "
	       "(target 1500, host 2000); reserved FID 0x7f: status 0x%x; LIVE, no reset\n",
	       (unsigned long long)ka_fast, S3_WINDOW_MS, (unsigned long long)ka_slow, S3_WINDOW_MS,
	       NVME_SC_INVALID_FIELD | NVME_STATUS_DNR);
	fflush(stdout);
	nvmf_host_ctrl_delete(ctrl);
	assert_all_gone();
}

/*
 * The filter's refusal: Set Features KATO on a controller that is not fabrics gets
 * -EOPNOTSUPP and never reaches the controller. Every transport here is fabrics, so a
 * polled loop controller borrows a copy of its transport that says it is not (the filter
 * reads nothing else, and no other thread uses the controller).
 */
static void test_seed003_filter(void **state)
{
	struct nvmf_host_transport_ops pcie_like;
	const struct nvmf_host_transport_ops *ops;
	struct hstate h = { 0 };
	struct nvmf_host_ctrl *ctrl;
	uint16_t cntlid;

	(void)state;
	ctrl = connect_ctrl("loop", false, 5000, 1, &h);
	cntlid = nvmf_host_ctrl_cntlid(ctrl);
	ops = ctrl->ops;
	pcie_like = *ops;
	pcie_like.fabrics = false;
	ctrl->ops = &pcie_like;
	assert_int_equal(s3_set_kato(ctrl, 1000), -EOPNOTSUPP);
	ctrl->ops = ops;
	assert_int_equal(tgt_kato(tgt, SUBNQN, cntlid), 5000);
	assert_int_equal(atomic_load(&ctrl->passthru_kato_ms), 0);
	/* the same command on fabrics goes through */
	assert_int_equal(s3_set_kato(ctrl, 1000), 0);
	assert_int_equal(tgt_kato(tgt, SUBNQN, cntlid), 1000);
	printf("seed003 filter: Set Features KATO on a non-fabrics controller: %d (-EOPNOTSUPP), "
	       "not sent; on fabrics: 0\n",
	       -EOPNOTSUPP);
	fflush(stdout);
	nvmf_host_ctrl_delete(ctrl);
	assert_all_gone();
}

/* -------------------------------------------------------------------------------------- */
/*
 * Keep-alive timeout: the target swallows one Keep Alive (NO_KEEP_ALIVE, count 1). The
 * host's Keep Alive times out after KATO (Linux gives it a timeout of one KATO), it resets
 * the controller and reconnects at once; I/O works afterwards.
 *
 * The target saw that Keep Alive as host activity but nothing after it, so its own KATO
 * may run out about when the host's does: either side may break the association first.
 * Both end the same way, which is what is asserted.
 */

#define S4_KATO_MS 2000
#define S4_RECONNECT_DELAY_MS 1000
#define S4_SLACK_MS 30000

static void keep_alive_timeout(const char *trtype)
{
	struct nvmf_tgt_fault f = {
		.subsys_nqn = SUBNQN,
		.queue = NVMF_TGT_FAULT_QUEUE_ADMIN,
		.opcode = -1,
		.nsid = -1,
		.count = 1,
		.action = NVMF_TGT_FAULT_NO_KEEP_ALIVE,
	};
	struct nvmf_host_ctrl_stats st0, st1;
	struct nvmf_tgt_fault_info fi;
	struct hstate h = { 0 };
	struct nvmf_host_ctrl *ctrl;
	uint64_t t0, t_reset = 0, t_live;
	uint16_t cntlid;
	uint32_t id;

	ctrl = connect_ctrl(trtype, true, S4_KATO_MS, 1, &h);
	cntlid = nvmf_host_ctrl_cntlid(ctrl);
	write_read_back(ctrl, 64, 8, 11);
	st0 = host_stats(ctrl);
	f.cntlid = cntlid;
	t0 = now_ms();
	assert_int_equal(nvmf_tgt_fault_add(tgt, &f, &id), 0);
	WAIT_FOR(NULL, S4_KATO_MS + S4_RECONNECT_DELAY_MS + S4_SLACK_MS,
		 atomic_load(&h.resets) >= 1);
	if (atomic_load(&h.resets))
		t_reset = now_ms();
	WAIT_FOR(NULL, S4_KATO_MS + S4_RECONNECT_DELAY_MS + S4_SLACK_MS,
		 atomic_load(&h.resets) >= 1 && nvmf_host_ctrl_get_state(ctrl) == NVMF_CTRL_LIVE);
	t_live = now_ms();
	assert_true(atomic_load(&h.resets) >= 1);
	assert_int_equal(nvmf_host_ctrl_get_state(ctrl), NVMF_CTRL_LIVE);
	assert_int_not_equal(nvmf_host_ctrl_cntlid(ctrl), cntlid);
	st1 = host_stats(ctrl);
	assert_true(st1.reconnects >= st0.reconnects + 1);
	assert_true(fault_info(tgt, id, &fi));
	assert_int_equal(fi.hits, 1);
	/* the data from before, and new I/O, on the new association */
	write_read_back(ctrl, 64, 8, 12);
	assert_int_equal(nvmf_tgt_fault_remove(tgt, id), 0);

	printf("keep-alive timeout %s: KATO %u ms, Keep Alive dropped by the target: reset "
	       "after %llu ms, LIVE again after %llu ms (bound %u ms; host keep-alive "
	       "failures %llu, timeouts %llu, resets %llu), cntlid %u -> %u, write+read back "
	       "ok\n",
	       trtype, S4_KATO_MS, (unsigned long long)(t_reset - t0),
	       (unsigned long long)(t_live - t0), S4_KATO_MS + S4_RECONNECT_DELAY_MS + S4_SLACK_MS,
	       (unsigned long long)(st1.keep_alive_failures - st0.keep_alive_failures),
	       (unsigned long long)(st1.timeouts - st0.timeouts),
	       (unsigned long long)(st1.resets - st0.resets), cntlid, nvmf_host_ctrl_cntlid(ctrl));
	fflush(stdout);
	nvmf_host_ctrl_delete(ctrl);
	assert_int_equal(h.final.submitted, h.final.completed);
	assert_int_equal(h.final.completed_error, 0);
	assert_all_gone();
}

static void test_keep_alive_timeout_loop(void **state)
{
	(void)state;
	keep_alive_timeout("loop");
}

static void test_keep_alive_timeout_tcp(void **state)
{
	(void)state;
	keep_alive_timeout("tcp");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed002_loop),
		cmocka_unit_test(test_seed002_tcp),
		cmocka_unit_test(test_seed003_tcp),
		cmocka_unit_test(test_seed003_filter),
		cmocka_unit_test(test_keep_alive_timeout_loop),
		cmocka_unit_test(test_keep_alive_timeout_tcp),
		cmocka_unit_test(test_seed000_loop),
		cmocka_unit_test(test_seed000_tcp),
		cmocka_unit_test(test_seed000_loop_all_delayed),
		cmocka_unit_test(test_seed000_tcp_all_delayed),
	};

	/* e.g. NVMF_SEED_TESTS='test_seed000_*' */
	if (getenv("NVMF_SEED_TESTS"))
		cmocka_set_test_filter(getenv("NVMF_SEED_TESTS"));
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
