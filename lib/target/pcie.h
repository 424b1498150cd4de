/* SPDX-License-Identifier: MIT */
/*
 * The NVMe-over-PCIe controller model (NVMe Base 2.0c 3.1.4 registers, NVMe PCIe Transport
 * 1.0c): BAR0 (CAP, VS, INTMS/INTMC, CC, CSTS, NSSR, AQA, ASQ, ACQ, doorbells at 1000h with
 * CAP.DSTRD 0), the CC.EN / CC.SHN state machine, submission and completion queues living in
 * host memory, PRPs and SGLs, completion posting with the phase tag and interrupts.
 *
 * It knows nothing of how it is reached: its owner (transport-vfio-user.c, or a unit test)
 * forwards BAR0 accesses and gives two callbacks, one that turns a host memory range into a
 * pointer and one that signals an interrupt vector. Commands run in the target core as
 * requests of sq->pcie queues, all on the owner's reactor; every call below is made there.
 */
#ifndef NVMF_TARGET_PCIE_H
#define NVMF_TARGET_PCIE_H

#include <stdbool.h>
#include <stdint.h>

struct nvmf_tgt;
struct nvmf_tgt_port;
struct nvmf_reactor;
struct nvmf_pcie_ctrl;

#define NVMF_PCIE_PAGE_SIZE 4096u /* CC.MPS 0: the only memory page size (CAP.MPSMAX 0) */
#define NVMF_PCIE_BAR0_SIZE 0x4000u
#define NVMF_PCIE_ADMIN_MAX_ENTRIES 4096u /* AQA ASQS/ACQS are 12-bit, 0's based */

/**
 * struct nvmf_pcie_ops - what the model needs from its owner
 * @dma: a pointer to @len bytes of host memory at DMA address @addr, for the device to read
 *	(@write false) or write, or NULL if no single mapping the device may access that way
 *	covers the range. @len never crosses a 4 KiB boundary of @addr. The pointer is used
 *	before the model returns to the reactor loop and not kept.
 * @irq: signal MSI-X vector @vector (called once per batch of completions per vector)
 * @event: state the owner may wait for may have changed (nvmf_pcie_busy(),
 *	nvmf_pcie_dma_busy()). Called at the end of the model's deferred work, never from
 *	inside an owner's call; the owner may free the controller there.
 */
struct nvmf_pcie_ops {
	void *(*dma)(void *priv, uint64_t addr, uint32_t len, bool write);
	void (*irq)(void *priv, uint16_t vector);
	void (*event)(void *priv);
};

/**
 * struct nvmf_pcie_params - the controller's shape
 * @tgt: target
 * @port: the port it is exported on (its vfu options: KAS, keep-alive, queue limits); the
 *	controller belongs to the port's first subsystem at each CC.EN 0 -> 1
 * @reactor: the owner's reactor; every queue and request of the controller lives there
 * @ops: callbacks (with @priv)
 * @priv: passed to @ops
 * @nr_vectors: MSI-X vectors the function has (Create I/O CQ IV must be below)
 */
struct nvmf_pcie_params {
	struct nvmf_tgt *tgt;
	struct nvmf_tgt_port *port;
	struct nvmf_reactor *reactor;
	const struct nvmf_pcie_ops *ops;
	void *priv;
	uint16_t nr_vectors;
};

/**
 * nvmf_pcie_ctrl_alloc() - a disabled controller (CC 0, CSTS 0)
 * @p: parameters (copied)
 *
 * Return: the controller, or NULL (out of memory). Pairs with nvmf_pcie_ctrl_free().
 */
struct nvmf_pcie_ctrl *nvmf_pcie_ctrl_alloc(const struct nvmf_pcie_params *p);

/**
 * nvmf_pcie_ctrl_free() - free a controller that is not busy (nvmf_pcie_busy() false)
 * @c: controller, or NULL
 */
