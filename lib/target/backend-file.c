// SPDX-License-Identifier: MIT
/*
 * The file backend: a namespace on a regular file or a block device, driven asynchronously
 * through the calling reactor's io_uring (like nvmet's io-cmd-file.c and io-cmd-bdev.c in one).
 *
 * Every operation is a little state machine kept in req->bdev_io: one SQE at a time, the CQE
 * either finishes the operation or issues the next step (the rest of a short read or write,
 * the next chunk of zeroes, a weaker fallocate mode). Nothing is allocated and no lock is
 * taken per I/O; the only shared state is a few "the file system does not support this"
 * flags, set once and read relaxed.
 *
 * Direct I/O is used unless asked otherwise or impossible: the file system must accept
 * O_DIRECT and its granule (the device's logical block size) must not exceed the namespace's
 * block size. The core hands us page-aligned buffers and block-aligned offsets and lengths.
 */
#include "core.h"
#include "../common/log.h"

#include <fcntl.h>
#include <inttypes.h>
#include <liburing.h>
#include <linux/fs.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

/* Write Zeroes falls back to writing from this many bytes of zero pages (a multiple of any
 * block size; read-only anonymous memory, so it costs no RAM). */
#define FILE_ZERO_BUF_BYTES (1u << 20)

enum file_op {
	FILE_OP_READ,
	FILE_OP_WRITE,
	FILE_OP_WRITE_ZEROES, /* plain writes from the zero buffer */
	FILE_OP_FSYNC,
	FILE_OP_FALLOCATE,
};

/* req->bdev_io.flags: the fallocate mode in the low 16 bits, then these */
#define FILE_FL_MODE_MASK 0xffffu
#define FILE_FL_FUA (1u << 16)
#define FILE_FL_DISCARD (1u << 17) /* a hint: "unsupported" is success */

struct file_bdev {
	int fd;
	bool blkdev;
	bool direct;
	uint32_t blksz;
	void *zero_buf; /* FILE_ZERO_BUF_BYTES */
	uint32_t nsid;
	/* learned from EOPNOTSUPP, any reactor may set them; relaxed: they only skip a retry */
	atomic_bool no_punch_hole;
	atomic_bool no_zero_range;
	atomic_bool sync_warned;
};

static struct nvmf_tgt_req *uring_cb_to_req(struct nvmf_uring_cb *cb)
{
	return (struct nvmf_tgt_req *)((char *)cb - offsetof(struct nvmf_tgt_req, uring_cb));
}

/* -------------------------------------------------------------------------------------- */
/* I/O */

static void file_submit(struct nvmf_tgt_req *req);

/*
 * The block size that O_DIRECT offsets and lengths must be multiples of, for a regular file;
 * UINT32_MAX when the file system does no direct I/O (or wants more than page alignment
 * from buffers). Asks statx (Linux 6.1) and, failing that, the device under the file system.
 */
static uint32_t file_dio_align(int fd, const struct stat *st)
{
	char path[96];
	unsigned int lbs;
	FILE *f;
	int i;

#ifdef STATX_DIOALIGN
	struct statx stx;

	if (!statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) &&
	    (stx.stx_mask & STATX_DIOALIGN)) {
		if (!stx.stx_dio_offset_align ||
		    stx.stx_dio_mem_align > (uint32_t)sysconf(_SC_PAGESIZE))
			return UINT32_MAX;
		return stx.stx_dio_offset_align;
	}
#else
	(void)fd;
#endif
	/* a whole disk has queue/, a partition finds it one level up */
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/%squeue/logical_block_size",
			 major(st->st_dev), minor(st->st_dev), i ? "../" : "");
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fscanf(f, "%u", &lbs) != 1)
			lbs = 0;
		fclose(f);
		if (lbs)
			return lbs;
	}
	return 512;
}

/* Bytes of zeroes the next FILE_OP_WRITE_ZEROES step writes */
static uint32_t file_zero_chunk(const struct nvmf_bdev_io *io)
{
	return io->left < FILE_ZERO_BUF_BYTES ? (uint32_t)io->left : FILE_ZERO_BUF_BYTES;
}

