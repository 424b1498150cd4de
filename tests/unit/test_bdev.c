// SPDX-License-Identifier: MIT
/*
 * Namespace backends (file, null, mem) driven the way the core drives them: requests built by
 * hand on one reactor whose loop runs in the test thread. Every operation is issued from a
 * message run inside the loop, and its completion stops the loop, so an asynchronous backend
 * finishes exactly as it would in the target. Data is checked against a shadow copy of the
 * namespace after every step.
 *
 * The file backend runs buffered, with direct I/O, on a file system that refuses O_DIRECT
 * (ramfs, mounted in a private mount namespace when we may), on tmpfs (no FALLOC_FL_ZERO_RANGE:
 * the write-zeroes fallback), on a 4 KiB-sector loop device when we may create one, and
 * finally without io_uring at all (io_uring_setup blocked by seccomp: the synchronous path).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "target/core.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/loop.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define KiB 1024u
#define MiB (1024u * 1024u)
#define NS_BYTES (1 * MiB)
#define BUF_BYTES (256 * KiB)
#define NR_REQS 32

enum op_kind { OP_READ, OP_WRITE, OP_FLUSH, OP_WRITE_ZEROES, OP_DISCARD };

struct op {
	enum op_kind kind;
	uint64_t off;
	uint64_t len;
	bool flag; /* FUA for writes, deallocate for Write Zeroes */
};

/* One backend configuration the I/O suite runs on. */
struct variant {
	const char *name;
	const struct nvmf_bdev_ops *ops;
	const char *dir;  /* file: where the backing file goes (NULL: skip, see why) */
	const char *why;  /* reason for skipping */
	const char *path; /* file: a fixed path (block device) instead of dir */
	uint64_t size_bytes;
	uint32_t block_size;
	bool buffered;
	int expect_buffered; /* -1: either */
	uint32_t expect_blksz;
	bool null_media; /* reads always return zeroes */
	bool discard_zeroes;
	bool regular; /* a regular file: holes and truncation can be checked */
	bool can_punch;
};

struct tctx {
	struct nvmf_reactor *r;
	struct nvmf_tgt_sq sq;
	struct nvmf_tgt_ns ns;
	struct nvmf_tgt_req reqs[NR_REQS];
	uint8_t *bufs; /* NR_REQS * BUF_BYTES, page-aligned */
	struct op ops[NR_REQS];
	int errs[NR_REQS];
	int calls[NR_REQS];
	unsigned int nr_ops;
	unsigned int nr_done;
	uint8_t *shadow; /* what the namespace must hold */
	char path[PATH_MAX];
	bool unlink_path;
	const struct variant *v;
};

static struct tctx *cur;
static char tmp_dir[PATH_MAX];	 /* mkdtemp under $TMPDIR or /tmp */
static char disk_dir[PATH_MAX];	 /* a directory where O_DIRECT works, ideally on a disk */
static char ramfs_dir[PATH_MAX]; /* ramfs in our private mount namespace, or "" */
static char shm_dir[PATH_MAX];	 /* under /dev/shm (tmpfs), or "" */
static char loop_path[64];	 /* a 4 KiB-sector loop device, or "" */
static int loop_fd = -1;
static const char *ramfs_why = "no file system refusing O_DIRECT and no way to mount ramfs";
static const char *loop_why = "cannot create a loop device (not root?)";

/* -------------------------------------------------------------------------------------- */
/* Running operations on the reactor */

static void end_io(struct nvmf_tgt_req *req, int err)
{
	unsigned int i = (unsigned int)(req - cur->reqs);

	cur->errs[i] = err;
	cur->calls[i]++;
	if (++cur->nr_done == cur->nr_ops)
		nvmf_reactor_stop(cur->r);
}

static void issue(void *arg)
{
	struct tctx *t = arg;
	const struct nvmf_bdev_ops *ops = t->ns.ops;
	unsigned int i, n = t->nr_ops;

	/* a synchronous backend may finish (and stop the loop) before the last is issued */
	for (i = 0; i < n; i++) {
		struct nvmf_tgt_req *req = &t->reqs[i];
		struct op *op = &t->ops[i];

		switch (op->kind) {
		case OP_READ:
		case OP_WRITE:
			ops->rw(req, op->kind == OP_WRITE, req->buf, op->off, (uint32_t)op->len,
				op->flag);
			break;
		case OP_FLUSH:
			ops->flush(req);
			break;
		case OP_WRITE_ZEROES:
			ops->write_zeroes(req, op->off, op->len, op->flag);
			break;
		case OP_DISCARD:
			ops->discard(req, op->off, op->len);
			break;
		}
	}
}

/* Run t->ops[0 .. n) concurrently; each must complete exactly once. */
static void run_ops(struct tctx *t, unsigned int n)
{
	unsigned int i;

	t->nr_ops = n;
	t->nr_done = 0;
	for (i = 0; i < n; i++) {
		t->errs[i] = 1;
		t->calls[i] = 0;
	}
	assert_int_equal(nvmf_reactor_send(t->r, issue, t), 0);
	alarm(60); /* a lost completion would hang the loop: die loudly instead */
	nvmf_reactor_run(t->r);
	alarm(0);
	assert_int_equal(t->nr_done, n);
	for (i = 0; i < n; i++)
		assert_int_equal(t->calls[i], 1);
}

static int run_one(struct tctx *t, enum op_kind kind, uint64_t off, uint64_t len, bool flag)
{
	t->ops[0] = (struct op){ .kind = kind, .off = off, .len = len, .flag = flag };
	run_ops(t, 1);
	return t->errs[0];
}

/* -------------------------------------------------------------------------------------- */
/* Data helpers */

static void pattern(uint8_t *p, uint64_t off, uint64_t len, unsigned int seed)
{
	uint64_t i;

	for (i = 0; i < len; i++) {
		uint64_t a = off + i;

		p[i] = (uint8_t)(seed * 37u + a * 131u + (a >> 9) * 7u + (a >> 17));
	}
}

