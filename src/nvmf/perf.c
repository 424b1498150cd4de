// SPDX-License-Identifier: MIT
/*
 * perf: a fixed-time I/O benchmark in the manner of spdk_nvme_perf.
 *
 * Each thread connects a controller of its own (not threaded: it drives it with
 * nvmf_host_poll()), opens --queues I/O queues on it and keeps -q I/Os in flight, spread over
 * its queues. Every completion is timed against its submission (CLOCK_MONOTONIC) into a
 * preallocated log-linear histogram and resubmits the same I/O context from the callback, so
 * the I/O path allocates nothing. The main thread prints a progress line each second and
 * the totals at the end: IOPS, MiB/s, latency average/min/p50/p99/p99.9/max in microseconds,
 * and the process's CPU time (getrusage: with -t loop this includes the in-process target)
 * per million I/Os.
 *
 * --cpumask pins the threads as spdk_nvme_perf's -c does: one per CPU of the mask, thread i
 * on the i-th CPU.
 */
#include "cli.h"
#include "print.h"

#include "common/cpumask.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define PERF_MAX_THREADS 64
#define PERF_MAX_DEPTH 65536
#define PERF_DRAIN_TIMEOUT_NS (30ull * 1000000000ull)
#define PERF_POLL_MS 10

/*
 * Latency histogram (ns): values below 2^HIST_SUB_BITS exactly, then each power of two split
 * in HIST_SUB / 2 linear buckets, so a bucket is at most 1/64 (1.6%) of its value wide.
 */
#define HIST_SUB_BITS 7
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_NR (HIST_SUB + (64 - HIST_SUB_BITS) * (HIST_SUB / 2))

struct perf_hist {
	uint64_t bucket[HIST_NR];
	uint64_t count;
	uint64_t sum_ns;
	uint64_t min_ns;
	uint64_t max_ns;
};

enum perf_pattern {
	PAT_SEQ = 0,
	PAT_RAND = 1,
};

struct perf;
struct perf_thread;

/* One I/O slot: its buffer and the time its current command was submitted. */
struct perf_io {
	struct perf_thread *t;
	uint8_t *buf;
	uint64_t submit_ns;
	uint16_t qid;
	struct perf_io *next; /* waiting for a free tag */
};

struct perf_thread {
	struct perf *p;
	unsigned int idx;
	int cpu; /* pinned to this CPU, or -1 */
	pthread_t tid;
	struct nvmf_host_ctrl *ctrl;
	struct perf_io *ios;
	uint8_t *bufs;
	uint64_t rng;
	uint64_t seq_lba;
	uint64_t nsze;
	uint32_t nsid;
	uint32_t nlb; /* LBAs per I/O */
	unsigned int nr_queues;
	unsigned int inflight;
	bool stopping;
	struct perf_io *pending;
	int setup_ret;
	bool setup_printed;
	uint64_t errors;
	int first_error;
	uint64_t start_ns;
	uint64_t end_ns;
	_Atomic uint64_t ios_done; /* read by the progress line */
	_Atomic bool finished;
	struct perf_hist hist;
};

struct perf {
	struct cli_ctx *ctx;
	struct nvmf_host_opts opts;
	uint32_t depth;
	uint64_t io_size;
	const char *pattern_name;
	enum perf_pattern pattern;
	int rwmixread; /* percent of reads */
	uint32_t time_s;
	uint32_t queues;
	uint32_t nr_threads;
	uint32_t nsid;
	bool json;
	pthread_mutex_t lock; /* the start gate: threads ready, then all go at once */
	pthread_cond_t cond;
	uint32_t nr_ready;
	bool go;
	_Atomic bool abort;
	uint64_t start_ns;
	uint64_t deadline_ns;
	struct perf_thread *threads;
};

static _Atomic bool perf_interrupted;

