// SPDX-License-Identifier: MIT
/*
 * The mem backend: a namespace in anonymous memory. The mapping is reserved, not committed
 * (MAP_NORESERVE): pages appear when first written, so a large, mostly empty namespace costs
 * little. Deallocating hands whole pages back to the kernel. Everything completes inside the
 * call; nothing survives the process.
 */
#include "core.h"

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int mem_open(struct nvmf_tgt_ns *ns, const struct nvmf_tgt_ns_params *p)
{
	int shift = nvmf_bdev_blksz_shift(p->block_size);
	uint64_t size;
	void *map;

	if (shift < 0)
		return shift;
	size = p->size_bytes & ~((UINT64_C(1) << shift) - 1);
	if (!size || size > SIZE_MAX)
		return -EINVAL;
	map = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (map == MAP_FAILED)
		return -errno;
	ns->fd = -1;
	ns->bdev = map;
	ns->blksz_shift = (uint8_t)shift;
	ns->size_bytes = size;
	return 0;
}

static void mem_close(struct nvmf_tgt_ns *ns)
{
	if (ns->bdev)
		munmap(ns->bdev, (size_t)ns->size_bytes);
	ns->bdev = NULL;
}

static void mem_rw(struct nvmf_tgt_req *req, bool write, void *buf, uint64_t off, uint32_t len,
		   bool fua)
{
	uint8_t *media = (uint8_t *)req->ns->bdev + off;

	(void)fua; /* memory is as durable as it gets once memcpy returns */
	if (write)
		memcpy(media, buf, len);
	else
		memcpy(buf, media, len);
	nvmf_bdev_complete(req, 0);
}

static void mem_flush(struct nvmf_tgt_req *req)
{
	nvmf_bdev_complete(req, 0);
}

/*
 * Zero [off, off + len): whole pages go back to the kernel (MADV_DONTNEED on a private
 * anonymous mapping reads back as zeroes and frees the memory), the partial pages at either
 * end are cleared by hand.
 */
static void mem_zero(struct nvmf_tgt_ns *ns, uint64_t off, uint64_t len)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint8_t *base = ns->bdev;
	uint64_t start = (off + page - 1) & ~(page - 1);
	uint64_t end = (off + len) & ~(page - 1);

	if (start >= end || madvise(base + start, (size_t)(end - start), MADV_DONTNEED)) {
		memset(base + off, 0, (size_t)len);
		return;
	}
	memset(base + off, 0, (size_t)(start - off));
	memset(base + end, 0, (size_t)(off + len - end));
}

static void mem_write_zeroes(struct nvmf_tgt_req *req, uint64_t off, uint64_t len, bool deallocate)
{
	/* returning pages costs nothing more than clearing them, so always deallocate */
	(void)deallocate;
	mem_zero(req->ns, off, len);
	nvmf_bdev_complete(req, 0);
}

static void mem_discard(struct nvmf_tgt_req *req, uint64_t off, uint64_t len)
{
	mem_zero(req->ns, off, len);
	nvmf_bdev_complete(req, 0);
}

/**
 * nvmf_bdev_mem_ops - namespace in anonymous memory
 *
 * @open maps struct nvmf_tgt_ns_params.size_bytes (at least one block; rounded down to the
 * block size) of MAP_NORESERVE memory, lazily populated, in ns->bdev; -EINVAL for a bad size
 * or block size, -ENOMEM if it cannot be mapped. @close unmaps it. Reads and writes copy;
 * Write Zeroes and discard zero the range, returning whole pages to the kernel; flush does
 * nothing. Every operation completes with 0 before it returns.
 */
const struct nvmf_bdev_ops nvmf_bdev_mem_ops = {
	.name = "mem",
	.open = mem_open,
	.close = mem_close,
	.rw = mem_rw,
	.flush = mem_flush,
	.write_zeroes = mem_write_zeroes,
	.discard = mem_discard,
};