static void do_write(struct tctx *t, uint64_t off, uint32_t len, unsigned int seed, bool fua)
{
	uint8_t *buf = t->reqs[0].buf;

	assert_true(len <= BUF_BYTES);
	pattern(buf, off, len, seed);
	assert_int_equal(run_one(t, OP_WRITE, off, len, fua), 0);
	if (t->v->null_media)
		return;
	memcpy(t->shadow + off, buf, len);
}

static void check_range(struct tctx *t, uint64_t off, uint64_t len)
{
	uint8_t *buf = t->reqs[0].buf;

	while (len) {
		uint32_t n = len < BUF_BYTES ? (uint32_t)len : BUF_BYTES;

		memset(buf, 0xa5, n); /* a read that touches nothing must not pass */
		assert_int_equal(run_one(t, OP_READ, off, n, false), 0);
		if (memcmp(buf, t->shadow + off, n)) {
			uint32_t i = 0;

			while (buf[i] == t->shadow[off + i])
				i++;
			fail_msg("%s: byte %llu reads %#x, expected %#x", t->v->name,
				 (unsigned long long)(off + i), buf[i], t->shadow[off + i]);
		}
		off += n;
		len -= n;
	}
}

static void check_all(struct tctx *t)
{
	check_range(t, 0, t->ns.size_bytes);
}

static uint64_t round_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

/* -------------------------------------------------------------------------------------- */
/* Fixtures */

static struct tctx *tctx_new(const struct variant *v)
{
	struct tctx *t = calloc(1, sizeof(*t));
	unsigned int i;

	assert_non_null(t);
	t->v = v;
	t->r = nvmf_reactor_create(0, 0);
	assert_non_null(t->r);
	t->bufs = mmap(NULL, (size_t)NR_REQS * BUF_BYTES, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(t->bufs != MAP_FAILED);
	t->sq.reactor = t->r;
	t->sq.qid = 1;
	t->ns.nsid = 1;
	t->ns.fd = -1;
	for (i = 0; i < NR_REQS; i++) {
		t->reqs[i].sq = &t->sq;
		t->reqs[i].ns = &t->ns;
		t->reqs[i].buf = t->bufs + (size_t)i * BUF_BYTES;
		t->reqs[i].buf_len = BUF_BYTES;
		t->reqs[i].bdev_end_io = end_io;
	}
	cur = t;
	return t;
}

static void tctx_free(struct tctx *t)
{
	if (t->ns.ops)
		t->ns.ops->close(&t->ns);
	if (t->unlink_path)
		unlink(t->path);
	free(t->shadow);
	munmap(t->bufs, (size_t)NR_REQS * BUF_BYTES);
	nvmf_reactor_destroy(t->r);
	cur = NULL;
	free(t);
}

static int open_ns(struct tctx *t, const struct nvmf_bdev_ops *ops, struct nvmf_tgt_ns_params *p)
{
	int ret = ops->open(&t->ns, p);

	if (!ret)
		t->ns.ops = ops;
	return ret;
}

/* Open @v's namespace: the shadow starts as what the media holds (zeroes for new storage). */
static int variant_setup(void **state)
{
	const struct variant *v = *state;
	struct nvmf_tgt_ns_params p = {
		.nsid = 1,
		.size_bytes = v->size_bytes,
		.block_size = v->block_size,
		.buffered = v->buffered,
	};
	struct tctx *t;

	if (v->ops == &nvmf_bdev_file_ops && !v->dir && !v->path) {
		/* leave *state alone: the test sees a variant and skips */
		return 0;
	}
	t = tctx_new(v);
	if (v->path) {
		snprintf(t->path, sizeof(t->path), "%s", v->path);
		p.path = t->path;
	} else if (v->dir) {
		snprintf(t->path, sizeof(t->path), "%s/ns-%s", v->dir, v->name);
		unlink(t->path);
		t->unlink_path = true;
		p.path = t->path;
	}
	assert_int_equal(open_ns(t, v->ops, &p), 0);
	assert_int_equal(1u << t->ns.blksz_shift, v->expect_blksz);
	if (v->expect_buffered >= 0)
		assert_int_equal(t->ns.buffered, v->expect_buffered);
	if (v->ops == &nvmf_bdev_file_ops) {
		int fl = fcntl(t->ns.fd, F_GETFL);

		assert_true(fl >= 0);
		assert_int_equal(!!(fl & O_DIRECT), !t->ns.buffered);
	}
	t->shadow = calloc(1, t->ns.size_bytes);
	assert_non_null(t->shadow);
	if (v->path) {
		/* a device keeps what earlier tests wrote: start from what it holds */
		uint64_t off;

		for (off = 0; off < t->ns.size_bytes; off += BUF_BYTES) {
			assert_int_equal(run_one(t, OP_READ, off, BUF_BYTES, false), 0);
			memcpy(t->shadow + off, t->reqs[0].buf, BUF_BYTES);
		}
	}
	*state = t;
	return 0;
}

static int variant_teardown(void **state)
{
	struct tctx *t = *state;

	if (t && t == cur)
		tctx_free(t);
	return 0;
}

/* cmocka 1.1 has skip() but no message: say why first */
static void skip_msg(const char *why) __attribute__((noreturn));
static void skip_msg(const char *why)
{
	print_message("[  SKIPPED ] %s\n", why);
	skip();
	abort();
}

static struct tctx *variant_ctx(void **state)
{
	struct tctx *t = *state;

