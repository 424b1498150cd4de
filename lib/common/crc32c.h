/* SPDX-License-Identifier: MIT */
#ifndef NVMF_COMMON_CRC32C_H
#define NVMF_COMMON_CRC32C_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/*
 * CRC32C (Castagnoli) as NVMe/TCP uses it for HDGST and DDGST (NVMe/TCP 1.0c 3.3.3.2):
 * seed 0xffffffff, result inverted. Computed by ISA-L.
 */
#define NVMF_CRC32C_SEED 0xffffffffu

/**
 * nvmf_crc32c_update() - continue a CRC32C over @len bytes
 * @crc: running value, NVMF_CRC32C_SEED to start
 * @buf: data
 * @len: bytes
 *
 * Return: the running value; pass it through nvmf_crc32c_final() for the digest.
 */
uint32_t nvmf_crc32c_update(uint32_t crc, const void *buf, size_t len);

static inline uint32_t nvmf_crc32c_final(uint32_t crc)
{
	return crc ^ 0xffffffffu;
}

/**
 * nvmf_crc32c() - the NVMe/TCP digest of one buffer
 * @buf: data
 * @len: bytes
 *
 * Return: the digest, as it goes on the wire (little-endian u32).
 */
uint32_t nvmf_crc32c(const void *buf, size_t len);

/**
 * nvmf_crc32c_iov() - continue a CRC32C over @len bytes of an iovec, starting @skip bytes in
 * @crc: running value
 * @iov: vector
 * @iovcnt: entries in @iov
 * @skip: bytes of @iov to pass over first
 * @len: bytes to digest
 *
 * Return: the running value.
 */
uint32_t nvmf_crc32c_iov(uint32_t crc, const struct iovec *iov, int iovcnt, size_t skip,
			 size_t len);

#endif