void nvmf_pcie_ctrl_free(struct nvmf_pcie_ctrl *c);

/**
 * nvmf_pcie_bar0_read() - read BAR0 registers (NVMe Base 2.0c 3.1.4, Figure 33)
 * @c: controller
 * @off: byte offset in BAR0
 * @buf: output
 * @len: bytes; any size inside the registers; doorbells read as zero (they are write-only)
 *
 * Return: 0, or -EINVAL if [@off, @off + @len) is not inside BAR0.
 */
int nvmf_pcie_bar0_read(struct nvmf_pcie_ctrl *c, uint64_t off, void *buf, uint32_t len);

/**
 * nvmf_pcie_bar0_write() - write BAR0: registers (4-byte writes, 8-byte ones as two) and
 * doorbells (4 bytes at 1000h + (2y + n) * 4, NVMe PCIe 1.0c 3.1.2)
 * @c: controller
 * @off: byte offset in BAR0
 * @buf: data
 * @len: bytes
 *
 * Writes of other sizes, to read-only registers or to doorbells of queues that do not
 * exist are ignored (logged); a doorbell value beyond its queue raises the asynchronous
 * event Invalid Doorbell Write Value (NVMe Base 2.0c 5.2, Figure 148).
 * Return: 0, or -EINVAL if the range is not inside BAR0.
 */
int nvmf_pcie_bar0_write(struct nvmf_pcie_ctrl *c, uint64_t off, const void *buf, uint32_t len);

/**
 * nvmf_pcie_reset() - function level reset (vfio-user DEVICE_RESET, the client gone): as
 * CC.EN 1 -> 0 (every queue torn down, waiting for commands in flight), and every register
 * back to its reset value
 * @c: controller
 */
void nvmf_pcie_reset(struct nvmf_pcie_ctrl *c);

/**
 * nvmf_pcie_busy() - is a teardown still waiting for commands in flight, a queue alive, or
 * deferred work pending?
 * @c: controller
 * Return: false once the controller is disabled, owns no request in the core and may be
 * freed.
 */
bool nvmf_pcie_busy(const struct nvmf_pcie_ctrl *c);

/**
 * nvmf_pcie_work_pending() - has the model work waiting for the end of this loop iteration
 * (interrupts to signal, queues to free)?
 * @c: controller
 * Return: true if so: the owner should return to the reactor loop before taking more input.
 */
bool nvmf_pcie_work_pending(const struct nvmf_pcie_ctrl *c);

/**
 * nvmf_pcie_dma_busy() - may a command in flight still access host memory?
 * @c: controller
 * Return: true while a command with controller-to-host data is in the core (its data is
 * copied out when it completes); DMA_UNMAP waits for false.
 */
bool nvmf_pcie_dma_busy(const struct nvmf_pcie_ctrl *c);

/**
 * nvmf_pcie_csts() - the CSTS register (tests, logs)
 * @c: controller
 * Return: CSTS.
 */
uint32_t nvmf_pcie_csts(const struct nvmf_pcie_ctrl *c);

struct nvmf_tgt_req;
struct nvmf_tgt_sq;

/*
 * The transport operations of a PCIe controller's queues, for the owner's struct
 * nvmf_tgt_transport_ops (core.h has their contracts): queue_response posts the completion
 * (after copying controller-to-host data out through the PRPs/SGL), disconnect_sq fails the
 * controller (CSTS.CFS; keep-alive expiry, fail_controller, subsystem removal), data_in
 * copies host-to-controller data in, queue_admin runs Create/Delete I/O SQ/CQ.
 */
void nvmf_pcie_queue_response(struct nvmf_tgt_req *req);
void nvmf_pcie_disconnect_sq(struct nvmf_tgt_sq *sq);
uint16_t nvmf_pcie_data_in(struct nvmf_tgt_req *req);
void nvmf_pcie_queue_admin(struct nvmf_tgt_req *req);

#endif