	if (t != cur) {
		const struct variant *v = *state;

		skip_msg(v->why);
	}
	return t;
}

/* -------------------------------------------------------------------------------------- */
/* The I/O suite: every backend, every variant */

/* Reads and writes of one block, 4 KiB and 128 KiB at assorted offsets, checked as they go. */
static void test_rw(void **state)
{
	struct tctx *t = variant_ctx(state);
	uint64_t bs = 1u << t->ns.blksz_shift, size = t->ns.size_bytes;
	const uint64_t cases[][2] = {
		{ 0, bs },
		{ bs, bs },
		{ 3 * bs, 2 * bs },
		{ 4 * KiB, 4 * KiB },
		{ 12 * KiB, 4 * KiB },
		{ 128 * KiB, 128 * KiB },
		{ 64 * KiB, 128 * KiB },
		{ size - 128 * KiB, 128 * KiB },
		{ size - bs, bs },
	};
	uint64_t off;
	unsigned int i;

	/* fill everything first so that later zeroing has allocated data to remove */
	for (off = 0; off < size; off += BUF_BYTES)
		do_write(t, off, (uint32_t)(size - off < BUF_BYTES ? size - off : BUF_BYTES), 1,
			 false);
	check_all(t);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t o = round_up(cases[i][0], bs), l = round_up(cases[i][1], bs);

		if (o + l > size)
			o = size - l;
		do_write(t, o, (uint32_t)l, 2 + i, false);
		check_range(t, o, l);
	}
	check_all(t);
}

static void test_fua_flush(void **state)
{
	struct tctx *t = variant_ctx(state);
	uint64_t bs = 1u << t->ns.blksz_shift;

	do_write(t, round_up(64 * KiB, bs), (uint32_t)round_up(8 * KiB, bs), 7, true);
	do_write(t, 0, (uint32_t)bs, 8, true);
	assert_int_equal(run_one(t, OP_FLUSH, 0, 0, false), 0);
	check_all(t);
	do_write(t, round_up(256 * KiB, bs), (uint32_t)round_up(128 * KiB, bs), 9, false);
	assert_int_equal(run_one(t, OP_FLUSH, 0, 0, false), 0);
	check_all(t);
}

static void zero_shadow(struct tctx *t, uint64_t off, uint64_t len)
{
	memset(t->shadow + off, 0, (size_t)len);
}

static void fill_all(struct tctx *t, unsigned int seed)
{
	uint64_t off, size = t->ns.size_bytes;

	for (off = 0; off < size; off += BUF_BYTES)
		do_write(t, off, (uint32_t)(size - off < BUF_BYTES ? size - off : BUF_BYTES), seed,
			 false);
}

/* Is [off, off + len) of the backing regular file a hole (as SEEK_HOLE sees it)? */
static void assert_hole(struct tctx *t, uint64_t off, uint64_t len)
{
	off_t data = lseek(t->ns.fd, (off_t)off, SEEK_DATA);

	assert_int_equal(lseek(t->ns.fd, (off_t)off, SEEK_HOLE), (off_t)off);
	assert_true(data < 0 || (uint64_t)data >= off + len);
}

static void test_write_zeroes(void **state)
{
	struct tctx *t = variant_ctx(state);
	uint64_t bs = 1u << t->ns.blksz_shift;
	uint64_t a = round_up(256 * KiB, bs), b = round_up(512 * KiB, bs);
	struct stat before, after;

	fill_all(t, 11);
	if (t->v->regular) {
		/* on disk, so that st_blocks counts the data */
		assert_int_equal(run_one(t, OP_FLUSH, 0, 0, false), 0);
		assert_int_equal(fstat(t->ns.fd, &before), 0);
	}

	assert_int_equal(run_one(t, OP_WRITE_ZEROES, a, 128 * KiB, false), 0);
	zero_shadow(t, a, 128 * KiB);
	check_all(t);

	assert_int_equal(run_one(t, OP_WRITE_ZEROES, b, 192 * KiB, true), 0);
	zero_shadow(t, b, 192 * KiB);
	check_all(t);
	if (t->v->regular && t->v->can_punch) {
		assert_hole(t, b, 192 * KiB);
		assert_int_equal(fstat(t->ns.fd, &after), 0);
		assert_true(after.st_blocks < before.st_blocks);
	}

	/* one block, not page-aligned when blocks are small: partial pages, partial fs blocks */
	assert_int_equal(run_one(t, OP_WRITE_ZEROES, 5 * bs, bs, true), 0);
	zero_shadow(t, 5 * bs, bs);
	assert_int_equal(run_one(t, OP_WRITE_ZEROES, 9 * bs, 3 * bs, false), 0);
	zero_shadow(t, 9 * bs, 3 * bs);
	check_all(t);

	/* a zeroed range takes new data again */
	do_write(t, b + 64 * KiB, (uint32_t)round_up(16 * KiB, bs), 12, false);
	check_all(t);

	/* the whole namespace, larger than any one write */
	assert_int_equal(run_one(t, OP_WRITE_ZEROES, 0, t->ns.size_bytes, false), 0);
	zero_shadow(t, 0, t->ns.size_bytes);
	check_all(t);
}

static void test_discard(void **state)
{
	struct tctx *t = variant_ctx(state);
	uint64_t bs = 1u << t->ns.blksz_shift;
	uint64_t a = round_up(768 * KiB, bs);

	fill_all(t, 21);
	assert_int_equal(run_one(t, OP_DISCARD, a, 128 * KiB, false), 0);
	if (t->v->discard_zeroes)
		zero_shadow(t, a, 128 * KiB);
	check_all(t);
	if (t->v->regular && t->v->can_punch)
		assert_hole(t, a, 128 * KiB);
	assert_int_equal(run_one(t, OP_DISCARD, bs, bs, false), 0);
	if (t->v->discard_zeroes)
		zero_shadow(t, bs, bs);
	check_all(t);
}