static void perf_on_signal(int sig)
{
	atomic_store_explicit(&perf_interrupted, true, memory_order_relaxed);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static unsigned int hist_index(uint64_t v)
{
	unsigned int msb, shift;

	if (v < HIST_SUB)
		return (unsigned int)v;
	msb = 63u - (unsigned int)__builtin_clzll(v);
	shift = msb - HIST_SUB_BITS + 1;
	return HIST_SUB + (msb - HIST_SUB_BITS) * (HIST_SUB / 2) +
	       (unsigned int)((v >> shift) - HIST_SUB / 2);
}

/* The middle of bucket @idx, ns. */
static uint64_t hist_value(unsigned int idx)
{
	unsigned int octave, shift;
	uint64_t mant;

	if (idx < HIST_SUB)
		return idx;
	octave = (idx - HIST_SUB) / (HIST_SUB / 2);
	mant = (idx - HIST_SUB) % (HIST_SUB / 2) + HIST_SUB / 2;
	shift = octave + 1;
	return (mant << shift) + ((1ull << shift) - 1) / 2;
}

static void hist_add(struct perf_hist *h, uint64_t ns)
{
	h->bucket[hist_index(ns)]++;
	h->count++;
	h->sum_ns += ns;
	if (ns < h->min_ns)
		h->min_ns = ns;
	if (ns > h->max_ns)
		h->max_ns = ns;
}

static void hist_merge(struct perf_hist *to, const struct perf_hist *from)
{
	for (unsigned int i = 0; i < HIST_NR; i++)
		to->bucket[i] += from->bucket[i];
	to->count += from->count;
	to->sum_ns += from->sum_ns;
	if (from->min_ns < to->min_ns)
		to->min_ns = from->min_ns;
	if (from->max_ns > to->max_ns)
		to->max_ns = from->max_ns;
}

/* The @pct percentile, ns, clamped to the exact minimum and maximum. */
static uint64_t hist_percentile(const struct perf_hist *h, double pct)
{
	uint64_t target, seen = 0;

	if (!h->count)
		return 0;
	target = (uint64_t)(pct / 100.0 * (double)h->count + 0.999999);
	if (!target)
		target = 1;
	for (unsigned int i = 0; i < HIST_NR; i++) {
		seen += h->bucket[i];
		if (seen >= target) {
			uint64_t v = hist_value(i);

			return v < h->min_ns ? h->min_ns : v > h->max_ns ? h->max_ns : v;
		}
	}
	return h->max_ns;
}

/* xorshift64*: per thread, no locks, good enough to spread LBAs */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dull;
}

static void io_done(void *arg, int status, const struct nvme_cqe *cqe);

/* Submit @io again. Runs in the completion callback: no allocation, no lock. */
static void io_submit(struct perf_thread *t, struct perf_io *io)
{
	const struct perf *p = t->p;
	bool read = p->rwmixread == 100 ||
		    (p->rwmixread && (int)(rng_next(&t->rng) % 100) < p->rwmixread);
	uint64_t slba;
	struct nvme_sqe cmd = { 0 };
	int ret;

	if (p->pattern == PAT_RAND) {
		slba = rng_next(&t->rng) % (t->nsze / t->nlb) * t->nlb;
	} else {
		if (t->seq_lba + t->nlb > t->nsze)
			t->seq_lba = 0;
		slba = t->seq_lba;
		t->seq_lba += t->nlb;
	}
	cmd.opcode = read ? nvme_cmd_read : nvme_cmd_write;
	cmd.nsid = t->nsid;
	cmd.cdw10 = (uint32_t)slba;
	cmd.cdw11 = (uint32_t)(slba >> 32);
	cmd.cdw12 = t->nlb - 1;
	io->submit_ns = now_ns();
	ret = nvmf_host_submit_io(t->ctrl, io->qid, &cmd, io->buf, (uint32_t)p->io_size, io_done,
				  io);
	if (!ret) {
		t->inflight++;
		return;
	}
	if (ret == -EAGAIN) {
		/* every tag of the queue is busy: the main loop submits it after the poll */
		io->next = t->pending;
		t->pending = io;
		return;
	}
	t->errors++;
	if (!t->first_error)
		t->first_error = ret;
	t->stopping = true;
}

static void io_done(void *arg, int status, const struct nvme_cqe *cqe)
{
	struct perf_io *io = arg;
	struct perf_thread *t = io->t;
	uint64_t now = now_ns();

	t->inflight--;
	if (status) {
		t->errors++;
		if (!t->first_error)
			t->first_error = status;
		t->stopping = true;
		return;
	}
	hist_add(&t->hist, now - io->submit_ns);
	atomic_fetch_add_explicit(&t->ios_done, 1, memory_order_relaxed);
	if (now >= t->p->deadline_ns)
		t->stopping = true;
	if (!t->stopping)
		io_submit(t, io);
}