/* Run the current step with a plain system call: the result as a CQE would carry it. */
static int file_exec_sync(struct file_bdev *fb, struct nvmf_tgt_req *req)
{
	struct nvmf_bdev_io *io = &req->bdev_io;
	struct iovec iov = { .iov_base = io->buf, .iov_len = (size_t)io->left };
	ssize_t ret;

	do {
		switch (io->op) {
		case FILE_OP_READ:
			ret = pread(fb->fd, io->buf, (size_t)io->left, (off_t)io->off);
			break;
		case FILE_OP_WRITE:
			ret = pwritev2(fb->fd, &iov, 1, (off_t)io->off,
				       io->flags & FILE_FL_FUA ? RWF_DSYNC : 0);
			break;
		case FILE_OP_WRITE_ZEROES:
			ret = pwrite(fb->fd, fb->zero_buf, file_zero_chunk(io), (off_t)io->off);
			break;
		case FILE_OP_FSYNC:
			ret = fdatasync(fb->fd);
			break;
		default:
			ret = fallocate(fb->fd, (int)(io->flags & FILE_FL_MODE_MASK),
					(off_t)io->off, (off_t)io->left);
			break;
		}
	} while (ret < 0 && errno == EINTR);
	return ret < 0 ? -errno : (int)ret;
}

static void file_prep(struct file_bdev *fb, struct nvmf_tgt_req *req, struct io_uring_sqe *sqe)
{
	struct nvmf_bdev_io *io = &req->bdev_io;

	switch (io->op) {
	case FILE_OP_READ:
		io_uring_prep_read(sqe, fb->fd, io->buf, (unsigned int)io->left, io->off);
		break;
	case FILE_OP_WRITE:
		io_uring_prep_write(sqe, fb->fd, io->buf, (unsigned int)io->left, io->off);
		if (io->flags & FILE_FL_FUA)
			sqe->rw_flags = RWF_DSYNC;
		break;
	case FILE_OP_WRITE_ZEROES:
		io_uring_prep_write(sqe, fb->fd, fb->zero_buf, file_zero_chunk(io), io->off);
		break;
	case FILE_OP_FSYNC:
		io_uring_prep_fsync(sqe, fb->fd, IORING_FSYNC_DATASYNC);
		break;
	default:
		io_uring_prep_fallocate(sqe, fb->fd, (int)(io->flags & FILE_FL_MODE_MASK),
					(off_t)io->off, (off_t)io->left);
		break;
	}
	io_uring_sqe_set_data(sqe, &req->uring_cb);
}

/* Zeroing, strongest first: punch a hole (deallocate), zero the range, write zeroes. */
static void file_zero_step(struct file_bdev *fb, struct nvmf_bdev_io *io, bool deallocate)
{
	if (deallocate && !atomic_load_explicit(&fb->no_punch_hole, memory_order_relaxed)) {
		io->op = FILE_OP_FALLOCATE;
		io->flags = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	} else if (!atomic_load_explicit(&fb->no_zero_range, memory_order_relaxed)) {
		io->op = FILE_OP_FALLOCATE;
		io->flags = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
	} else {
		io->op = FILE_OP_WRITE_ZEROES;
		io->flags = 0;
	}
}

/* A fallocate mode is unsupported: remember it and pick the next step. */
static bool file_falloc_unsupported(struct nvmf_tgt_req *req, struct file_bdev *fb)
{
	struct nvmf_bdev_io *io = &req->bdev_io;
	uint32_t mode = io->flags & FILE_FL_MODE_MASK;

	if (mode & FALLOC_FL_PUNCH_HOLE)
		atomic_store_explicit(&fb->no_punch_hole, true, memory_order_relaxed);
	else
		atomic_store_explicit(&fb->no_zero_range, true, memory_order_relaxed);
	if (io->flags & FILE_FL_DISCARD) {
		nvmf_bdev_complete(req, 0);
		return false;
	}
	file_zero_step(fb, io, false);
	return true;
}