/* NR_REQS writes in flight at once, then NR_REQS reads, then a mixed batch. */
static void test_concurrent(void **state)
{
	struct tctx *t = variant_ctx(state);
	uint64_t bs = 1u << t->ns.blksz_shift;
	uint32_t len = (uint32_t)round_up(8 * KiB, bs);
	unsigned int i, n = (unsigned int)(t->ns.size_bytes / len);

	if (n > NR_REQS)
		n = NR_REQS;
	for (i = 0; i < n; i++) {
		t->ops[i] = (struct op){
			.kind = OP_WRITE, .off = (uint64_t)i * len, .len = len, .flag = i & 1
		};
		pattern(t->reqs[i].buf, t->ops[i].off, len, 30 + i);
		if (!t->v->null_media)
			memcpy(t->shadow + t->ops[i].off, t->reqs[i].buf, len);
	}
	run_ops(t, n);
	for (i = 0; i < n; i++)
		assert_int_equal(t->errs[i], 0);
	for (i = 0; i < n; i++) {
		t->ops[i].kind = OP_READ;
		memset(t->reqs[i].buf, 0x5a, len);
	}
	run_ops(t, n);
	for (i = 0; i < n; i++) {
		assert_int_equal(t->errs[i], 0);
		assert_memory_equal(t->reqs[i].buf, t->shadow + t->ops[i].off, len);
	}
	/* disjoint ranges, so the order they finish in does not matter */
	t->ops[0] = (struct op){ .kind = OP_FLUSH };
	t->ops[1] = (struct op){ .kind = OP_WRITE_ZEROES, .off = len, .len = len, .flag = true };
	t->ops[2] = (struct op){ .kind = OP_WRITE_ZEROES, .off = 2 * len, .len = len };
	t->ops[3] = (struct op){ .kind = OP_WRITE, .off = 3 * len, .len = len, .flag = true };
	pattern(t->reqs[3].buf, 3 * len, len, 77);
	run_ops(t, 4);
	for (i = 0; i < 4; i++)
		assert_int_equal(t->errs[i], 0);
	zero_shadow(t, len, 2 * len);
	if (!t->v->null_media)
		memcpy(t->shadow + 3 * len, t->reqs[3].buf, len);
	check_all(t);
}

/* A regular file truncated under the namespace reads as zeroes past its end. */
static void test_short_file(void **state)
{
	struct tctx *t = variant_ctx(state);
	uint64_t bs = 1u << t->ns.blksz_shift;
	uint64_t a = round_up(128 * KiB, bs);
	uint32_t len = (uint32_t)round_up(32 * KiB, bs);

	if (!t->v->regular)
		skip_msg("not a regular file");
	do_write(t, a, len, 41, false);
	assert_int_equal(run_one(t, OP_FLUSH, 0, 0, false), 0);
	/* end of file inside a block (so inside a direct I/O granule), then on a block edge */
	assert_int_equal(ftruncate(t->ns.fd, (off_t)(a + 100)), 0);
	memset(t->shadow + a + 100, 0, t->ns.size_bytes - a - 100);
	check_range(t, a, len);
	check_range(t, a + len, 64 * KiB);
	assert_int_equal(ftruncate(t->ns.fd, (off_t)a), 0);
	memset(t->shadow + a, 0, 100);
	check_range(t, 0, a + len);
	/* writing past the end grows the file again */
	assert_int_equal(ftruncate(t->ns.fd, (off_t)t->ns.size_bytes), 0);
	do_write(t, a + bs, (uint32_t)bs, 42, true);
	check_all(t);
}

/* -------------------------------------------------------------------------------------- */
/* Two reactor threads on one namespace */

#define MT_REQS 16

struct mt_queue {
	struct nvmf_reactor *r;
	struct nvmf_tgt_sq sq;
	struct nvmf_tgt_req reqs[MT_REQS];
	struct op ops[MT_REQS];
	int errs[MT_REQS];
	unsigned int nr_ops;
	unsigned int nr_done; /* reactor thread only */
	sem_t done;	      /* posted by the reactor when all of ops[] completed */
};

static void mt_end_io(struct nvmf_tgt_req *req, int err)
{
	struct mt_queue *q = (struct mt_queue *)((char *)req->sq - offsetof(struct mt_queue, sq));

	q->errs[req - q->reqs] = err;
	if (++q->nr_done == q->nr_ops)
		sem_post(&q->done);
}

static void mt_issue(void *arg)
{
	struct mt_queue *q = arg;
	const struct nvmf_bdev_ops *ops = q->reqs[0].ns->ops;
	unsigned int i, n = q->nr_ops;

	q->nr_done = 0;
	for (i = 0; i < n; i++) {
		struct op *op = &q->ops[i];

		if (op->kind == OP_WRITE_ZEROES)
			ops->write_zeroes(&q->reqs[i], op->off, op->len, op->flag);
		else
			ops->rw(&q->reqs[i], op->kind == OP_WRITE, q->reqs[i].buf, op->off,
				(uint32_t)op->len, false);
	}
}

/* Run each queue's ops[] on its own reactor thread, all at once, and wait for both. */
static void mt_run(struct mt_queue *q, unsigned int nr_q)
{
	unsigned int i, j;

	for (i = 0; i < nr_q; i++)
		assert_int_equal(nvmf_reactor_send(q[i].r, mt_issue, &q[i]), 0);
	alarm(60);
	for (i = 0; i < nr_q; i++) {
		while (sem_wait(&q[i].done) && errno == EINTR)
			;
		for (j = 0; j < q[i].nr_ops; j++)
			assert_int_equal(q[i].errs[j], 0);
	}
	alarm(0);
}

/*
 * The namespace is opened on the test thread and used from two reactor threads at once (on
 * tmpfs both race to learn that FALLOC_FL_ZERO_RANGE is unsupported). Each queue owns half of
 * the namespace.
 */
