/* SPDX-License-Identifier: MIT */
/*
 * vfio-user wire format (QEMU docs/interop/vfio-user.rst, protocol 0.1), one copy shared by
 * the target's server (lib/target/transport-vfio-user.c) and the host's client
 * (lib/host/transport-vfio-user.c). Every message is a 16-byte header and a command-specific
 * payload, in the byte order of the host (the protocol says so); file descriptors travel as
 * SCM_RIGHTS ancillary data of the message they belong to.
 *
 * The PCI parts (region and IRQ indexes, region flags) are those of <linux/vfio.h>, which
 * the protocol reuses; they are spelled out here so that nothing depends on that header.
 */
#ifndef NVMF_VFIO_USER_PROTO_H
#define NVMF_VFIO_USER_PROTO_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#define VFIO_USER_MAJOR 0
#define VFIO_USER_MINOR 1

/* Commands (vfio-user.rst "Commands") */
enum vfio_user_command {
	VFIO_USER_VERSION = 1,
	VFIO_USER_DMA_MAP = 2,
	VFIO_USER_DMA_UNMAP = 3,
	VFIO_USER_DEVICE_GET_INFO = 4,
	VFIO_USER_DEVICE_GET_REGION_INFO = 5,
	VFIO_USER_DEVICE_GET_REGION_IO_FDS = 6,
	VFIO_USER_DEVICE_GET_IRQ_INFO = 7,
	VFIO_USER_DEVICE_SET_IRQS = 8,
	VFIO_USER_REGION_READ = 9,
	VFIO_USER_REGION_WRITE = 10,
	VFIO_USER_DMA_READ = 11,
	VFIO_USER_DMA_WRITE = 12,
	VFIO_USER_DEVICE_RESET = 13,
	VFIO_USER_REGION_WRITE_MULTI = 15,
	VFIO_USER_DEVICE_FEATURE = 16,
	VFIO_USER_MIG_DATA_READ = 17,
	VFIO_USER_MIG_DATA_WRITE = 18,
};

/* Header flags */
#define VFIO_USER_F_TYPE_MASK 0xfu
#define VFIO_USER_F_TYPE_COMMAND 0x0u
#define VFIO_USER_F_TYPE_REPLY 0x1u
#define VFIO_USER_F_NO_REPLY (1u << 4)
#define VFIO_USER_F_ERROR (1u << 5)

/**
 * struct vfio_user_header - starts every message (vfio-user.rst "Header")
 * @msg_id: chosen by the sender of a command, echoed in its reply
 * @command: enum vfio_user_command (also set in the reply)
 * @msg_size: bytes of the whole message, this header included
 * @flags: VFIO_USER_F_*
 * @error_reply: an errno value in a reply with VFIO_USER_F_ERROR (may be 0); reserved in
 *	a command
 */
struct vfio_user_header {
	uint16_t msg_id;
	uint16_t command;
	uint32_t msg_size;
	uint32_t flags;
	uint32_t error_reply;
};
static_assert(sizeof(struct vfio_user_header) == 16, "vfio-user header");

/**
 * struct vfio_user_version - VFIO_USER_VERSION request and reply; followed by an optional
 * NUL-terminated JSON object {"capabilities": {...}} (max_msg_fds, max_data_xfer_size,
 * max_dma_maps, pgsizes, write_multiple, twin_socket, migration)
 */
struct vfio_user_version {
	uint16_t major;
	uint16_t minor;
	char data[];
};
static_assert(sizeof(struct vfio_user_version) == 4, "vfio-user version");

/* Defaults of the capabilities a peer leaves out */
#define VFIO_USER_DEF_MAX_MSG_FDS 1
#define VFIO_USER_DEF_MAX_DATA_XFER 1048576u
#define VFIO_USER_DEF_MAX_DMA_MAPS 65535u
#define VFIO_USER_DEF_PGSIZES 4096u