static int thread_setup(struct perf_thread *t)
{
	struct perf *p = t->p;
	struct nvmf_host_opts o = p->opts;
	struct nvmf_host_ns_info *ns = NULL;
	unsigned int per_queue = (p->depth + p->queues - 1) / p->queues;
	size_t nr, bufsize;
	int ret;

	o.nr_io_queues = p->queues;
	/* one more entry than I/Os: the Connect command keeps a tag of its own */
	if (!o.queue_size && per_queue + 1 > 128)
		o.queue_size = per_queue + 1;
	ret = nvmf_host_ctrl_connect(&o, &t->ctrl);
	if (ret) {
		t->ctrl = NULL;
		if (ret > 0)
			fprintf(stderr, "perf: thread %u: connect %s %s: NVMe status: %s(%#x)\n",
				t->idx, p->ctx->devname, p->ctx->subnqn, nvme_status_str(ret, true),
				(unsigned int)ret);
		else
			fprintf(stderr, "perf: thread %u: connect %s %s: %s\n", t->idx,
				p->ctx->devname, p->ctx->subnqn, strerror(-ret));
		return ret;
	}
	t->nr_queues = nvmf_host_ctrl_nr_io_queues(t->ctrl);
	if (!t->nr_queues) {
		fprintf(stderr, "perf: thread %u: the controller granted no I/O queue\n", t->idx);
		return -ENOTCONN;
	}
	{
		/* say so when the queues cannot hold -q: the rest waits for a free tag */
		unsigned int fit = t->nr_queues * (nvmf_host_ctrl_io_queue_size(t->ctrl) - 1);

		if (fit < p->depth)
			fprintf(stderr,
				"perf: thread %u: %u I/O queue(s) of %u entries hold %u I/Os, not "
				"%u "
				"(CAP.MQES %u; one tag per queue is Connect's): try --queues %u\n",
				t->idx, t->nr_queues, nvmf_host_ctrl_io_queue_size(t->ctrl), fit,
				p->depth, (unsigned int)(nvmf_host_ctrl_cap(t->ctrl) & 0xffff),
				(p->depth + fit / t->nr_queues - 1) / (fit / t->nr_queues));
	}
	nr = nvmf_host_ns_list(t->ctrl, NULL, 0);
	ns = calloc(nr ? nr : 1, sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	nr = nvmf_host_ns_list(t->ctrl, ns, nr);
	ret = -ENOENT;
	for (size_t i = 0; i < nr; i++) {
		if (p->nsid && ns[i].nsid != p->nsid)
			continue;
		t->nsid = ns[i].nsid;
		t->nsze = ns[i].nsze;
		if (p->io_size % (1ull << ns[i].lba_shift) || !p->io_size) {
			fprintf(stderr,
				"perf: I/O size %llu is not a multiple of the %u-byte LBA "
				"of namespace %u\n",
				(unsigned long long)p->io_size, 1u << ns[i].lba_shift, t->nsid);
			ret = -EINVAL;
			break;
		}
		t->nlb = (uint32_t)(p->io_size >> ns[i].lba_shift);
		ret = 0;
		break;
	}
	free(ns);
	if (ret == -ENOENT)
		fprintf(stderr, "perf: namespace %u is not active on %s\n", p->nsid,
			p->ctx->subnqn);
	if (ret)
		return ret;
	if (t->nlb > NVME_RW_NLB_MASK + 1 || t->nsze < t->nlb) {
		fprintf(stderr, "perf: I/O size %llu does not fit namespace %u\n",
			(unsigned long long)p->io_size, t->nsid);
		return -EINVAL;
	}

	bufsize = (p->io_size + 4095) & ~(uint64_t)4095;
	t->ios = calloc(p->depth, sizeof(*t->ios));
	t->bufs = aligned_alloc(4096, bufsize * p->depth);
	if (!t->ios || !t->bufs)
		return -ENOMEM;
	for (uint32_t i = 0; i < p->depth; i++) {
		t->ios[i].t = t;
		t->ios[i].buf = t->bufs + bufsize * i;
		t->ios[i].qid = (uint16_t)(1 + i % t->nr_queues);
		/* a recognisable payload for writes: thread, slot */
		memset(t->ios[i].buf, (int)((t->idx * 31 + i) & 0xff), bufsize);
	}
	t->rng = 0x9e3779b97f4a7c15ull * (t->idx + 1) ^ now_ns();
	/* threads start their sequential runs far apart */
	t->seq_lba = t->nsze / t->nlb / p->nr_threads * t->idx * t->nlb;
	t->hist.min_ns = UINT64_MAX;
	return 0;
}

static void thread_run(struct perf_thread *t)
{
	struct perf *p = t->p;
	uint64_t drain_deadline = 0;

	t->start_ns = now_ns();
	for (uint32_t i = 0; i < p->depth && !t->stopping; i++)
		io_submit(t, &t->ios[i]);
	for (;;) {
		uint64_t now = now_ns();
		int ret;

		if (!t->stopping &&
		    (now >= p->deadline_ns ||
		     atomic_load_explicit(&perf_interrupted, memory_order_relaxed) ||
		     atomic_load_explicit(&p->abort, memory_order_relaxed)))
			t->stopping = true;
		if (t->stopping) {
			t->pending = NULL; /* never submitted: nothing to wait for */
			if (!t->inflight)
				break;
			if (!drain_deadline)
				drain_deadline = now + PERF_DRAIN_TIMEOUT_NS;
			if (now > drain_deadline) {
				fprintf(stderr, "perf: thread %u: %u I/Os did not complete\n",
					t->idx, t->inflight);
				break;
			}
		}
		while (t->pending && !t->stopping) {
			struct perf_io *io = t->pending;
			unsigned int before = t->inflight;

			t->pending = io->next;
			io_submit(t, io);
			if (t->inflight == before)
				break; /* still no tag: wait for a completion */
		}
		ret = nvmf_host_poll(t->ctrl, t->inflight ? PERF_POLL_MS : 1);
		if (ret < 0 && ret != -EINTR) {
			if (!t->first_error)
				t->first_error = ret;
			t->errors++;
			break;
		}
		if (nvmf_host_ctrl_get_state(t->ctrl) == NVMF_CTRL_DEAD) {
			if (!t->first_error)
				t->first_error = -ENOTCONN;
			t->errors++;
			break;
		}
	}
	t->end_ns = now_ns();
}

static void *thread_main(void *arg)
{
	struct perf_thread *t = arg;
	struct perf *p = t->p;

	t->setup_ret = thread_setup(t);
	/* the main thread looks at every setup_ret, then sets the clock or abort */
	pthread_mutex_lock(&p->lock);
	p->nr_ready++;
	pthread_cond_broadcast(&p->cond);
	while (!p->go)
		pthread_cond_wait(&p->cond, &p->lock);
	pthread_mutex_unlock(&p->lock);
	if (!atomic_load(&p->abort))
		thread_run(t);
	if (t->ctrl)
		nvmf_host_ctrl_delete(t->ctrl);
	t->ctrl = NULL;
	atomic_store(&t->finished, true);
	return NULL;
}

/* Run @t in a new thread, created on its CPU when it has one. Return: 0 or a positive errno. */
static int start_thread(struct perf_thread *t)
{
	return -nvmf_thread_create_pinned(&t->tid, t->cpu, thread_main, t);
}

static double cpu_seconds(const struct rusage *a, const struct rusage *b, bool sys)
{
	const struct timeval *x = sys ? &a->ru_stime : &a->ru_utime;
	const struct timeval *y = sys ? &b->ru_stime : &b->ru_utime;

	return (double)(y->tv_sec - x->tv_sec) + (double)(y->tv_usec - x->tv_usec) / 1e6;
}

static void progress(struct perf *p, FILE *f)
{
	uint64_t last = 0, t0 = p->start_ns;
	unsigned int sec = 0;

	for (;;) {
		uint64_t next = t0 + (uint64_t)(sec + 1) * 1000000000ull, total = 0, now;
		bool all_done = true;
		struct timespec ts;

		while ((now = now_ns()) < next) {
			bool done = true;

			for (uint32_t i = 0; i < p->nr_threads; i++)
				done &= atomic_load(&p->threads[i].finished);
			if (done)
				return;
			ts.tv_sec = 0;
			ts.tv_nsec = (long)((next - now) < 50000000ull ? next - now : 50000000ull);
			nanosleep(&ts, NULL);
		}
		for (uint32_t i = 0; i < p->nr_threads; i++) {
			total +=
				atomic_load_explicit(&p->threads[i].ios_done, memory_order_relaxed);
			all_done &= atomic_load(&p->threads[i].finished);
		}
		sec++;
		if (sec <= p->time_s)
			fprintf(f, "[%3u s] %12.2f IOPS %10.2f MiB/s\n", sec,
				(double)(total - last),
				(double)(total - last) * (double)p->io_size / (1 << 20));
		fflush(f);
		last = total;
		if (all_done)
			return;
	}
}

static void report(struct perf *p, const struct rusage *ru0, const struct rusage *ru1)
{
	struct perf_hist *all = calloc(1, sizeof(*all));
	double elapsed = 0, iops = 0, usr = cpu_seconds(ru0, ru1, false);
	double sys = cpu_seconds(ru0, ru1, true), mibs, per_mio;
	uint64_t errors = 0;
	const char *trtype = p->opts.trtype;

	if (!all)
		return;
	all->min_ns = UINT64_MAX;
	for (uint32_t i = 0; i < p->nr_threads; i++) {
		struct perf_thread *t = &p->threads[i];
		double e = (double)(t->end_ns - t->start_ns) / 1e9;

		hist_merge(all, &t->hist);
		errors += t->errors;
		if (e > elapsed)
			elapsed = e;
		if (e > 0)
			iops += (double)t->hist.count / e;
	}
	if (!all->count)
		all->min_ns = 0;
	mibs = iops * (double)p->io_size / (1 << 20);
	per_mio = all->count ? (usr + sys) / ((double)all->count / 1e6) : 0;

	if (p->json) {
		struct json_object *r = json_object_new_object();
		struct json_object *lat = json_object_new_object();
		struct json_object *th = json_object_new_array();

		json_object_object_add(r, "transport", json_object_new_string(trtype));
		json_object_object_add(r, "device", json_object_new_string(p->ctx->devname));
		json_object_object_add(r, "subnqn", json_object_new_string(p->ctx->subnqn));
		json_object_object_add(r, "nsid", json_object_new_uint64(p->threads[0].nsid));
		json_object_object_add(r, "pattern", json_object_new_string(p->pattern_name));
		json_object_object_add(r, "rwmixread", json_object_new_int(p->rwmixread));
		json_object_object_add(r, "io_size", json_object_new_uint64(p->io_size));
		json_object_object_add(r, "queue_depth", json_object_new_uint64(p->depth));
		json_object_object_add(r, "queues", json_object_new_uint64(p->queues));
		json_object_object_add(r, "threads", json_object_new_uint64(p->nr_threads));
		json_object_object_add(r, "time_s", json_object_new_uint64(p->time_s));
		json_object_object_add(r, "elapsed_s", json_object_new_double(elapsed));
		json_object_object_add(r, "ios", json_object_new_uint64(all->count));
		json_object_object_add(r, "errors", json_object_new_uint64(errors));
		json_object_object_add(r, "iops", json_object_new_double(iops));
		json_object_object_add(r, "mib_s", json_object_new_double(mibs));
		json_object_object_add(
			lat, "avg",
			json_object_new_double(all->count ? (double)all->sum_ns / all->count / 1e3
							  : 0));
		json_object_object_add(lat, "min", json_object_new_double(all->min_ns / 1e3));
		json_object_object_add(lat, "p50",
				       json_object_new_double(hist_percentile(all, 50) / 1e3));
		json_object_object_add(lat, "p99",
				       json_object_new_double(hist_percentile(all, 99) / 1e3));
		json_object_object_add(lat, "p99_9",
				       json_object_new_double(hist_percentile(all, 99.9) / 1e3));
		json_object_object_add(lat, "max", json_object_new_double(all->max_ns / 1e3));
		json_object_object_add(r, "latency_us", lat);
		json_object_object_add(r, "cpu_user_s", json_object_new_double(usr));
		json_object_object_add(r, "cpu_sys_s", json_object_new_double(sys));
		json_object_object_add(r, "cpu_s_per_mio", json_object_new_double(per_mio));
		for (uint32_t i = 0; i < p->nr_threads; i++) {
			struct perf_thread *t = &p->threads[i];
			struct json_object *o = json_object_new_object();
			double e = (double)(t->end_ns - t->start_ns) / 1e9;

			json_object_object_add(o, "thread", json_object_new_uint64(i));
			json_object_object_add(o, "cpu",
					       t->cpu >= 0 ? json_object_new_int(t->cpu) : NULL);
			json_object_object_add(o, "ios", json_object_new_uint64(t->hist.count));
			json_object_object_add(
				o, "iops",
				json_object_new_double(e > 0 ? (double)t->hist.count / e : 0));
			json_object_object_add(o, "errors", json_object_new_uint64(t->errors));
			json_object_array_add(th, o);
		}
		json_object_object_add(r, "per_thread", th);
		json_print(r);
		free(all);
		return;
	}

	printf("========================================================\n");
	printf("%*s\n", 60 + 2 + 3 * 11 + 11, "Latency(us)");
	printf("%-60s: %10s %10s %10s %10s %10s\n", "Device Information", "IOPS", "MiB/s",
	       "Average", "min", "max");
	for (uint32_t i = 0; i < p->nr_threads; i++) {
		struct perf_thread *t = &p->threads[i];
		double e = (double)(t->end_ns - t->start_ns) / 1e9;
		double ti = e > 0 ? (double)t->hist.count / e : 0;
		char name[512];

		if (!strcmp(trtype, "loop"))
			snprintf(name, sizeof(name), "LOOP (%.32s) NSID %u from thread %2u",
				 p->ctx->subnqn, t->nsid, i);
		else
			snprintf(name, sizeof(name), "TCP  (%.40s) NSID %u from thread %2u",
				 p->opts.traddr ? p->opts.traddr : "", t->nsid, i);
		printf("%-60.60s: %10.2f %10.2f %10.2f %10.2f %10.2f\n", name, ti,
		       ti * (double)p->io_size / (1 << 20),
		       t->hist.count ? (double)t->hist.sum_ns / t->hist.count / 1e3 : 0,
		       t->hist.count ? t->hist.min_ns / 1e3 : 0, t->hist.max_ns / 1e3);
	}
	printf("========================================================\n");
	printf("%-60s: %10.2f %10.2f %10.2f %10.2f %10.2f\n", "Total", iops, mibs,
	       all->count ? (double)all->sum_ns / all->count / 1e3 : 0, all->min_ns / 1e3,
	       all->max_ns / 1e3);
	printf("\n");
	printf("IOPS: %.2f\nMiB/s: %.2f\n", iops, mibs);
	printf("Latency (us): average %.2f, p50 %.2f, p99 %.2f, p99.9 %.2f, min %.2f, max %.2f\n",
	       all->count ? (double)all->sum_ns / all->count / 1e3 : 0,
	       hist_percentile(all, 50) / 1e3, hist_percentile(all, 99) / 1e3,
	       hist_percentile(all, 99.9) / 1e3, all->min_ns / 1e3, all->max_ns / 1e3);
	printf("CPU: %.2f s user + %.2f s system, %.3f s per million I/Os\n", usr, sys, per_mio);
	if (errors)
		printf("Errors: %llu\n", (unsigned long long)errors);
	free(all);
}

/*
 * -t: spdk_nvme_perf's run time, but nvme-cli's transport everywhere else; the value tells
 * them apart, so `perf -t loop ... -t 2` works.
 */
static int perf_time_or_transport(struct cli_ctx *ctx, const char *arg, void *data)
{
	struct perf *p = data;
	uint64_t v;

	if (!strcmp(arg, "tcp") || !strcmp(arg, "loop")) {
		ctx->conn.transport = arg;
		return 0;
	}
	if (cli_parse_u64(arg, false, &v) || !v || v > UINT32_MAX)
		return cli_usage_error(ctx, "invalid value '%s' for --time (seconds, or tcp|loop)",
				       arg);
	p->time_s = (uint32_t)v;
	return 0;
}

/* -w; a mixed pattern leaves rwmixread at -1 for -M to set */
static int parse_pattern(struct perf *p, const char *w)
{
	p->pattern_name = w;
	if (!strcmp(w, "read") || !strcmp(w, "randread"))
		p->rwmixread = 100;
	else if (!strcmp(w, "write") || !strcmp(w, "randwrite"))
		p->rwmixread = 0;
	else if (!strcmp(w, "rw") || !strcmp(w, "randrw"))
		p->rwmixread = -1;
	else
		return -EINVAL;
	p->pattern = !strncmp(w, "rand", 4) ? PAT_RAND : PAT_SEQ;
	return 0;
}

int cmd_perf(struct cli_ctx *ctx, int argc, char **argv)
{
	struct perf perf = { .ctx = ctx }, *p = &perf;
	const char *pattern = "randread";
	struct cli_call time_call = { perf_time_or_transport, p };
	const char *cpumask = NULL;
	int cpus[PERF_MAX_THREADS];
	unsigned int nr_cpus = 0;
	cpu_set_t cpu_set;
	char why[512];
	int rwmix = 50;
	struct cli_opt opts[] = {
		CLI_OPT("io-depth", 'q', CLI_OPT_U32, &p->depth, "NUM",
			"I/Os in flight per thread, spread over its queues (default 32)"),
		CLI_OPT("io-size", 'o', CLI_OPT_SIZE, &p->io_size, "BYTES",
			"I/O size in bytes, a multiple of the LBA size (default 4096)"),
		CLI_OPT("io-pattern", 'w', CLI_OPT_STR, &pattern, "PATTERN",
			"read|write|randread|randwrite|rw|randrw (default randread)"),
		CLI_OPT("rwmixread", 'M', CLI_OPT_INT, &rwmix, "PCT",
			"rw/randrw: percentage of reads (default 50)"),
		CLI_OPT("time", 't', CLI_OPT_CALL, &time_call, "SEC",
			"run time in seconds (default 10); -t tcp|loop names the transport"),
		CLI_OPT("queues", 'c', CLI_OPT_U32, &p->queues, "NUM",
			"I/O queues per controller (default 1)"),
		CLI_OPT("threads", 0, CLI_OPT_U32, &p->nr_threads, "NUM",
			"threads, each with its own controller (default 1)"),
		CLI_OPT("cpumask", 0, CLI_OPT_STR, &cpumask, "MASK",
			"a thread on each CPU of MASK (hex 0x3, list [0,2-3])"),
		CLI_OPT("namespace-id", 'n', CLI_OPT_U32, &p->nsid, "NSID",
			"namespace (default: the first active)"),
		CLI_FLAG("json", 0, &p->json, "print the results as JSON"),
		CLI_END,
	};
	struct sigaction sa = { .sa_handler = perf_on_signal }, old_int, old_term;
	struct rusage ru0, ru1;
	uint32_t started = 0;
	uint64_t errors = 0, ios = 0;
	int first_error = 0, ret;
	bool failed = false;

	ret = cli_parse(ctx, argc, argv, opts);
	if (ret != CLI_PROCEED)
		return ret;
	if (ctx->fmt == CLI_FMT_JSON)
		p->json = true;
	if (!cli_opt_seen(opts, "io-depth"))
		p->depth = 32;
	if (!cli_opt_seen(opts, "io-size"))
		p->io_size = 4096;
	if (!p->time_s)
		p->time_s = 10;
	if (!cli_opt_seen(opts, "queues"))
		p->queues = 1;
	if (cpumask) {
		if (nvmf_cpumask_parse_usable(cpumask, &cpu_set, why, sizeof(why)))
			return cli_usage_error(ctx, "--cpumask: %s", why);
		nr_cpus = nvmf_cpumask_to_array(&cpu_set, cpus, PERF_MAX_THREADS);
		if (nr_cpus > PERF_MAX_THREADS)
			return cli_usage_error(ctx, "--cpumask %s: %u CPUs, at most %u threads",
					       cpumask, nr_cpus, PERF_MAX_THREADS);
		if (cli_opt_seen(opts, "threads") && p->nr_threads != nr_cpus)
			return cli_usage_error(ctx,
					       "--threads %u disagrees with --cpumask %s, which "
					       "has %u CPU(s): one thread runs on each",
					       p->nr_threads, cpumask, nr_cpus);
		p->nr_threads = nr_cpus;
	} else if (!cli_opt_seen(opts, "threads")) {
		p->nr_threads = 1;
	}
	if (parse_pattern(p, pattern))
		return cli_usage_error(ctx, "unknown I/O pattern '%s'", pattern);
	if (p->rwmixread < 0) {
		if (rwmix < 0 || rwmix > 100)
			return cli_usage_error(ctx, "-M takes a percentage, 0..100");
		p->rwmixread = rwmix;
	} else if (cli_opt_seen(opts, "rwmixread")) {
		return cli_usage_error(ctx, "-M goes with -w rw or randrw");
	}
	if (!p->depth || p->depth > PERF_MAX_DEPTH || !p->io_size || p->io_size > (1u << 24) ||
	    !p->queues || p->queues > 128 || !p->nr_threads || p->nr_threads > PERF_MAX_THREADS)
		return cli_usage_error(ctx,
				       "out of range: -q 1..%u, -o 1..16M, -t >= 1, -c 1..128, "
				       "--threads 1..%u",
				       PERF_MAX_DEPTH, PERF_MAX_THREADS);
	ret = cli_prepare(ctx, &p->opts);
	if (ret != CLI_PROCEED)
		return ret;

	p->threads = calloc(p->nr_threads, sizeof(*p->threads));
	if (!p->threads)
		return cli_result(ctx, -ENOMEM, "perf");
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);

	if (!p->json)
		printf("Initializing NVMe Controllers\n");
	for (; started < p->nr_threads; started++) {
		struct perf_thread *t = &p->threads[started];

		t->p = p;
		t->idx = started;
		t->cpu = nr_cpus ? cpus[started] : -1;
		ret = start_thread(t);
		if (ret) {
			fprintf(stderr, "perf: cannot start thread %u: %s\n", started,
				strerror(ret));
			failed = true;
			break;
		}
	}
	pthread_mutex_lock(&p->lock);
	while (p->nr_ready < started)
		pthread_cond_wait(&p->cond, &p->lock);
	for (uint32_t i = 0; i < started; i++)
		if (p->threads[i].setup_ret)
			failed = true;
	if (failed) {
		atomic_store(&p->abort, true);
	} else if (!p->json) {
		for (uint32_t i = 0; i < p->nr_threads; i++) {
			printf("Associating %s (%s %s) NSID %u with thread %u",
			       !strcmp(p->opts.trtype, "loop") ? "LOOP" : "TCP", ctx->devname,
			       ctx->subnqn, p->threads[i].nsid, i);
			if (p->threads[i].cpu >= 0)
				printf(" on CPU %d", p->threads[i].cpu);
			printf("\n");
		}
		printf("Initialization complete. Launching workers.\n");
		fflush(stdout);
	}
	getrusage(RUSAGE_SELF, &ru0);
	p->start_ns = now_ns();
	p->deadline_ns = p->start_ns + (uint64_t)p->time_s * 1000000000ull;
	p->go = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	if (!failed)
		progress(p, p->json ? stderr : stdout);
	for (uint32_t i = 0; i < started; i++)
		pthread_join(p->threads[i].tid, NULL);
	getrusage(RUSAGE_SELF, &ru1);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	if (failed) {
		ret = CLI_EXIT_FAIL;
		goto out;
	}
	report(p, &ru0, &ru1);
	for (uint32_t i = 0; i < p->nr_threads; i++) {
		errors += p->threads[i].errors;
		ios += p->threads[i].hist.count;
		if (!first_error)
			first_error = p->threads[i].first_error;
	}
	ret = CLI_EXIT_OK;
	if (errors) {
		fprintf(stderr, "perf: %llu I/O error(s), the first: ", (unsigned long long)errors);
		ret = cli_result(ctx, first_error ? first_error : -EIO, "I/O");
	} else if (!ios) {
		fprintf(stderr, "perf: no I/O completed\n");
		ret = CLI_EXIT_FAIL;
	}
out:
	for (uint32_t i = 0; i < p->nr_threads; i++) {
		free(p->threads[i].ios);
		free(p->threads[i].bufs);
	}
	free(p->threads);
	return ret;
}
