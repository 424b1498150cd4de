// SPDX-License-Identifier: MIT
/*
 * mpath_io: a fio-like data verifier over a libnvmf multipath host subsystem. It connects
 * one path per --path to the same NVM subsystem, then keeps --qd I/Os in flight on one
 * namespace head (nvmf_host_mpath_submit_io(), polled from this one thread) until the run
 * time is over, SIGTERM/SIGINT arrives or the --stop-file appears; then it drains, reads
 * back every block it knows and prints a summary.
 *
 * Data. The working set is --blocks blocks of --bs bytes from LBA 0. Every write carries a
 * new generation number (one counter for the whole run) and a payload computed from (block,
 * generation, per-run seed): each 512-byte chunk opens with a header naming them, so that a
 * mismatch says what was found instead (a stale generation, another block, another run).
 * The generation of the last acknowledged write of each block is kept in memory; a read is
 * checked against it. A write that completes with an error leaves its block "unknown" (not
 * read back) until it is written again. There is never more than one command on a block.
 * Every buffer and slot is allocated at start-up; the I/O loop allocates nothing.
 *
 * Output. Once a second a progress line on stderr, key=value words:
 *   mpath_io: progress t=3.0 ios=1200 writes=600 reads=600 errors=0 mismatches=0
 *     inflight=16 p0.state=live p0.ana=optimized p0.submitted=610 p0.failovers=0 p1...
 * and at the end one JSON object on stdout: ios, writes, reads, errors (completions with a
 * non-zero status, and refusals), submit_errors (the refusals: nvmf_host_mpath_submit_io()
 * returned neither 0 nor -EAGAIN), mismatches, verify_reads (the final read-back),
 * max_latency_ms, avg_latency_ms (submission to completion, failovers included), seed,
 * iopolicy, runtime_s, error_samples (the first few errors and mismatches, as text) and
 * paths[{traddr, trsvcid, cntlid, submitted, failovers, state, ana_state}] in --path order
 * (nvmf_host_subsys_paths(); state "removed" if the subsystem no longer lists the path).
 * ios counts completed I/Os (the final read-back included), successful or not.
 *
 * Exit status: 0 if errors == 0, mismatches == 0 and ios > 0; 1 otherwise; 2 for bad
 * options or a failed setup (a path that cannot be connected, no such namespace).
 */
#include <nvmf/host.h>

#include "common/ana.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MPIO_MAX_PATHS 16
#define MPIO_CHUNK 512			 /* bytes per self-describing chunk of a block's payload */
#define MPIO_MAGIC 0x6d70617468696f31ull /* "mpathio1" */
#define MPIO_ERROR_SAMPLES 8
#define MPIO_ERRORS_LOGGED 20
#define MPIO_PROGRESS_NS 1000000000ull
#define MPIO_HEAD_WAIT_MS 30000

struct mpio_path_cfg {
	char traddr[256];
	char trsvcid[32];
	struct nvmf_host_ctrl *ctrl;
	struct nvmf_host_path_info last; /* last snapshot, kept if the path disappears */
	bool seen;
};

/* One I/O slot: the SQE and buffer stay the library's to use until io_done() runs. */
struct mpio_slot {
	struct nvme_sqe sqe;
	struct mpio *m;
	uint8_t *buf;
	uint64_t block;
	uint64_t gen; /* a write: the generation written; a read: the one expected */
	uint64_t t0_ns;
	bool write;
	int next_free;
};

struct mpio {
	/* options */
	const char *subnqn;
	const char *hostnqn;
	const char *stop_file;
	struct mpio_path_cfg paths[MPIO_MAX_PATHS];
	unsigned int nr_paths;
	uint32_t nsid;
	enum nvmf_host_iopolicy iopolicy;
	unsigned int qd;
	uint32_t bs;
	uint64_t blocks;
	unsigned int runtime_s;
	unsigned int read_pct;
	int reconnect_delay_s;
	int ctrl_loss_tmo_s;
	int fast_io_fail_tmo_s;
	unsigned int delayed_removal_s;
	unsigned int io_timeout_ms;
	unsigned int nr_io_queues;
	unsigned int drain_timeout_s;
	bool hdgst, ddgst;
	bool final_verify;
	uint64_t seed;

	/* run state */
	struct nvmf_host_subsys *s;
	struct nvmf_host_path_info *info; /* nr_info entries, for nvmf_host_subsys_paths() */
	size_t nr_info;
	uint8_t lba_shift;
	uint32_t nlb;  /* LBAs per block */
	uint64_t *gen; /* per block: generation of the last acknowledged write, 0 = unknown */
	uint8_t *busy; /* per block: a command is in flight on it */
	struct mpio_slot *slots;
	int free_slot;
	unsigned int inflight;
	uint64_t next_gen;
	uint64_t rng;
	uint64_t t_start_ns;