static void test_two_reactors(void **state)
{
	const uint32_t len = 8 * KiB, half = NS_BYTES / 2;
	struct nvmf_tgt_ns_params p = { .nsid = 1, .size_bytes = NS_BYTES, .block_size = 4096 };
	struct nvmf_tgt_ns ns = { .fd = -1 };
	char path[PATH_MAX + 32];
	struct mt_queue q[2];
	uint8_t *bufs, *expect;
	unsigned int i, j;

	(void)state;
	snprintf(path, sizeof(path), "%s/two-reactors", shm_dir[0] ? shm_dir : tmp_dir);
	p.path = path;
	assert_int_equal(nvmf_bdev_file_ops.open(&ns, &p), 0);
	ns.ops = &nvmf_bdev_file_ops;
	bufs = mmap(NULL, 2 * MT_REQS * len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
	assert_true(bufs != MAP_FAILED);
	expect = malloc(len);
	assert_non_null(expect);
	memset(q, 0, sizeof(q));
	for (i = 0; i < 2; i++) {
		q[i].r = nvmf_reactor_create(i, 0);
		assert_non_null(q[i].r);
		q[i].sq.reactor = q[i].r;
		assert_int_equal(sem_init(&q[i].done, 0, 0), 0);
		for (j = 0; j < MT_REQS; j++) {
			q[i].reqs[j].sq = &q[i].sq;
			q[i].reqs[j].ns = &ns;
			q[i].reqs[j].buf = bufs + (i * MT_REQS + j) * len;
			q[i].reqs[j].buf_len = len;
			q[i].reqs[j].bdev_end_io = mt_end_io;
			q[i].ops[j] = (struct op){ .kind = OP_WRITE,
						   .off = i * half + j * len,
						   .len = len };
			pattern(q[i].reqs[j].buf, q[i].ops[j].off, len, 90);
		}
		q[i].nr_ops = MT_REQS;
		assert_int_equal(nvmf_reactor_start(q[i].r), 0);
	}
	mt_run(q, 2);

	/* zero the odd requests' ranges, half with deallocate, in one batch per queue */
	for (i = 0; i < 2; i++) {
		for (j = 0; j < MT_REQS / 2; j++)
			q[i].ops[j] = (struct op){ .kind = OP_WRITE_ZEROES,
						   .off = i * half + (2 * j + 1) * len,
						   .len = len,
						   .flag = j & 1 };
		q[i].nr_ops = MT_REQS / 2;
	}
	mt_run(q, 2);

	for (i = 0; i < 2; i++) {
		for (j = 0; j < MT_REQS; j++) {
			q[i].ops[j] = (struct op){ .kind = OP_READ,
						   .off = i * half + j * len,
						   .len = len };
			memset(q[i].reqs[j].buf, 0xa5, len);
		}
		q[i].nr_ops = MT_REQS;
	}
	mt_run(q, 2);
	for (i = 0; i < 2; i++) {
		for (j = 0; j < MT_REQS; j++) {
			if (j & 1)
				memset(expect, 0, len);
			else
				pattern(expect, i * half + j * len, len, 90);
			assert_memory_equal(q[i].reqs[j].buf, expect, len);
		}
	}

	for (i = 0; i < 2; i++) {
		nvmf_reactor_stop(q[i].r);
		nvmf_reactor_join(q[i].r);
		nvmf_reactor_destroy(q[i].r);
		sem_destroy(&q[i].done);
	}
	nvmf_bdev_file_ops.close(&ns);
	unlink(path);
	free(expect);
	munmap(bufs, 2 * MT_REQS * len);
}

/* -------------------------------------------------------------------------------------- */
/* Opening */

static int open_params(const struct nvmf_bdev_ops *ops, const char *path, uint64_t size,
		       uint32_t block_size, struct nvmf_tgt_ns *ns)
{
	struct nvmf_tgt_ns_params p = {
		.nsid = 1,
		.path = path,
		.size_bytes = size,
		.block_size = block_size,
	};

	memset(ns, 0, sizeof(*ns));
	ns->fd = -1;
	return ops->open(ns, &p);
}

static void check_geometry_rules(const struct nvmf_bdev_ops *ops, const char *path)
{
	static const uint32_t bad[] = { 1, 256, 511, 513, 1000, 4095, 6144, 131072, 1u << 31 };
	static const uint32_t good[] = { 0, 512, 1024, 4096, 8192, 65536 };
	struct nvmf_tgt_ns ns;
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(open_params(ops, path, NS_BYTES, bad[i], &ns), -EINVAL);
	if (path)
		assert_int_equal(access(path, F_OK), -1); /* rejected before creating anything */
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		uint32_t bs = good[i] ? good[i] : 512;

		assert_int_equal(open_params(ops, path, NS_BYTES + 100, good[i], &ns), 0);
		assert_int_equal(1u << ns.blksz_shift, bs);
		/* rounded down to whole blocks */
		assert_int_equal(ns.size_bytes, (NS_BYTES + 100) / bs * bs);
		assert_int_equal(nvmf_tgt_ns_nsze(&ns), (NS_BYTES + 100) / bs);
		ops->close(&ns);
		if (path)
			unlink(path);
	}
	/* smaller than one block; a file created for it is gone again */
	assert_int_equal(open_params(ops, path, 4095, 4096, &ns), -EINVAL);
	if (path)
		assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(open_params(ops, path, 511, 0, &ns), -EINVAL);
	if (path)
		assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(open_params(ops, path, 4096, 4096, &ns), 0);
	assert_int_equal(ns.size_bytes, 4096);
	ops->close(&ns);
	if (path)
		unlink(path);
}

static void test_open_null(void **state)
{
	struct nvmf_tgt_ns ns;

	(void)state;
	check_geometry_rules(&nvmf_bdev_null_ops, NULL);
	assert_int_equal(open_params(&nvmf_bdev_null_ops, NULL, 0, 0, &ns), -EINVAL);
	/* a large null namespace costs nothing */
	assert_int_equal(open_params(&nvmf_bdev_null_ops, NULL, 1ull << 50, 4096, &ns), 0);
	assert_int_equal(ns.size_bytes, 1ull << 50);
	nvmf_bdev_null_ops.close(&ns);
}