/*
 * One step finished with @res (bytes or -errno). Either completes @req (and then must not
 * touch it again) or sets up the next step and returns true.
 */
static bool file_step_done(struct nvmf_tgt_req *req, int res)
{
	struct file_bdev *fb = req->ns->bdev;
	struct nvmf_bdev_io *io = &req->bdev_io;
	uint64_t done;

	if (res < 0) {
		if (io->op == FILE_OP_FALLOCATE && res == -EOPNOTSUPP)
			return file_falloc_unsupported(req, fb);
		nvmf_bdev_complete(req, res);
		return false;
	}
	switch (io->op) {
	case FILE_OP_READ:
	case FILE_OP_WRITE:
	case FILE_OP_WRITE_ZEROES:
		break;
	default:
		nvmf_bdev_complete(req, 0);
		return false;
	}
	done = (uint64_t)res < io->left ? (uint64_t)res : io->left;
	if (!done && (io->op != FILE_OP_READ || fb->blkdev)) {
		/* no progress is an error, except reading past the end of a regular file */
		nvmf_bdev_complete(req, -EIO);
		return false;
	}
	io->off += done;
	io->left -= done;
	if (io->op != FILE_OP_WRITE_ZEROES)
		io->buf = (uint8_t *)io->buf + done;
	if (!io->left) {
		nvmf_bdev_complete(req, 0);
		return false;
	}
	/*
	 * A regular file shorter than the namespace (truncated under us) reads as zeroes past
	 * its end. A read ending inside a block, which direct I/O does only at end of file,
	 * cannot be resumed with direct I/O either.
	 */
	if (io->op == FILE_OP_READ && (!done || (fb->direct && (io->off & (fb->blksz - 1))))) {
		memset(io->buf, 0, (size_t)io->left);
		nvmf_bdev_complete(req, 0);
		return false;
	}
	return true;
}

static void file_uring_done(struct nvmf_uring_cb *cb, int res)
{
	struct nvmf_tgt_req *req = uring_cb_to_req(cb);
	struct nvmf_reactor *r = req->sq->reactor;

	nvmf_reactor_inflight_add(r, -1);
	if (file_step_done(req, res))
		file_submit(req);
}

/* Issue the current step on the reactor's ring, or run it inline if there is no ring. */
static void file_submit(struct nvmf_tgt_req *req)
{
	struct file_bdev *fb = req->ns->bdev;
	struct nvmf_reactor *r = req->sq->reactor;
	struct io_uring_sqe *sqe;

	do {
		sqe = nvmf_reactor_get_sqe(r);
		if (sqe) {
			file_prep(fb, req, sqe);
			nvmf_reactor_inflight_add(r, 1);
			return;
		}
		if (!atomic_exchange_explicit(&fb->sync_warned, true, memory_order_relaxed))
			nvmf_warn("ns %" PRIu32 ": no io_uring SQE, doing file I/O synchronously",
				  fb->nsid);
	} while (file_step_done(req, file_exec_sync(fb, req)));
}

static void file_start(struct nvmf_tgt_req *req, void *buf, uint64_t off, uint64_t len)
{
	struct nvmf_bdev_io *io = &req->bdev_io;

	io->buf = buf;
	io->off = off;
	io->left = len;
	req->uring_cb.fn = file_uring_done;
}

static void file_rw(struct nvmf_tgt_req *req, bool write, void *buf, uint64_t off, uint32_t len,
		    bool fua)
{
	if (!len) {
		nvmf_bdev_complete(req, 0);
		return;
	}
	file_start(req, buf, off, len);
	req->bdev_io.op = write ? FILE_OP_WRITE : FILE_OP_READ;
	req->bdev_io.flags = write && fua ? FILE_FL_FUA : 0;
	file_submit(req);
}

static void file_flush(struct nvmf_tgt_req *req)
{
	file_start(req, NULL, 0, 0);
	req->bdev_io.op = FILE_OP_FSYNC;
	req->bdev_io.flags = 0;
	file_submit(req);
}