	/* counters */
	uint64_t ios, writes, reads, errors, submit_errors, mismatches, verify_reads;
	uint64_t lat_max_ns, lat_sum_ns;
	char samples[MPIO_ERROR_SAMPLES][192];
	unsigned int nr_samples;
};

static volatile sig_atomic_t stop_signals;

static void on_signal(int sig)
{
	(void)sig;
	stop_signals++;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t rnd(struct mpio *m)
{
	/* xorshift64*: the state is never 0 (seeded with a non-zero mix) */
	m->rng ^= m->rng >> 12;
	m->rng ^= m->rng << 25;
	m->rng ^= m->rng >> 27;
	return m->rng * 0x2545f4914f6cdd1dull;
}

/* The 8-byte word @i (counted from the start of the block) of (@block, @gen)'s payload. */
static uint64_t pattern_word(uint64_t key, uint64_t i)
{
	return mix64(key ^ (i * 0xd6e8feb86659fd93ull));
}

static uint64_t pattern_key(const struct mpio *m, uint64_t block, uint64_t gen)
{
	return mix64(m->seed ^ mix64(block ^ mix64(gen)));
}

/* Each MPIO_CHUNK bytes: magic, seed, block, generation, then pattern words. */
static void pattern_fill(const struct mpio *m, uint8_t *buf, uint64_t block, uint64_t gen)
{
	uint64_t key = pattern_key(m, block, gen);
	size_t words = m->bs / 8, per_chunk = MPIO_CHUNK / 8;
	uint64_t *w = (uint64_t *)buf;

	for (size_t i = 0; i < words; i++) {
		switch (i % per_chunk) {
		case 0:
			w[i] = MPIO_MAGIC;
			break;
		case 1:
			w[i] = m->seed;
			break;
		case 2:
			w[i] = block;
			break;
		case 3:
			w[i] = gen;
			break;
		default:
			w[i] = pattern_word(key, i);
		}
	}
}

static void sample(struct mpio *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Log the first errors to stderr and keep a few for the summary; allocates nothing. */
static void sample(struct mpio *m, const char *fmt, ...)
{
	char line[192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (m->errors + m->mismatches <= MPIO_ERRORS_LOGGED)
		fprintf(stderr, "mpath_io: %s\n", line);
	if (m->nr_samples < MPIO_ERROR_SAMPLES)
		memcpy(m->samples[m->nr_samples++], line, sizeof(line));
}

/*
 * Compare the block read into @buf with (@block, @gen). Return: true if it matches; else
 * false, with a line saying what the first differing chunk holds instead.
 */
static bool pattern_check(struct mpio *m, const uint8_t *buf, uint64_t block, uint64_t gen)
{
	uint64_t key = pattern_key(m, block, gen);
	size_t words = m->bs / 8, per_chunk = MPIO_CHUNK / 8;
	const uint64_t *w = (const uint64_t *)buf;

	for (size_t i = 0; i < words; i++) {
		size_t j = i % per_chunk;
		uint64_t want = j == 0	 ? MPIO_MAGIC
				: j == 1 ? m->seed
				: j == 2 ? block
				: j == 3 ? gen
					 : pattern_word(key, i);
		const uint64_t *h = w + (i - j);

		if (w[i] == want)
			continue;
		if (h[0] != MPIO_MAGIC)
			sample(m,
			       "mismatch: block %" PRIu64 " byte %zu: expected generation %" PRIu64
			       ", found data not written by mpath_io",
			       block, i * 8, gen);
		else if (h[1] != m->seed)
			sample(m,
			       "mismatch: block %" PRIu64 " byte %zu: expected generation %" PRIu64
			       ", found block %" PRIu64 " generation %" PRIu64
			       " of another run (seed %" PRIu64 ")",
			       block, i * 8, gen, h[2], h[3], h[1]);
		else
			sample(m,
			       "mismatch: block %" PRIu64 " byte %zu: expected generation %" PRIu64
			       ", found block %" PRIu64 " generation %" PRIu64 "%s",
			       block, i * 8, gen, h[2], h[3],
			       h[2] == block && h[3] == gen ? " (torn or corrupt payload)" : "");
		return false;
	}
	return true;
}

static void status_str(int status, char *out, size_t len)
{
	if (status < 0)
		snprintf(out, len, "%s (-%d)", strerror(-status), -status);
	else
		snprintf(out, len, "NVMe status 0x%x (SCT %x SC 0x%02x%s%s)", status,
			 (status & NVME_SCT_MASK) >> 8, status & NVME_SC_MASK,
			 status & NVME_STATUS_DNR ? " DNR" : "",
			 status & NVME_STATUS_MORE ? " More" : "");
}

static void slot_put(struct mpio *m, struct mpio_slot *sl)
{
	m->busy[sl->block] = 0;
	sl->next_free = m->free_slot;
	m->free_slot = (int)(sl - m->slots);
}

/* nvmf_host_cb of every I/O: account, verify a read, update the block's known generation */
static void io_done(void *arg, int status, const struct nvme_cqe *cqe)
{
	struct mpio_slot *sl = arg;
	struct mpio *m = sl->m;
	uint64_t lat = now_ns() - sl->t0_ns;
	char st[96];

	(void)cqe;
	m->inflight--;
	m->ios++;
	if (sl->write)
		m->writes++;
	else
		m->reads++;
	m->lat_sum_ns += lat;
	if (lat > m->lat_max_ns)
		m->lat_max_ns = lat;
	if (status) {
		m->errors++;
		status_str(status, st, sizeof(st));
		sample(m, "%s of block %" PRIu64 " (generation %" PRIu64 ") failed: %s",
		       sl->write ? "write" : "read", sl->block, sl->gen, st);
		if (sl->write)
			m->gen[sl->block] = 0; /* it may or may not have landed */
	} else if (sl->write) {
		m->gen[sl->block] = sl->gen;
	} else if (!pattern_check(m, sl->buf, sl->block, sl->gen)) {
		m->mismatches++;
		m->gen[sl->block] = 0; /* counted once; rewritten before it is read again */
	}
	slot_put(m, sl);
}

/*
 * Send one I/O on @block. Return: 0 if queued, -EAGAIN if the subsystem has no room now
 * (nothing was sent), or the refusal (counted as an error).
 */
static int submit(struct mpio *m, uint64_t block, bool write)
{
	struct mpio_slot *sl;
	uint64_t slba;
	char st[96];
	int rc;

	if (m->free_slot < 0)
		return -EAGAIN;
	sl = &m->slots[m->free_slot];
	m->free_slot = sl->next_free;
	m->busy[block] = 1;
	sl->block = block;
	sl->write = write;
	sl->gen = write ? ++m->next_gen : m->gen[block];
	if (write)
		pattern_fill(m, sl->buf, block, sl->gen);
	slba = block * m->nlb;
	memset(&sl->sqe, 0, sizeof(sl->sqe));
	sl->sqe.opcode = write ? nvme_cmd_write : nvme_cmd_read;
	sl->sqe.nsid = m->nsid;
	sl->sqe.cdw10 = (uint32_t)slba;
	sl->sqe.cdw11 = (uint32_t)(slba >> 32);
	sl->sqe.cdw12 = m->nlb - 1;
	sl->t0_ns = now_ns();
	m->inflight++;
	rc = nvmf_host_mpath_submit_io(m->s, &sl->sqe, sl->buf, m->bs, io_done, sl);
	if (rc == 0)
		return 0;
	m->inflight--;
	slot_put(m, sl);
	if (rc == -EAGAIN)
		return rc;
	/* refused before anything was sent: the block keeps what it had */
	m->errors++;
	m->submit_errors++;
	status_str(rc, st, sizeof(st));
	sample(m, "%s of block %" PRIu64 " refused: %s", write ? "write" : "read", block, st);
	return rc;
}

/* the ANA state's name, "none" before the first ANA log read */
static const char *ana_name(uint8_t state)
{
	return state ? nvmf_ana_state_name(state) : "none";
}

/* Refresh every configured path's snapshot from the subsystem (by address). */
static void paths_snapshot(struct mpio *m)
{
	size_t n = nvmf_host_subsys_paths(m->s, m->nsid, m->info, m->nr_info);

	if (n > m->nr_info)
		n = m->nr_info;
	for (unsigned int p = 0; p < m->nr_paths; p++) {
		struct mpio_path_cfg *pc = &m->paths[p];

		pc->seen = false;
		for (size_t i = 0; i < n; i++) {
			if (strcmp(m->info[i].traddr, pc->traddr) ||
			    strcmp(m->info[i].trsvcid, pc->trsvcid))
				continue;
			pc->last = m->info[i];
			pc->seen = true;
			break;
		}
	}
}

static const char *path_state(const struct mpio_path_cfg *pc)
{
	return pc->seen ? nvmf_host_ctrl_state_name(pc->last.state) : "removed";
}

static void progress(struct mpio *m)
{
	char line[2048];
	int len;

	paths_snapshot(m);
	len = snprintf(line, sizeof(line),
		       "mpath_io: progress t=%.1f ios=%" PRIu64 " writes=%" PRIu64 " reads=%" PRIu64
		       " errors=%" PRIu64 " mismatches=%" PRIu64 " inflight=%u",
		       (double)(now_ns() - m->t_start_ns) / 1e9, m->ios, m->writes, m->reads,
		       m->errors, m->mismatches, m->inflight);
	for (unsigned int p = 0; p < m->nr_paths && len > 0 && (size_t)len < sizeof(line); p++) {
		const struct mpio_path_cfg *pc = &m->paths[p];

		len += snprintf(line + len, sizeof(line) - (size_t)len,
				" p%u.state=%s p%u.ana=%s p%u.submitted=%" PRIu64
				" p%u.failovers=%" PRIu64,
				p, path_state(pc), p, ana_name(pc->last.ana_state), p,
				pc->last.submitted, p, pc->last.failovers);
	}
	fprintf(stderr, "%s\n", line);
}

static bool stop_file_exists(const struct mpio *m)
{
	struct stat st;

	return m->stop_file && stat(m->stop_file, &st) == 0;
}

/* Poll once; a poll failure is fatal to the run (reported, the caller stops). */
static int poll_once(struct mpio *m, int timeout_ms)
{
	int rc = nvmf_host_subsys_poll(m->s, timeout_ms);

	if (rc < 0 && rc != -EINTR) {
		fprintf(stderr, "mpath_io: nvmf_host_subsys_poll: %s\n", strerror(-rc));
		return rc;
	}
	return 0;
}

/* Pick an idle block at random: probing from a random start always ends, qd < blocks. */
static uint64_t pick_block(struct mpio *m)
{
	uint64_t b = rnd(m) % m->blocks;

	while (m->busy[b])
		b = b + 1 == m->blocks ? 0 : b + 1;
	return b;
}

/* The timed (or signalled) mixed workload. Return: 0, or -errno if polling failed. */
static int run_workload(struct mpio *m)
{
	uint64_t next_progress = m->t_start_ns + MPIO_PROGRESS_NS;
	uint64_t end = m->runtime_s ? m->t_start_ns + m->runtime_s * 1000000000ull : UINT64_MAX;

	for (;;) {
		uint64_t now;

		while (m->inflight < m->qd) {
			uint64_t b = pick_block(m);
			bool write = !m->gen[b] || rnd(m) % 100 >= m->read_pct;

			/* no room (-EAGAIN) or a refusal: poll before trying again */
			if (submit(m, b, write))
				break;
		}
		if (poll_once(m, 10) < 0)
			return -EIO;
		now = now_ns();
		if (now >= next_progress) {
			progress(m);
			next_progress += MPIO_PROGRESS_NS;
			if (next_progress < now)
				next_progress = now + MPIO_PROGRESS_NS;
			if (stop_file_exists(m))
				break;
		}
		if (stop_signals || now >= end)
			break;
	}
	return 0;
}

/* Wait for every I/O to complete, up to drain_timeout_s. Return: true if none is left. */
static bool drain(struct mpio *m)
{
	uint64_t deadline = now_ns() + m->drain_timeout_s * 1000000000ull;
	uint64_t next_progress = now_ns() + MPIO_PROGRESS_NS;

	while (m->inflight) {
		if (poll_once(m, 10) < 0)
			return false;
		if (now_ns() >= next_progress) {
			progress(m);
			next_progress += MPIO_PROGRESS_NS;
		}
		if (now_ns() >= deadline) {
			fprintf(stderr, "mpath_io: %u I/Os still in flight after %u s\n",
				m->inflight, m->drain_timeout_s);
			return false;
		}
	}
	return true;
}

/* Read back every block with a known generation (qd at a time). */
static void final_verify(struct mpio *m)
{
	uint64_t deadline = now_ns() + m->drain_timeout_s * 1000000000ull;
	uint64_t reads0 = m->reads, b = 0;

	while (b < m->blocks || m->inflight) {
		while (b < m->blocks && m->inflight < m->qd) {
			if (!m->gen[b]) {
				b++;
				continue;
			}
			if (submit(m, b, false) == -EAGAIN)
				break;
			b++;
		}
		if (poll_once(m, 10) < 0 || stop_signals > 1 || now_ns() >= deadline)
			break;
	}
	drain(m);
	m->verify_reads = m->reads - reads0;
}

static struct json_object *summary(struct mpio *m, double runtime_s)
{
	struct json_object *o = json_object_new_object(), *arr = json_object_new_array();
	struct json_object *samples = json_object_new_array();

	json_object_object_add(o, "ios", json_object_new_int64((int64_t)m->ios));
	json_object_object_add(o, "writes", json_object_new_int64((int64_t)m->writes));
	json_object_object_add(o, "reads", json_object_new_int64((int64_t)m->reads));
	json_object_object_add(o, "errors", json_object_new_int64((int64_t)m->errors));
	json_object_object_add(o, "submit_errors",
			       json_object_new_int64((int64_t)m->submit_errors));
	json_object_object_add(o, "mismatches", json_object_new_int64((int64_t)m->mismatches));
	json_object_object_add(o, "verify_reads", json_object_new_int64((int64_t)m->verify_reads));
	json_object_object_add(o, "max_latency_ms",
			       json_object_new_double((double)m->lat_max_ns / 1e6));
	json_object_object_add(
		o, "avg_latency_ms",
		json_object_new_double(m->ios ? (double)m->lat_sum_ns / (double)m->ios / 1e6 : 0));
	json_object_object_add(o, "runtime_s", json_object_new_double(runtime_s));
	json_object_object_add(o, "seed", json_object_new_uint64(m->seed));
	json_object_object_add(o, "iopolicy",
			       json_object_new_string(nvmf_host_iopolicy_name(m->iopolicy)));
	for (unsigned int i = 0; i < m->nr_samples; i++)
		json_object_array_add(samples, json_object_new_string(m->samples[i]));
	json_object_object_add(o, "error_samples", samples);
	for (unsigned int p = 0; p < m->nr_paths; p++) {
		const struct mpio_path_cfg *pc = &m->paths[p];
		struct json_object *po = json_object_new_object();

		json_object_object_add(po, "traddr", json_object_new_string(pc->traddr));
		json_object_object_add(po, "trsvcid", json_object_new_string(pc->trsvcid));
		json_object_object_add(po, "cntlid", json_object_new_int(pc->last.cntlid));
		json_object_object_add(po, "submitted",
				       json_object_new_int64((int64_t)pc->last.submitted));
		json_object_object_add(po, "failovers",
				       json_object_new_int64((int64_t)pc->last.failovers));
		json_object_object_add(po, "state", json_object_new_string(path_state(pc)));
		json_object_object_add(po, "ana_state",
				       json_object_new_string(ana_name(pc->last.ana_state)));
		json_object_array_add(arr, po);
	}
	json_object_object_add(o, "paths", arr);
	return o;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: mpath_io --subnqn NQN --path ADDR:SVCID [--path ADDR:SVCID ...] [OPTIONS]\n"
		"  --nsid N               namespace (default 1)\n"
		"  --iopolicy P           numa, round-robin, queue-depth (default round-robin)\n"
		"  --qd N                 I/Os in flight (default 16)\n"
		"  --bs BYTES             bytes per I/O, a multiple of 512 and the LBA size "
		"(default 4096)\n"
		"  --blocks N             working set, blocks of --bs from LBA 0 (default 1024)\n"
		"  --read-pct N           share of reads among I/Os to written blocks (default "
		"50)\n"
		"  --runtime S            seconds (default 0: until SIGTERM/SIGINT or "
		"--stop-file)\n"
		"  --stop-file PATH       stop once PATH exists\n"
		"  --reconnect-delay S    reconnect_delay_s of every path (default the library's)\n"
		"  --ctrl-loss-tmo S      ctrl_loss_tmo_s (negative: forever)\n"
		"  --fast-io-fail S       fast_io_fail_tmo_s\n"
		"  --delayed-removal S    delayed_removal_secs of the subsystem (default 0)\n"
		"  --io-timeout-ms MS     io_timeout_ms of every path\n"
		"  --nr-io-queues N       I/O queues per path (default 1)\n"
		"  --hostnqn NQN          host NQN\n"
		"  --hdgst, --ddgst       request header / data digests\n"
		"  --drain-timeout S      longest wait for in-flight I/O at the end (default 120)\n"
		"  --no-final-verify      skip reading back every known block at the end\n"
		"  --seed N               payload seed (default from the clock)\n");
}

/* Strict unsigned parse of @s into @out within [@min, @max]. Return: 0 or -EINVAL. */
static int parse_u64(const char *name, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || *s == '-' || v < min || v > max) {
		fprintf(stderr,
			"mpath_io: --%s %s: expected an integer in %" PRIu64 "..%" PRIu64 "\n",
			name, s, min, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int parse_int(const char *name, const char *s, int *out)
{
	long v;
	char *end;

	errno = 0;
	v = strtol(s, &end, 0);
	if (errno || end == s || *end || v < -1000000 || v > 1000000) {
		fprintf(stderr, "mpath_io: --%s %s: expected an integer\n", name, s);
		return -EINVAL;
	}
	*out = (int)v;
	return 0;
}

/* "ADDR:SVCID" or "[IPv6]:SVCID" */
static int parse_path(struct mpio *m, const char *s)
{
	struct mpio_path_cfg *pc;
	const char *colon = strrchr(s, ':');
	const char *a = s;
	size_t alen;

	if (m->nr_paths == MPIO_MAX_PATHS) {
		fprintf(stderr, "mpath_io: at most %d paths\n", MPIO_MAX_PATHS);
		return -EINVAL;
	}
	if (!colon || colon == s || !colon[1]) {
		fprintf(stderr, "mpath_io: --path %s: expected ADDR:SVCID\n", s);
		return -EINVAL;
	}
	alen = (size_t)(colon - s);
	if (s[0] == '[') {
		if (alen < 3 || s[alen - 1] != ']') {
			fprintf(stderr, "mpath_io: --path %s: expected [IPv6]:SVCID\n", s);
			return -EINVAL;
		}
		a++;
		alen -= 2;
	}
	pc = &m->paths[m->nr_paths];
	if (alen >= sizeof(pc->traddr) || strlen(colon + 1) >= sizeof(pc->trsvcid)) {
		fprintf(stderr, "mpath_io: --path %s: too long\n", s);
		return -EINVAL;
	}
	memcpy(pc->traddr, a, alen);
	pc->traddr[alen] = '\0';
	strcpy(pc->trsvcid, colon + 1);
	m->nr_paths++;
	return 0;
}

static int parse_args(struct mpio *m, int argc, char **argv)
{
	enum {
		O_SUBNQN = 256,
		O_PATH,
		O_NSID,
		O_IOPOLICY,
		O_QD,
		O_BS,
		O_BLOCKS,
		O_READ_PCT,
		O_RUNTIME,
		O_STOP_FILE,
		O_RECONNECT,
		O_CTRL_LOSS,
		O_FAST_IO_FAIL,
		O_DELAYED_REMOVAL,
		O_IO_TIMEOUT,
		O_NR_IO_QUEUES,
		O_HOSTNQN,
		O_HDGST,
		O_DDGST,
		O_DRAIN,
		O_NO_VERIFY,
		O_SEED,
	};
	static const struct option longopts[] = {
		{ "subnqn", required_argument, NULL, O_SUBNQN },
		{ "path", required_argument, NULL, O_PATH },
		{ "nsid", required_argument, NULL, O_NSID },
		{ "iopolicy", required_argument, NULL, O_IOPOLICY },
		{ "qd", required_argument, NULL, O_QD },
		{ "bs", required_argument, NULL, O_BS },
		{ "blocks", required_argument, NULL, O_BLOCKS },
		{ "read-pct", required_argument, NULL, O_READ_PCT },
		{ "runtime", required_argument, NULL, O_RUNTIME },
		{ "stop-file", required_argument, NULL, O_STOP_FILE },
		{ "reconnect-delay", required_argument, NULL, O_RECONNECT },
		{ "ctrl-loss-tmo", required_argument, NULL, O_CTRL_LOSS },
		{ "fast-io-fail", required_argument, NULL, O_FAST_IO_FAIL },
		{ "delayed-removal", required_argument, NULL, O_DELAYED_REMOVAL },
		{ "io-timeout-ms", required_argument, NULL, O_IO_TIMEOUT },
		{ "nr-io-queues", required_argument, NULL, O_NR_IO_QUEUES },
		{ "hostnqn", required_argument, NULL, O_HOSTNQN },
		{ "hdgst", no_argument, NULL, O_HDGST },
		{ "ddgst", no_argument, NULL, O_DDGST },
		{ "drain-timeout", required_argument, NULL, O_DRAIN },
		{ "no-final-verify", no_argument, NULL, O_NO_VERIFY },
		{ "seed", required_argument, NULL, O_SEED },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int c, rc = 0;

	while (!rc && (c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case O_SUBNQN:
			m->subnqn = optarg;
			break;
		case O_PATH:
			rc = parse_path(m, optarg);
			break;
		case O_NSID:
			rc = parse_u64("nsid", optarg, 1, 0xfffffffe, &v);
			m->nsid = (uint32_t)v;
			break;
		case O_IOPOLICY:
			rc = nvmf_host_iopolicy_parse(optarg);
			if (rc < 0)
				fprintf(stderr,
					"mpath_io: --iopolicy %s: expected numa, round-robin or "
					"queue-depth\n",
					optarg);
			else
				m->iopolicy = (enum nvmf_host_iopolicy)rc;
			rc = rc < 0 ? rc : 0;
			break;
		case O_QD:
			rc = parse_u64("qd", optarg, 1, 4096, &v);
			m->qd = (unsigned int)v;
			break;
		case O_BS:
			rc = parse_u64("bs", optarg, MPIO_CHUNK, 1u << 20, &v);
			if (!rc && v % MPIO_CHUNK) {
				fprintf(stderr, "mpath_io: --bs %s: not a multiple of %d\n", optarg,
					MPIO_CHUNK);
				rc = -EINVAL;
			}
			m->bs = (uint32_t)v;
			break;
		case O_BLOCKS:
			rc = parse_u64("blocks", optarg, 2, 1ull << 32, &v);
			m->blocks = v;
			break;
		case O_READ_PCT:
			rc = parse_u64("read-pct", optarg, 0, 100, &v);
			m->read_pct = (unsigned int)v;
			break;
		case O_RUNTIME:
			rc = parse_u64("runtime", optarg, 0, 1000000, &v);
			m->runtime_s = (unsigned int)v;
			break;
		case O_STOP_FILE:
			m->stop_file = optarg;
			break;
		case O_RECONNECT:
			rc = parse_int("reconnect-delay", optarg, &m->reconnect_delay_s);
			break;
		case O_CTRL_LOSS:
			rc = parse_int("ctrl-loss-tmo", optarg, &m->ctrl_loss_tmo_s);
			break;
		case O_FAST_IO_FAIL:
			rc = parse_int("fast-io-fail", optarg, &m->fast_io_fail_tmo_s);
			break;
		case O_DELAYED_REMOVAL:
			rc = parse_u64("delayed-removal", optarg, 0, 1000000, &v);
			m->delayed_removal_s = (unsigned int)v;
			break;
		case O_IO_TIMEOUT:
			rc = parse_u64("io-timeout-ms", optarg, 0, UINT32_MAX, &v);
			m->io_timeout_ms = (unsigned int)v;
			break;
		case O_NR_IO_QUEUES:
			rc = parse_u64("nr-io-queues", optarg, 1, 64, &v);
			m->nr_io_queues = (unsigned int)v;
			break;
		case O_HOSTNQN:
			m->hostnqn = optarg;
			break;
		case O_HDGST:
			m->hdgst = true;
			break;
		case O_DDGST:
			m->ddgst = true;
			break;
		case O_DRAIN:
			rc = parse_u64("drain-timeout", optarg, 1, 1000000, &v);
			m->drain_timeout_s = (unsigned int)v;
			break;
		case O_NO_VERIFY:
			m->final_verify = false;
			break;
		case O_SEED:
			rc = parse_u64("seed", optarg, 0, UINT64_MAX, &v);
			m->seed = v;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (rc)
		return rc;
	if (optind < argc) {
		fprintf(stderr, "mpath_io: unexpected argument %s\n", argv[optind]);
		return -EINVAL;
	}
	if (!m->subnqn || !m->nr_paths) {
		fprintf(stderr, "mpath_io: --subnqn and at least one --path are required\n");
		usage(stderr);
		return -EINVAL;
	}
	if (m->qd >= m->blocks) {
		fprintf(stderr, "mpath_io: --qd %u needs more than %u --blocks\n", m->qd, m->qd);
		return -EINVAL;
	}
	return 0;
}

/* Connect every path. Return: 0, or the first failure (reported). */
static int connect_paths(struct mpio *m)
{
	struct nvmf_host_subsys_opts so = {
		.subnqn = m->subnqn,
		.iopolicy = m->iopolicy,
		.delayed_removal_secs = m->delayed_removal_s,
		.max_queued = m->qd,
	};
	char st[96];
	int rc;

	rc = nvmf_host_subsys_create(&so, &m->s);
	if (rc) {
		fprintf(stderr, "mpath_io: nvmf_host_subsys_create: %s\n", strerror(-rc));
		return rc;
	}
	for (unsigned int p = 0; p < m->nr_paths; p++) {
		struct mpio_path_cfg *pc = &m->paths[p];
		struct nvmf_host_opts o = {
			.trtype = "tcp",
			.traddr = pc->traddr,
			.trsvcid = pc->trsvcid,
			.subnqn = m->subnqn,
			.hostnqn = m->hostnqn,
			.hdgst = m->hdgst,
			.ddgst = m->ddgst,
			.nr_io_queues = m->nr_io_queues,
			.reconnect_delay_s = m->reconnect_delay_s,
			.ctrl_loss_tmo_s = m->ctrl_loss_tmo_s,
			.fast_io_fail_tmo_s = m->fast_io_fail_tmo_s,
			.io_timeout_ms = m->io_timeout_ms,
		};

		rc = nvmf_host_subsys_add_path(m->s, &o, &pc->ctrl);
		if (rc) {
			status_str(rc, st, sizeof(st));
			fprintf(stderr, "mpath_io: path %s:%s: %s\n", pc->traddr, pc->trsvcid, st);
			return rc;
		}
		fprintf(stderr, "mpath_io: path p%u %s:%s cntlid %u\n", p, pc->traddr, pc->trsvcid,
			nvmf_host_ctrl_cntlid(pc->ctrl));
	}
	return 0;
}

/*
 * Find the namespace head, check the block geometry against it and the paths' MDTS.
 * Return: 0, or -errno (reported).
 */
static int check_head(struct mpio *m)
{
	uint64_t deadline = now_ns() + MPIO_HEAD_WAIT_MS * 1000000ull;
	struct nvmf_host_head_info *heads = NULL;
	size_t n, max = 0;
	int rc = -ENODEV;

	for (;;) {
		n = nvmf_host_subsys_heads(m->s, heads, max);
		if (n > max) {
			free(heads);
			max = n;
			heads = calloc(max, sizeof(*heads));
			if (!heads)
				return -ENOMEM;
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			if (heads[i].nsid != m->nsid)
				continue;
			m->lba_shift = heads[i].lba_shift;
			if (m->bs % (1u << m->lba_shift)) {
				fprintf(stderr,
					"mpath_io: --bs %u is not a multiple of the LBA size %u\n",
					m->bs, 1u << m->lba_shift);
				rc = -EINVAL;
			} else if (m->blocks * (m->bs >> m->lba_shift) > heads[i].nsze) {
				fprintf(stderr,
					"mpath_io: --blocks %" PRIu64
					" of %u bytes exceed namespace %u"
					" (%" PRIu64 " LBAs of %u bytes)\n",
					m->blocks, m->bs, m->nsid, heads[i].nsze,
					1u << m->lba_shift);
				rc = -EINVAL;
			} else {
				m->nlb = m->bs >> m->lba_shift;
				rc = 0;
			}
			goto out;
		}
		if (now_ns() >= deadline) {
			fprintf(stderr, "mpath_io: no namespace head %u in %s\n", m->nsid,
				m->subnqn);
			goto out;
		}
		if (poll_once(m, 10) < 0) {
			rc = -EIO;
			goto out;
		}
	}
out:
	free(heads);
	if (rc)
		return rc;
	for (unsigned int p = 0; p < m->nr_paths; p++) {
		const struct nvme_id_ctrl *id = nvmf_host_ctrl_id(m->paths[p].ctrl);
		uint64_t mps = 4096ull << ((nvmf_host_ctrl_cap(m->paths[p].ctrl) >> 48) & 0xf);

		if (id && id->mdts && m->bs > (mps << id->mdts)) {
			fprintf(stderr,
				"mpath_io: --bs %u exceeds the MDTS of path %s:%s (%" PRIu64
				" bytes)\n",
				m->bs, m->paths[p].traddr, m->paths[p].trsvcid, mps << id->mdts);
			return -EINVAL;
		}
	}
	return 0;
}

static int alloc_run(struct mpio *m)
{
	m->nr_info = m->nr_paths + 8; /* room for paths added behind our back */
	m->info = calloc(m->nr_info, sizeof(*m->info));
	m->gen = calloc(m->blocks, sizeof(*m->gen));
	m->busy = calloc(m->blocks, 1);
	m->slots = calloc(m->qd, sizeof(*m->slots));
	if (!m->info || !m->gen || !m->busy || !m->slots)
		return -ENOMEM;
	m->free_slot = -1;
	for (unsigned int i = 0; i < m->qd; i++) {
		if (posix_memalign((void **)&m->slots[i].buf, 4096, m->bs))
			return -ENOMEM;
		memset(m->slots[i].buf, 0, m->bs);
		m->slots[i].m = m;
		m->slots[i].next_free = m->free_slot;
		m->free_slot = (int)i;
	}
	return 0;
}

static void free_run(struct mpio *m)
{
	if (m->slots)
		for (unsigned int i = 0; i < m->qd; i++)
			free(m->slots[i].buf);
	free(m->slots);
	free(m->busy);
	free(m->gen);
	free(m->info);
}

int main(int argc, char **argv)
{
	static struct mpio run = {
		.nsid = 1,
		.iopolicy = NVMF_IOPOLICY_ROUND_ROBIN,
		.qd = 16,
		.bs = 4096,
		.blocks = 1024,
		.read_pct = 50,
		.nr_io_queues = 1,
		.drain_timeout_s = 120,
		.final_verify = true,
	};
	struct mpio *m = &run;
	struct sigaction sa = { .sa_handler = on_signal };
	struct json_object *js;
	double runtime_s;
	int ret = 2;

	m->seed = mix64(now_ns() ^ ((uint64_t)getpid() << 32)) & 0xffffffffu;
	if (parse_args(m, argc, argv))
		return 2;
	m->rng = mix64(m->seed) | 1;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (alloc_run(m)) {
		fprintf(stderr, "mpath_io: out of memory\n");
		goto out_free;
	}
	if (connect_paths(m) || check_head(m))
		goto out_destroy;
	fprintf(stderr,
		"mpath_io: nsid %u, %" PRIu64 " blocks of %u bytes (%u LBAs), qd %u, iopolicy %s, "
		"seed %" PRIu64 "\n",
		m->nsid, m->blocks, m->bs, m->nlb, m->qd, nvmf_host_iopolicy_name(m->iopolicy),
		m->seed);

	m->t_start_ns = now_ns();
	if (run_workload(m) == 0 && drain(m) && m->final_verify)
		final_verify(m);
	runtime_s = (double)(now_ns() - m->t_start_ns) / 1e9;
	progress(m);
	/* what is still in flight (a drain that timed out) fails here and is counted */
	nvmf_host_subsys_destroy(m->s);
	m->s = NULL;
	js = summary(m, runtime_s);
	printf("%s\n", json_object_to_json_string_ext(js, JSON_C_TO_STRING_PLAIN));
	fflush(stdout);
	json_object_put(js);
	ret = m->errors == 0 && m->mismatches == 0 && m->ios > 0 ? 0 : 1;
	goto out_free;

out_destroy:
	if (m->s)
		nvmf_host_subsys_destroy(m->s);
out_free:
	free_run(m);
	return ret;
}