static void test_open_mem(void **state)
{
	struct nvmf_tgt_ns ns;

	(void)state;
	check_geometry_rules(&nvmf_bdev_mem_ops, NULL);
	assert_int_equal(open_params(&nvmf_bdev_mem_ops, NULL, 0, 0, &ns), -EINVAL);
	/* reserved, not committed: 64 GiB of namespace is only address space */
	assert_int_equal(open_params(&nvmf_bdev_mem_ops, NULL, 64ull << 30, 4096, &ns), 0);
	assert_non_null(ns.bdev);
	assert_int_equal(ns.size_bytes, 64ull << 30);
	nvmf_bdev_mem_ops.close(&ns);
	assert_null(ns.bdev);
}

static void test_open_file(void **state)
{
	char path[PATH_MAX + 32];
	struct nvmf_tgt_ns ns;
	struct stat st;
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/open", tmp_dir);
	check_geometry_rules(&nvmf_bdev_file_ops, path);

	/* missing file, no size to create it with */
	assert_int_equal(open_params(&nvmf_bdev_file_ops, path, 0, 0, &ns), -ENOENT);
	assert_int_equal(access(path, F_OK), -1);

	/* created sparse, mode 0644 */
	assert_int_equal(open_params(&nvmf_bdev_file_ops, path, 64 * MiB, 4096, &ns), 0);
	assert_int_equal(ns.size_bytes, 64 * MiB);
	assert_int_equal(ns.blksz_shift, 12);
	assert_true(ns.fd >= 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_size, 64 * MiB);
	assert_true(st.st_blocks * 512 < 64 * KiB);
	assert_int_equal(st.st_mode & 0777 & ~0022u, 0644 & ~0022u);
	nvmf_bdev_file_ops.close(&ns);
	assert_int_equal(ns.fd, -1);

	/* existing file: a smaller size is ignored, a larger one extends it, none uses it */
	assert_int_equal(open_params(&nvmf_bdev_file_ops, path, 1 * MiB, 0, &ns), 0);
	assert_int_equal(ns.size_bytes, 64 * MiB);
	nvmf_bdev_file_ops.close(&ns);
	assert_int_equal(open_params(&nvmf_bdev_file_ops, path, 80 * MiB + 1000, 0, &ns), 0);
	assert_int_equal(ns.size_bytes, 80 * MiB + 512);
	nvmf_bdev_file_ops.close(&ns);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 80 * MiB + 1000);
	assert_int_equal(open_params(&nvmf_bdev_file_ops, path, 0, 65536, &ns), 0);
	assert_int_equal(ns.size_bytes, 80 * MiB);
	nvmf_bdev_file_ops.close(&ns);
	unlink(path);

	/* existing but smaller than a block, and an empty one */
	fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "x", 1, 4000), 1);
	close(fd);
	assert_int_equal(open_params(&nvmf_bdev_file_ops, path, 0, 0, &ns), 0);
	assert_int_equal(ns.size_bytes, 3584);
	nvmf_bdev_file_ops.close(&ns);
	assert_int_equal(open_params(&nvmf_bdev_file_ops, path, 0, 4096, &ns), -EINVAL);
	assert_int_equal(truncate(path, 0), 0);
	assert_int_equal(open_params(&nvmf_bdev_file_ops, path, 0, 0, &ns), -EINVAL);
	unlink(path);

	/* not a file; no path */
	assert_int_equal(open_params(&nvmf_bdev_file_ops, tmp_dir, 0, 0, &ns), -EISDIR);
	assert_int_equal(open_params(&nvmf_bdev_file_ops, "/dev/null", 0, 0, &ns), -EINVAL);
	assert_int_equal(open_params(&nvmf_bdev_file_ops, NULL, NS_BYTES, 0, &ns), -EINVAL);
	assert_int_equal(open_params(&nvmf_bdev_file_ops, "", NS_BYTES, 0, &ns), -EINVAL);
	snprintf(path, sizeof(path), "%s/no/such/dir", tmp_dir);
	assert_int_equal(open_params(&nvmf_bdev_file_ops, path, NS_BYTES, 0, &ns), -ENOENT);
}

/* A block device: size and logical block size from the device, O_DIRECT. */
static void test_open_blkdev(void **state)
{
	struct nvmf_tgt_ns ns;

	(void)state;
	if (!loop_path[0])
		skip_msg(loop_why);
	/* a 512-byte LBA cannot sit on a 4 KiB-sector device: raised */
	assert_int_equal(open_params(&nvmf_bdev_file_ops, loop_path, 0, 512, &ns), 0);
	assert_int_equal(ns.blksz_shift, 12);
	assert_int_equal(ns.size_bytes, 4 * MiB);
	assert_false(ns.buffered);
	nvmf_bdev_file_ops.close(&ns);
	assert_int_equal(open_params(&nvmf_bdev_file_ops, loop_path, 0, 16384, &ns), 0);
	assert_int_equal(ns.blksz_shift, 14);
	nvmf_bdev_file_ops.close(&ns);
	/* the device cannot grow */
	assert_int_equal(open_params(&nvmf_bdev_file_ops, loop_path, 8 * MiB, 0, &ns), -EINVAL);
	assert_int_equal(open_params(&nvmf_bdev_file_ops, loop_path, 2 * MiB, 0, &ns), 0);
	assert_int_equal(ns.size_bytes, 4 * MiB);
	nvmf_bdev_file_ops.close(&ns);
}

/* -------------------------------------------------------------------------------------- */
/* Environment */

static bool dir_does_odirect(const char *dir)
{
	char path[PATH_MAX + 32];
	int fd;

	snprintf(path, sizeof(path), "%s/odirect-probe", dir);
	fd = open(path, O_CREAT | O_RDWR | O_DIRECT, 0644);
	if (fd >= 0)
		close(fd);
	unlink(path);
	return fd >= 0;
}