/* DMA map flags */
#define VFIO_USER_F_DMA_REGION_READ (1u << 0)
#define VFIO_USER_F_DMA_REGION_WRITE (1u << 1)
#define VFIO_USER_F_DMA_ACCESS_MMAP (1u << 2)
#define VFIO_USER_F_DMA_ACCESS_FILEIO (1u << 3)

/**
 * struct vfio_user_dma_map - VFIO_USER_DMA_MAP request (no reply payload); the region's
 * file descriptor, if any, rides along as SCM_RIGHTS
 * @argsz: 32
 * @flags: VFIO_USER_F_DMA_*
 * @offset: offset of the region in the file, bytes
 * @addr: DMA (guest physical or I/O virtual) address, bytes
 * @size: bytes
 */
struct vfio_user_dma_map {
	uint32_t argsz;
	uint32_t flags;
	uint64_t offset;
	uint64_t addr;
	uint64_t size;
};
static_assert(sizeof(struct vfio_user_dma_map) == 32, "vfio-user dma map");

/**
 * struct vfio_user_dma_unmap - VFIO_USER_DMA_UNMAP request and reply
 * @argsz: bytes of reply payload the sender accepts
 * @flags: 0
 * @addr: DMA address of a mapped region, bytes
 * @size: its size, bytes (must match the mapping exactly)
 */
struct vfio_user_dma_unmap {
	uint32_t argsz;
	uint32_t flags;
	uint64_t addr;
	uint64_t size;
};
static_assert(sizeof(struct vfio_user_dma_unmap) == 24, "vfio-user dma unmap");

/* Device info (struct vfio_device_info) */
#define VFIO_DEVICE_FLAGS_RESET (1u << 0)
#define VFIO_DEVICE_FLAGS_PCI (1u << 1)

struct vfio_user_device_info {
	uint32_t argsz;
	uint32_t flags;
	uint32_t num_regions;
	uint32_t num_irqs;
};
static_assert(sizeof(struct vfio_user_device_info) == 16, "vfio-user device info");

/* PCI region indexes (enum in <linux/vfio.h>) */
enum {
	VFIO_PCI_BAR0_REGION_INDEX = 0,
	VFIO_PCI_BAR1_REGION_INDEX,
	VFIO_PCI_BAR2_REGION_INDEX,
	VFIO_PCI_BAR3_REGION_INDEX,
	VFIO_PCI_BAR4_REGION_INDEX,
	VFIO_PCI_BAR5_REGION_INDEX,
	VFIO_PCI_ROM_REGION_INDEX,
	VFIO_PCI_CONFIG_REGION_INDEX,
	VFIO_PCI_VGA_REGION_INDEX,
	VFIO_PCI_NUM_REGIONS = 9,
};

/* Region info flags (struct vfio_region_info) */
#define VFIO_REGION_INFO_FLAG_READ (1u << 0)
#define VFIO_REGION_INFO_FLAG_WRITE (1u << 1)
#define VFIO_REGION_INFO_FLAG_MMAP (1u << 2)
#define VFIO_REGION_INFO_FLAG_CAPS (1u << 3)

/**
 * struct vfio_user_region_info - VFIO_USER_DEVICE_GET_REGION_INFO request and reply
 * @argsz: request: bytes of reply payload accepted; reply: bytes needed for all of it
 * @flags: VFIO_REGION_INFO_FLAG_*
 * @index: region index (VFIO_PCI_*_REGION_INDEX)
 * @cap_offset: offset of the first capability from the start of this struct (0: none)
 * @size: bytes of the region (0: the region does not exist)
 * @offset: mmap() offset for a mappable region
 */
struct vfio_user_region_info {
	uint32_t argsz;
	uint32_t flags;
	uint32_t index;
	uint32_t cap_offset;
	uint64_t size;
	uint64_t offset;
};
static_assert(sizeof(struct vfio_user_region_info) == 32, "vfio-user region info");

/* IRQ indexes and info flags (struct vfio_irq_info) */
enum {
	VFIO_PCI_INTX_IRQ_INDEX = 0,
	VFIO_PCI_MSI_IRQ_INDEX,
	VFIO_PCI_MSIX_IRQ_INDEX,
	VFIO_PCI_ERR_IRQ_INDEX,
	VFIO_PCI_REQ_IRQ_INDEX,
	VFIO_PCI_NUM_IRQS = 5,
};

