// SPDX-License-Identifier: MIT
/*
 * The null backend: a namespace with no storage behind it, for benchmarking the transport and
 * the core. Reads return zeroes, writes are dropped; everything completes inside the call.
 */
#include "core.h"

#include <string.h>

static int null_open(struct nvmf_tgt_ns *ns, const struct nvmf_tgt_ns_params *p)
{
	int shift = nvmf_bdev_blksz_shift(p->block_size);

	if (shift < 0)
		return shift;
	if (p->size_bytes >> shift == 0)
		return -EINVAL;
	ns->fd = -1;
	ns->bdev = NULL;
	ns->blksz_shift = (uint8_t)shift;
	ns->size_bytes = p->size_bytes & ~((UINT64_C(1) << shift) - 1);
	return 0;
}

static void null_close(struct nvmf_tgt_ns *ns)
{
	(void)ns;
}

static int null_resize(struct nvmf_tgt_ns *ns, uint64_t *size_bytes)
{
	(void)ns;
	return *size_bytes ? 0 : -EINVAL; /* no medium whose size could be re-read */
}

static void null_rw(struct nvmf_tgt_req *req, bool write, void *buf, uint64_t off, uint32_t len,
		    bool fua)
{
	(void)off;
	(void)fua;
	/* the transport sends zeroes from a shared region: no memset of the slot per read */
	if (!write && req->zero_data_ok && buf == req->buf)
		req->zero_data = true;
	else if (!write)
		memset(buf, 0, len);
	nvmf_bdev_complete(req, 0);
}

static void null_flush(struct nvmf_tgt_req *req)
{
	nvmf_bdev_complete(req, 0);
}

static void null_write_zeroes(struct nvmf_tgt_req *req, uint64_t off, uint64_t len, bool deallocate)
{
	(void)off;
	(void)len;
	(void)deallocate;
	nvmf_bdev_complete(req, 0);
}

static void null_discard(struct nvmf_tgt_req *req, uint64_t off, uint64_t len)
{
	(void)off;
	(void)len;
	nvmf_bdev_complete(req, 0);
}

/**
 * nvmf_bdev_null_ops - namespace without storage
 *
 * @open needs struct nvmf_tgt_ns_params.size_bytes (at least one block; rounded down to the
 * block size) and a valid block_size, else -EINVAL; it takes no resources. Reads fill the
 * buffer with zeroes (or, when the transport allows it, mark the data as zeroes with
 * struct nvmf_tgt_req.zero_data), writes, flushes, Write Zeroes and discards do nothing. Every operation
 * completes with 0 before it returns.
 */
const struct nvmf_bdev_ops nvmf_bdev_null_ops = {
	.name = "null",
	.open = null_open,
	.close = null_close,
	.resize = null_resize,
	.rw = null_rw,
	.flush = null_flush,
	.write_zeroes = null_write_zeroes,
	.discard = null_discard,
};