static bool dir_can_punch(const char *dir)
{
	char path[PATH_MAX + 32];
	static char data[64 * KiB];
	bool ok;
	int fd;

	snprintf(path, sizeof(path), "%s/punch-probe", dir);
	fd = open(path, O_CREAT | O_RDWR, 0644);
	if (fd < 0)
		return false;
	memset(data, 1, sizeof(data));
	ok = pwrite(fd, data, sizeof(data), 0) == (ssize_t)sizeof(data) &&
	     !fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, sizeof(data)) &&
	     lseek(fd, 0, SEEK_HOLE) == 0;
	close(fd);
	unlink(path);
	return ok;
}

static bool make_dir(char *out, const char *parent)
{
	char tmpl[PATH_MAX];

	snprintf(tmpl, sizeof(tmpl), "%s/nvmf-test-bdev.XXXXXX", parent);
	if (!mkdtemp(tmpl))
		return false;
	snprintf(out, PATH_MAX, "%s", tmpl);
	return true;
}

static bool write_file(const char *path, const char *text)
{
	ssize_t len = (ssize_t)strlen(text);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	bool ok = fd >= 0 && write(fd, text, (size_t)len) == len;

	if (fd >= 0)
		close(fd);
	return ok;
}

/* A mount namespace of our own; without privileges, inside a user namespace of our own. */
static bool unshare_mounts(void)
{
	unsigned int uid = geteuid(), gid = getegid();
	char map[64];

	if (!unshare(CLONE_NEWNS))
		return true;
	if (errno != EPERM || unshare(CLONE_NEWUSER | CLONE_NEWNS))
		return false;
	snprintf(map, sizeof(map), "0 %u 1", uid);
	if (!write_file("/proc/self/uid_map", map))
		return false;
	write_file("/proc/self/setgroups", "deny");
	snprintf(map, sizeof(map), "0 %u 1", gid);
	return write_file("/proc/self/gid_map", map);
}

/*
 * A file system that refuses O_DIRECT: ramfs, mounted in a mount namespace of our own so that
 * it vanishes with the process whatever happens. Needs CAP_SYS_ADMIN or user namespaces and,
 * because unsharing the mount namespace unshares the file system context, a process with one
 * thread so far.
 */
static void setup_ramfs(void)
{
	static const char *const candidates[] = { "/run", "/dev/shm", "/var/tmp", "/tmp" };
	char dir[PATH_MAX];
	unsigned int i;

	for (i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
		if (make_dir(dir, candidates[i])) {
			if (!dir_does_odirect(dir)) {
				snprintf(ramfs_dir, sizeof(ramfs_dir), "%s", dir);
				return;
			}
			rmdir(dir);
		}
	}
	if (!unshare_mounts()) {
		ramfs_why = "cannot unshare the mount namespace to mount ramfs";
		return;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) || !make_dir(dir, tmp_dir)) {
		ramfs_why = "cannot make a private mount point for ramfs";
		return;
	}
	if (mount("ramfs", dir, "ramfs", 0, "mode=0700")) {
		ramfs_why = "cannot mount ramfs";
		rmdir(dir);
		return;
	}
	if (dir_does_odirect(dir)) {
		ramfs_why = "ramfs takes O_DIRECT here";
		umount2(dir, MNT_DETACH);
		rmdir(dir);
		return;
	}
	snprintf(ramfs_dir, sizeof(ramfs_dir), "%s", dir);
}

/* A 4 MiB loop device with 4 KiB logical blocks; it goes away when loop_fd is closed. */
static void setup_loop(void)
{
	struct loop_config cfg = { .block_size = 4096 };
	char backing[PATH_MAX + 32];
	int ctl, bfd, n, tries;

	if (geteuid() != 0)
		return;
	snprintf(backing, sizeof(backing), "%s/loop-backing", tmp_dir);
	bfd = open(backing, O_CREAT | O_RDWR, 0600);
	if (bfd < 0)
		return;
	unlink(backing);
	if (ftruncate(bfd, 4 * MiB))
		goto out;
	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		goto out;
	for (tries = 0; tries < 8; tries++) {
		n = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (n < 0)
			break;
		snprintf(loop_path, sizeof(loop_path), "/dev/loop%d", n);
		loop_fd = open(loop_path, O_RDWR | O_CLOEXEC);
		if (loop_fd < 0)
			break;
		cfg.fd = (uint32_t)bfd;
		cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR;
		if (!ioctl(loop_fd, LOOP_CONFIGURE, &cfg))
			break;
		close(loop_fd); /* raced with another user: next free one */
		loop_fd = -1;
		if (errno != EBUSY)
			break;
	}
	close(ctl);
	if (loop_fd < 0)
		loop_path[0] = '\0';
out:
	close(bfd);
}

