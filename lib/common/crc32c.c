// SPDX-License-Identifier: MIT
#include "crc32c.h"

#include <isa-l/crc.h>

uint32_t nvmf_crc32c_update(uint32_t crc, const void *buf, size_t len)
{
	/* crc32_iscsi() neither inverts its seed nor its result: that is left to the caller. */
	while (len > 0) {
		size_t n = len > (1u << 30) ? (1u << 30) : len;

		crc = crc32_iscsi((unsigned char *)buf, (int)n, crc);
		buf = (const unsigned char *)buf + n;
		len -= n;
	}
	return crc;
}

uint32_t nvmf_crc32c(const void *buf, size_t len)
{
	return nvmf_crc32c_final(nvmf_crc32c_update(NVMF_CRC32C_SEED, buf, len));
}

uint32_t nvmf_crc32c_iov(uint32_t crc, const struct iovec *iov, int iovcnt, size_t skip, size_t len)
{
	for (int i = 0; i < iovcnt && len > 0; i++) {
		size_t n = iov[i].iov_len;

		if (skip >= n) {
			skip -= n;
			continue;
		}
		n -= skip;
		if (n > len)
			n = len;
		crc = nvmf_crc32c_update(crc, (const char *)iov[i].iov_base + skip, n);
		skip = 0;
		len -= n;
	}
	return crc;
}