#define VFIO_IRQ_INFO_EVENTFD (1u << 0)
#define VFIO_IRQ_INFO_MASKABLE (1u << 1)
#define VFIO_IRQ_INFO_AUTOMASKED (1u << 2)
#define VFIO_IRQ_INFO_NORESIZE (1u << 3)

struct vfio_user_irq_info {
	uint32_t argsz;
	uint32_t flags;
	uint32_t index;
	uint32_t count;
};
static_assert(sizeof(struct vfio_user_irq_info) == 16, "vfio-user irq info");

/* SET_IRQS flags (struct vfio_irq_set): one DATA and one ACTION bit */
#define VFIO_IRQ_SET_DATA_NONE (1u << 0)
#define VFIO_IRQ_SET_DATA_BOOL (1u << 1)
#define VFIO_IRQ_SET_DATA_EVENTFD (1u << 2)
#define VFIO_IRQ_SET_ACTION_MASK (1u << 3)
#define VFIO_IRQ_SET_ACTION_UNMASK (1u << 4)
#define VFIO_IRQ_SET_ACTION_TRIGGER (1u << 5)
#define VFIO_IRQ_SET_DATA_TYPE_MASK                                                                \
	(VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_DATA_EVENTFD)
#define VFIO_IRQ_SET_ACTION_TYPE_MASK                                                              \
	(VFIO_IRQ_SET_ACTION_MASK | VFIO_IRQ_SET_ACTION_UNMASK | VFIO_IRQ_SET_ACTION_TRIGGER)

/**
 * struct vfio_user_irq_set - VFIO_USER_DEVICE_SET_IRQS request (no reply payload)
 * @argsz: bytes of this payload with @data
 * @flags: VFIO_IRQ_SET_*
 * @index: IRQ index (VFIO_PCI_MSIX_IRQ_INDEX, ...)
 * @start: first vector
 * @count: vectors; with DATA_EVENTFD, as many descriptors ride along (none: de-assign)
 * @data: DATA_BOOL: @count bytes
 */
struct vfio_user_irq_set {
	uint32_t argsz;
	uint32_t flags;
	uint32_t index;
	uint32_t start;
	uint32_t count;
	uint8_t data[];
};
static_assert(sizeof(struct vfio_user_irq_set) == 20, "vfio-user irq set");

/**
 * struct vfio_user_region_access - VFIO_USER_REGION_READ/WRITE request and reply
 * @offset: bytes into the region
 * @region: region index
 * @count: bytes of @data (request of a read: bytes wanted)
 * @data: write request and read reply only
 */
struct vfio_user_region_access {
	uint64_t offset;
	uint32_t region;
	uint32_t count;
	uint8_t data[];
};
static_assert(sizeof(struct vfio_user_region_access) == 16, "vfio-user region access");

/**
 * struct vfio_user_dma_access - VFIO_USER_DMA_READ/WRITE (server to client)
 * @addr: DMA address, bytes
 * @count: bytes of @data
 */
struct vfio_user_dma_access {
	uint64_t addr;
	uint64_t count;
	uint8_t data[];
};
static_assert(sizeof(struct vfio_user_dma_access) == 16, "vfio-user dma access");

/* One write of VFIO_USER_REGION_WRITE_MULTI (at most 8 data bytes) */
struct vfio_user_write_multi_entry {
	uint64_t offset;
	uint32_t region;
	uint32_t count;
	uint8_t data[8];
};
static_assert(sizeof(struct vfio_user_write_multi_entry) == 24, "vfio-user write multi");

#define VFIO_USER_MULTI_MAX 200 /* entries per WRITE_MULTI message (QEMU's limit) */

/* What a peer of ours accepts in one message: the largest data transfer plus headers */
#define VFIO_USER_MAX_MSG_FDS 16

#endif