/* After this io_uring_setup fails with ENOSYS in this thread: the backends' synchronous path. */
static int deny_io_uring(void **state)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {
		.len = sizeof(filter) / sizeof(filter[0]),
		.filter = filter,
	};

	(void)state;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)) {
		print_message("cannot install a seccomp filter: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/* -------------------------------------------------------------------------------------- */

#define V_NULL(bs)                                                                                 \
	{                                                                                          \
		.name = "null-" #bs, .ops = &nvmf_bdev_null_ops, .size_bytes = NS_BYTES,           \
		.block_size = bs, .expect_buffered = -1, .expect_blksz = bs, .null_media = true,   \
		.discard_zeroes = true                                                             \
	}
#define V_MEM(bs)                                                                                  \
	{                                                                                          \
		.name = "mem-" #bs, .ops = &nvmf_bdev_mem_ops, .size_bytes = NS_BYTES,             \
		.block_size = bs, .expect_buffered = -1, .expect_blksz = bs,                       \
		.discard_zeroes = true                                                             \
	}

static struct variant v_null512 = V_NULL(512), v_null4k = V_NULL(4096);
static struct variant v_mem512 = V_MEM(512), v_mem4k = V_MEM(4096), v_mem64k = V_MEM(65536);
static struct variant v_file_buf, v_file_direct, v_file_direct4k, v_file_direct64k, v_file_shm,
	v_file_nodirect, v_file_loop, v_file_sync, v_file_sync_shm;

static void init_file_variant(struct variant *v, const char *name, const char *dir, uint32_t bs,
			      bool buffered)
{
	*v = (struct variant){
		.name = name,
		.ops = &nvmf_bdev_file_ops,
		.dir = dir && dir[0] ? dir : NULL,
		.why = "no such directory",
		.size_bytes = NS_BYTES,
		.block_size = bs,
		.buffered = buffered,
		.expect_buffered = buffered ? 1 : -1,
		.expect_blksz = bs,
		.regular = true,
	};
	if (v->dir) {
		v->can_punch = dir_can_punch(dir);
		v->discard_zeroes = v->can_punch;
		if (!buffered && dir_does_odirect(dir))
			v->expect_buffered = 0;
	}
}

/* one test per check and variant, named "<variant>: <check>" */
#define VTEST(v, f)                                                                                \
	{                                                                                          \
		.name = #v ": " #f, .test_func = f, .setup_func = variant_setup,                   \
		.teardown_func = variant_teardown, .initial_state = &v                             \
	}
#define SUITE(v)                                                                                   \
	VTEST(v, test_rw), VTEST(v, test_fua_flush), VTEST(v, test_write_zeroes),                  \
		VTEST(v, test_discard), VTEST(v, test_concurrent)
#define FILE_SUITE(v) SUITE(v), VTEST(v, test_short_file)

static void rm_dir(const char *dir)
{
	if (dir[0])
		rmdir(dir);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	int failed;

	if (!tmp || !tmp[0])
		tmp = "/tmp";
	if (!make_dir(tmp_dir, tmp)) {
		fprintf(stderr, "mkdtemp under %s: %s\n", tmp, strerror(errno));
		return 1;
	}
	/* direct I/O wants a disk file system; /var/tmp usually is one, /tmp may be tmpfs */
	if (!make_dir(disk_dir, "/var/tmp") || !dir_does_odirect(disk_dir)) {
		rm_dir(disk_dir);
		snprintf(disk_dir, sizeof(disk_dir), "%s", tmp_dir);
	}
	if (!make_dir(shm_dir, "/dev/shm"))
		shm_dir[0] = '\0';
	setup_ramfs();
	setup_loop();

	init_file_variant(&v_file_buf, "file-buffered", tmp_dir, 512, true);
	init_file_variant(&v_file_direct, "file-direct", disk_dir, 512, false);
	init_file_variant(&v_file_direct4k, "file-direct-4k", disk_dir, 4096, false);
	init_file_variant(&v_file_direct64k, "file-direct-64k", disk_dir, 65536, false);
	init_file_variant(&v_file_shm, "file-tmpfs", shm_dir, 4096, false);
	init_file_variant(&v_file_nodirect, "file-nodirect", ramfs_dir, 512, false);
	v_file_nodirect.why = ramfs_why;
	if (v_file_nodirect.dir)
		v_file_nodirect.expect_buffered = 1;
	init_file_variant(&v_file_loop, "file-blkdev", NULL, 0, false);
	if (loop_path[0]) {
		v_file_loop.path = loop_path;
		v_file_loop.size_bytes = 0;
		v_file_loop.expect_blksz = 4096;
		v_file_loop.expect_buffered = 0;
		v_file_loop.regular = false;
		v_file_loop.can_punch = true;
		v_file_loop.discard_zeroes = true;
	}
	v_file_loop.why = loop_why;
	init_file_variant(&v_file_sync, "file-sync", disk_dir, 512, false);
	init_file_variant(&v_file_sync_shm, "file-sync-tmpfs", shm_dir, 4096, false);

	const struct CMUnitTest open_tests[] = {
		cmocka_unit_test(test_open_null),
		cmocka_unit_test(test_open_mem),
		cmocka_unit_test(test_open_file),
		cmocka_unit_test(test_open_blkdev),
	};
	const struct CMUnitTest io_tests[] = {
		SUITE(v_null512),
		SUITE(v_null4k),
		SUITE(v_mem512),
		SUITE(v_mem4k),
		SUITE(v_mem64k),
		FILE_SUITE(v_file_buf),
		FILE_SUITE(v_file_direct),
		FILE_SUITE(v_file_direct4k),
		FILE_SUITE(v_file_direct64k),
		FILE_SUITE(v_file_shm),
		FILE_SUITE(v_file_nodirect),
		FILE_SUITE(v_file_loop),
		cmocka_unit_test(test_two_reactors),
	};
	const struct CMUnitTest sync_tests[] = {
		FILE_SUITE(v_file_sync),
		FILE_SUITE(v_file_sync_shm),
	};

	failed = cmocka_run_group_tests_name("bdev_open", open_tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("bdev_io", io_tests, NULL, NULL);
	/* last: the seccomp filter cannot be removed */
	failed += cmocka_run_group_tests_name("bdev_io_no_uring", sync_tests, deny_io_uring, NULL);

	if (loop_fd >= 0)
		close(loop_fd);
	if (ramfs_dir[0] && umount2(ramfs_dir, MNT_DETACH) && errno != EINVAL)
		fprintf(stderr, "umount %s: %s\n", ramfs_dir, strerror(errno));
	rm_dir(ramfs_dir);
	rm_dir(shm_dir);
	if (strcmp(disk_dir, tmp_dir))
		rm_dir(disk_dir);
	rm_dir(tmp_dir);
	return failed ? 1 : 0;
}