static void file_write_zeroes(struct nvmf_tgt_req *req, uint64_t off, uint64_t len, bool deallocate)
{
	if (!len) {
		nvmf_bdev_complete(req, 0);
		return;
	}
	file_start(req, NULL, off, len);
	file_zero_step(req->ns->bdev, &req->bdev_io, deallocate);
	file_submit(req);
}

static void file_discard(struct nvmf_tgt_req *req, uint64_t off, uint64_t len)
{
	struct file_bdev *fb = req->ns->bdev;

	/* FALLOC_FL_PUNCH_HOLE on a block device is a zero-out allowed to unmap */
	if (!len || atomic_load_explicit(&fb->no_punch_hole, memory_order_relaxed)) {
		nvmf_bdev_complete(req, 0);
		return;
	}
	file_start(req, NULL, off, len);
	req->bdev_io.op = FILE_OP_FALLOCATE;
	req->bdev_io.flags = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE | FILE_FL_DISCARD;
	file_submit(req);
}

/* -------------------------------------------------------------------------------------- */
/* Open and close */

static int file_open(struct nvmf_tgt_ns *ns, const struct nvmf_tgt_ns_params *p)
{
	int shift = nvmf_bdev_blksz_shift(p->block_size);
	uint32_t dio_align = 512;
	struct file_bdev *fb;
	uint64_t size;
	bool created = false;
	struct stat st;
	int ret, fl;

	if (shift < 0)
		return shift;
	if (!p->path || !p->path[0])
		return -EINVAL;
	fb = calloc(1, sizeof(*fb));
	if (!fb)
		return -ENOMEM;
	fb->nsid = p->nsid;
	/* a file we create is removed again if the namespace cannot be opened */
	fb->fd = -1;
	if (p->size_bytes) {
		fb->fd = open(p->path, O_RDWR | O_CLOEXEC | O_CREAT | O_EXCL, 0644);
		created = fb->fd >= 0;
	}
	if (fb->fd < 0 && (!p->size_bytes || errno == EEXIST))
		fb->fd = open(p->path, O_RDWR | O_CLOEXEC);
	if (fb->fd < 0) {
		ret = -errno;
		goto out_free;
	}
	if (fstat(fb->fd, &st)) {
		ret = -errno;
		goto out_close;
	}
	if (S_ISBLK(st.st_mode)) {
		int lbs;

		fb->blkdev = true;
		if (ioctl(fb->fd, BLKGETSIZE64, &size) || ioctl(fb->fd, BLKSSZGET, &lbs)) {
			ret = -errno;
			goto out_close;
		}
		if (p->size_bytes > size) {
			nvmf_err("ns %" PRIu32 ": %s has %" PRIu64 " bytes, %" PRIu64 " wanted",
				 p->nsid, p->path, size, p->size_bytes);
			ret = -EINVAL;
			goto out_close;
		}
		/* an LBA smaller than the device's could not be written without read-modify-write */
		while ((1u << shift) < (unsigned int)lbs && shift < 16)
			shift++;
		if ((1u << shift) < (unsigned int)lbs) {
			ret = -EINVAL;
			goto out_close;
		}
		dio_align = (uint32_t)lbs;
	} else if (S_ISREG(st.st_mode)) {
		size = (uint64_t)st.st_size;
		if (p->size_bytes > size) {
			if (ftruncate(fb->fd, (off_t)p->size_bytes)) {
				ret = -errno;
				goto out_close;
			}
			size = p->size_bytes;
		}
		dio_align = file_dio_align(fb->fd, &st);
	} else {
		nvmf_err("ns %" PRIu32 ": %s is neither a regular file nor a block device", p->nsid,
			 p->path);
		ret = -EINVAL;
		goto out_close;
	}
	fb->blksz = 1u << shift;
	size &= ~((uint64_t)fb->blksz - 1);
	if (!size) {
		ret = -EINVAL;
		goto out_close;
	}

	if (!p->buffered && dio_align <= fb->blksz) {
		fl = fcntl(fb->fd, F_GETFL);
		if (fl >= 0 && !fcntl(fb->fd, F_SETFL, fl | O_DIRECT)) {
			fb->direct = true;
		} else if (errno != EINVAL) {
			ret = -errno;
			goto out_close;
		}
	}
	if (!p->buffered && !fb->direct && dio_align != UINT32_MAX && dio_align > fb->blksz)
		nvmf_notice("ns %" PRIu32 ": %s: direct I/O needs %" PRIu32
			    "-byte blocks, using the page cache",
			    p->nsid, p->path, dio_align);
	else if (!p->buffered && !fb->direct)
		nvmf_notice("ns %" PRIu32 ": %s: no direct I/O here, using the page cache", p->nsid,
			    p->path);

	fb->zero_buf = mmap(NULL, FILE_ZERO_BUF_BYTES, PROT_READ,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (fb->zero_buf == MAP_FAILED) {
		ret = -errno;
		goto out_close;
	}
	ns->bdev = fb;
	ns->fd = fb->fd;
	ns->buffered = !fb->direct;
	ns->size_bytes = size;
	ns->blksz_shift = (uint8_t)shift;
	return 0;

out_close:
	close(fb->fd);
	if (created)
		unlink(p->path);
out_free:
	free(fb);
	return ret;
}

static int file_resize(struct nvmf_tgt_ns *ns, uint64_t *size_bytes)
{
	struct file_bdev *fb = ns->bdev;
	uint64_t size;
	struct stat st;

	if (fb->blkdev) {
		if (ioctl(fb->fd, BLKGETSIZE64, &size))
			return -errno;
		if (!*size_bytes)
			*size_bytes = size;
		return *size_bytes > size ? -ENOSPC : 0;
	}
	if (!*size_bytes) {
		if (fstat(fb->fd, &st))
			return -errno;
		*size_bytes = (uint64_t)st.st_size;
		return 0;
	}
	if (*size_bytes > (uint64_t)INT64_MAX)
		return -EFBIG;
	return ftruncate(fb->fd, (off_t)*size_bytes) ? -errno : 0;
}

static void file_close(struct nvmf_tgt_ns *ns)
{
	struct file_bdev *fb = ns->bdev;

	if (!fb)
		return;
	munmap(fb->zero_buf, FILE_ZERO_BUF_BYTES);
	close(fb->fd);
	free(fb);
	ns->bdev = NULL;
	ns->fd = -1;
}

/**
 * nvmf_bdev_file_ops - namespace on a regular file or a block device, through io_uring
 *
 * @open opens struct nvmf_tgt_ns_params.path read-write. With a size_bytes, a missing file is
 * created (mode 0644) and a shorter regular file extended (sparse) to it; without one the file
 * must exist (-ENOENT) and its size is used. A block device's size comes from BLKGETSIZE64
 * (size_bytes may not exceed it) and its logical block size (BLKSSZGET) is the smallest LBA
 * size it gets. The namespace is rounded down to whole blocks and must hold one (-EINVAL).
 * O_DIRECT is used unless buffered is set, the file system refuses it, or its granule exceeds
 * the LBA size; ns->buffered tells which. Return: 0 or -errno.
 *
 * @rw, @flush, @write_zeroes and @discard run asynchronously on the calling reactor's io_uring
 * (req->sq->reactor; user_data is &req->uring_cb; req->bdev_io holds the progress) and
 * complete on that reactor: reads and writes are resumed when short; a regular file that got
 * shorter than the namespace reads as zeroes past its end; FUA writes carry RWF_DSYNC; flush
 * is fdatasync. Write Zeroes punches a hole when it may deallocate, else zeroes the range with
 * fallocate, and writes zeroes where the file system supports neither. Discard punches a hole
 * and succeeds where that is unsupported. Without a ring the same steps run synchronously.
 */
const struct nvmf_bdev_ops nvmf_bdev_file_ops = {
	.name = "file",
	.open = file_open,
	.close = file_close,
	.resize = file_resize,
	.rw = file_rw,
	.flush = file_flush,
	.write_zeroes = file_write_zeroes,
	.discard = file_discard,
};
