// SPDX-License-Identifier: MIT
/*
 * NVM command set subcommands: read, write, compare (nvme-cli's submit_io()), flush,
 * write-zeroes and dsm (NVM Command Set 1.0c 3.2, 3.3).
 */
#include "cli.h"
#include "print.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

/* Page aligned, zeroed: a loop target may hand it to O_DIRECT file I/O as it is. */
static void *io_alloc(size_t len)
{
	size_t size = (len + 4095) & ~(size_t)4095;
	void *p = aligned_alloc(4096, size ? size : 4096);

	if (p)
		memset(p, 0, size ? size : 4096);
	return p;
}

static uint64_t elapsed_us(const struct timeval *a, const struct timeval *b)
{
	return (uint64_t)(b->tv_sec - a->tv_sec) * 1000000 + (uint64_t)(b->tv_usec - a->tv_usec);
}

/* The LBA data size of @nsid, from Identify Namespace (FLBAS). */
static int lba_size(struct cli_ctx *ctx, uint32_t nsid, uint32_t *out)
{
	struct nvme_id_ns *ns = io_alloc(sizeof(*ns));
	int ret;

	if (!ns)
		return -ENOMEM;
	ret = nvmf_host_identify(ctx->ctrl, NVME_ID_CNS_NS, nsid, NVME_CSI_NVM, ns);
	if (!ret) {
		unsigned int f = (ns->flbas & 0xf) | ((ns->flbas >> 5) & 3) << 4;

		uint8_t ds = ns->lbaf[f].ds ? ns->lbaf[f].ds : 9;

		if (ds < 9 || ds > 31)
			ret = -EPROTO; /* not a usable LBA size */
		else
			*out = 1u << ds;
	}
	free(ns);
	return ret;
}

static int submit_io(struct cli_ctx *ctx, int argc, char **argv, uint8_t opcode,
		     const char *command)
{
	struct {
		uint32_t nsid;
		uint64_t slba, data_size, ref_tag;
		uint16_t block_count, block_size, app_tag_mask, app_tag, dspec;
		uint8_t prinfo, dtype, dsm;
		const char *data;
		bool limited_retry, fua, show, dry_run, latency, force;
	} cfg = { 0 };
	struct cli_opt opts[] = {
		CLI_OPT("namespace-id", 'n', CLI_OPT_U32, &cfg.nsid, "NUM",
			"desired namespace (default: the first active)"),
		CLI_OPT("start-block", 's', CLI_OPT_SIZE, &cfg.slba, "NUM",
			"64-bit addr of first block to access"),
		CLI_OPT("block-count", 'c', CLI_OPT_U16, &cfg.block_count, "NUM",
			"number of blocks (zeroes based) on device to access"),
		CLI_OPT("block-size", 'b', CLI_OPT_U16, &cfg.block_size, "NUM",
			"if specified, logical block size in bytes; discovered by identify "
			"namespace otherwise"),
		CLI_OPT("data-size", 'z', CLI_OPT_SIZE, &cfg.data_size, "NUM",
			"size of data in bytes"),
		CLI_OPT("ref-tag", 'r', CLI_OPT_SIZE, &cfg.ref_tag, "NUM",
			"reference tag (for end to end PI)"),
		CLI_OPT("data", 'd', CLI_OPT_STR, &cfg.data, "FILE",
			opcode == nvme_cmd_read ? "data file (default stdout)"
						: "data file (default stdin)"),
		CLI_OPT("prinfo", 'p', CLI_OPT_U8, &cfg.prinfo, "NUM", "PI and check field"),
		CLI_OPT("app-tag-mask", 'm', CLI_OPT_U16, &cfg.app_tag_mask, "NUM",
			"app tag mask (for end to end PI)"),
		CLI_OPT("app-tag", 'a', CLI_OPT_U16, &cfg.app_tag, "NUM",
			"app tag (for end to end PI)"),
		CLI_FLAG("limited-retry", 'l', &cfg.limited_retry,
			 "limit num. media access attempts"),
		CLI_FLAG("force-unit-access", 'f', &cfg.fua,
			 "force device to commit data before command completes"),
		CLI_OPT("dir-type", 'T', CLI_OPT_U8, &cfg.dtype, "NUM", "directive type"),
		CLI_OPT("dir-spec", 'S', CLI_OPT_U16, &cfg.dspec, "NUM",
			"directive specific (for write only)"),
		CLI_OPT("dsm", 'D', CLI_OPT_U8, &cfg.dsm, "NUM",
			"dataset management attributes (lower 8 bits)"),
		CLI_FLAG("show-command", 'V', &cfg.show, "show command before sending"),
		CLI_FLAG("dry-run", 'w', &cfg.dry_run, "show command instead of sending"),
		CLI_FLAG("latency", 't', &cfg.latency, "output latency statistics"),
		CLI_FLAG("force", 0, &cfg.force, "accepted for nvme-cli compatibility"),
		CLI_END,
	};
	bool to_host = opcode == nvme_cmd_read;
	uint32_t lbs = 0, cdw12;
	uint64_t buffer_size, nblocks;
	struct timeval t0, t1;
	uint8_t *buf = NULL;
	bool plain;
	int fd = -1, ret;

	ret = cli_parse(ctx, argc, argv, opts);
	if (ret != CLI_PROCEED)
		return ret;
	if (!cfg.data_size)
		return cli_usage_error(ctx, "data size not provided");
	if (cfg.prinfo > 0xf)
		return cli_usage_error(ctx, "invalid prinfo %#x", cfg.prinfo);
	if (cfg.dtype > 0xf)
		return cli_usage_error(ctx, "Invalid directive type, %x", cfg.dtype);
	if (cfg.data) {
		fd = open(cfg.data, to_host ? O_WRONLY | O_CREAT | O_TRUNC : O_RDONLY, 0644);
		if (fd < 0) {
			fprintf(stderr, "%s: %s\n", cfg.data, strerror(errno));
			return CLI_EXIT_FAIL;
		}
	} else {
		fd = to_host ? STDOUT_FILENO : STDIN_FILENO;
	}
	ret = cli_connect(ctx);
	if (ret != CLI_PROCEED)
		goto out_close;
	if (!cli_opt_seen(opts, "namespace-id"))
		cfg.nsid = cli_default_nsid(ctx);
	if (cfg.block_size) {
		lbs = cfg.block_size;
	} else {
		ret = lba_size(ctx, cfg.nsid, &lbs);
		if (ret) {
			ret = cli_result(ctx, ret, "identify namespace");
			goto out_close;
		}
	}

	/* nvme-cli's sizing: --block-count wins, else enough blocks for --data-size */
	buffer_size = ((uint64_t)cfg.block_count + 1) * lbs;
	if (cfg.data_size < buffer_size)
		fprintf(stderr, "Rounding data size to fit block count (%llu bytes)\n",
			(unsigned long long)buffer_size);
	else
		buffer_size = cfg.data_size;
	if (cli_opt_seen(opts, "block-count")) {
		nblocks = cfg.block_count;
	} else {
		nblocks = (buffer_size + lbs - 1) / lbs - 1;
		buffer_size = (nblocks + 1) * lbs;
	}
	if (nblocks > NVME_RW_NLB_MASK || buffer_size > UINT32_MAX) {
		ret = cli_usage_error(ctx, "%llu blocks do not fit one command",
				      (unsigned long long)nblocks + 1);
		goto out_close;
	}
	buf = io_alloc(buffer_size);
	if (!buf) {
		ret = cli_result(ctx, -ENOMEM, "submit-io");
		goto out_close;
	}
	if (!to_host) {
		ssize_t n = cli_read_full(
			fd, buf, cfg.data_size < buffer_size ? cfg.data_size : buffer_size);

		if (n < 0) {
			fprintf(stderr, "failed to read data buffer from input file %s\n",
				strerror((int)-n));
			ret = CLI_EXIT_FAIL;
			goto out_free;
		}
	}

	cdw12 = (uint32_t)nblocks | (uint32_t)cfg.dtype << 20 | (uint32_t)cfg.prinfo << 26 |
		(cfg.fua ? NVME_RW_FUA : 0) | (cfg.limited_retry ? NVME_RW_LR : 0);
	if (cfg.show || cfg.dry_run) {
		printf("opcode       : %02x\n", opcode);
		printf("nsid         : %02x\n", cfg.nsid);
		printf("flags        : %02x\n", 0);
		printf("control      : %04x\n", cdw12 >> 16);
		printf("nblocks      : %04x\n", (unsigned int)nblocks);
		printf("metadata     : %x\n", 0);
		printf("addr         : %llx\n", (unsigned long long)(uintptr_t)buf);
		printf("slba         : %llx\n", (unsigned long long)cfg.slba);
		printf("dsmgmt       : %08x\n", cfg.dsm | (uint32_t)cfg.dspec << 16);
		printf("reftag       : %llx\n", (unsigned long long)cfg.ref_tag);
		printf("apptag       : %04x\n", cfg.app_tag);
		printf("appmask      : %04x\n", cfg.app_tag_mask);
	}
	if (cfg.dry_run) {
		ret = CLI_EXIT_OK;
		goto out_free;
	}

	plain = !cfg.limited_retry && !cfg.prinfo && !cfg.dtype && !cfg.dsm && !cfg.dspec &&
		!cfg.ref_tag && !cfg.app_tag && !cfg.app_tag_mask &&
		(!cfg.fua || opcode == nvme_cmd_write);
	gettimeofday(&t0, NULL);
	if (!plain) {
		struct nvme_sqe cmd = {
			.opcode = opcode,
			.nsid = cfg.nsid,
			.cdw10 = (uint32_t)cfg.slba,
			.cdw11 = (uint32_t)(cfg.slba >> 32),
			.cdw12 = cdw12,
			.cdw13 = cfg.dsm | (uint32_t)cfg.dspec << 16,
			.cdw14 = (uint32_t)cfg.ref_tag,
			.cdw15 = cfg.app_tag | (uint32_t)cfg.app_tag_mask << 16,
		};

		ret = nvmf_host_passthru(ctx->ctrl, false, &cmd, buf, (uint32_t)buffer_size,
					 ctx->timeout_ms, NULL);
	} else if (opcode == nvme_cmd_read) {
		ret = nvmf_host_read(ctx->ctrl, cfg.nsid, cfg.slba, (uint32_t)nblocks + 1, buf);
	} else if (opcode == nvme_cmd_write) {
		ret = nvmf_host_write(ctx->ctrl, cfg.nsid, cfg.slba, (uint32_t)nblocks + 1, buf,
				      cfg.fua);
	} else {
		ret = nvmf_host_compare(ctx->ctrl, cfg.nsid, cfg.slba, (uint32_t)nblocks + 1, buf);
	}
	gettimeofday(&t1, NULL);
	if (cfg.latency)
		printf(" latency: %s: %llu us\n", command,
		       (unsigned long long)elapsed_us(&t0, &t1));
	if (ret) {
		ret = cli_result(ctx, ret, "submit-io");
		goto out_free;
	}
	if (ctx->fmt == CLI_FMT_JSON) {
		struct json_object *r = json_object_new_object();

		json_object_object_add(r, "command", json_object_new_string(command));
		json_object_object_add(r, "nsid", json_object_new_uint64(cfg.nsid));
		json_object_object_add(r, "slba", json_object_new_uint64(cfg.slba));
		json_object_object_add(r, "block_count", json_object_new_uint64(nblocks));
		json_object_object_add(r, "data_size", json_object_new_uint64(buffer_size));
		json_object_object_add(r, "latency_us",
				       json_object_new_uint64(elapsed_us(&t0, &t1)));
		if (to_host && !cfg.data)
			json_object_object_add(r, "data", json_hex(buf, buffer_size));
		else if (to_host)
			ret = cli_write_full(fd, buf, buffer_size);
		json_print(r);
	} else if (to_host) {
		ret = cli_write_full(fd, buf, buffer_size);
	}
	if (ret) {
		fprintf(stderr, "write: %s: failed to write buffer to output file\n",
			strerror(-ret));
		ret = CLI_EXIT_FAIL;
		goto out_free;
	}
	fprintf(stderr, "%s: Success\n", command);
	ret = CLI_EXIT_OK;
out_free:
	free(buf);
out_close:
	if (cfg.data && fd >= 0)
		close(fd);
	return ret;
}

int cmd_read(struct cli_ctx *ctx, int argc, char **argv)
{
	return submit_io(ctx, argc, argv, nvme_cmd_read, "read");
}

int cmd_write(struct cli_ctx *ctx, int argc, char **argv)
{
	return submit_io(ctx, argc, argv, nvme_cmd_write, "write");
}

int cmd_compare(struct cli_ctx *ctx, int argc, char **argv)
{
	return submit_io(ctx, argc, argv, nvme_cmd_compare, "compare");
}

static void print_ok(const struct cli_ctx *ctx, const char *command, const char *text)
{
	if (ctx->fmt == CLI_FMT_JSON) {
		struct json_object *r = json_object_new_object();

		json_object_object_add(r, "command", json_object_new_string(command));
		json_object_object_add(r, "status", json_object_new_string("success"));
		json_print(r);
	} else {
		printf("%s\n", text);
	}
}

int cmd_flush(struct cli_ctx *ctx, int argc, char **argv)
{
	uint32_t nsid = 0;
	struct cli_opt opts[] = {
		CLI_OPT("namespace-id", 'n', CLI_OPT_U32, &nsid, "NUM",
			"identifier of desired namespace (default: the first active)"),
		CLI_END,
	};
	int ret = cli_parse(ctx, argc, argv, opts);

	if (ret != CLI_PROCEED)
		return ret;
	ret = cli_connect(ctx);
	if (ret != CLI_PROCEED)
		return ret;
	if (!cli_opt_seen(opts, "namespace-id"))
		nsid = cli_default_nsid(ctx);
	ret = nvmf_host_flush(ctx->ctrl, nsid);
	if (ret)
		return cli_result(ctx, ret, "flush");
	print_ok(ctx, "flush", "NVMe Flush: success");
	return CLI_EXIT_OK;
}

int cmd_write_zeroes(struct cli_ctx *ctx, int argc, char **argv)
{
	struct {
		uint32_t nsid;
		uint64_t slba, ref_tag;
		uint16_t block_count, app_tag_mask, app_tag, dspec;
		uint8_t dtype, prinfo;
		bool deac, limited_retry, fua, nsz;
	} cfg = { 0 };
	struct cli_opt opts[] = {
		CLI_OPT("namespace-id", 'n', CLI_OPT_U32, &cfg.nsid, "NUM",
			"desired namespace (default: the first active)"),
		CLI_OPT("start-block", 's', CLI_OPT_SIZE, &cfg.slba, "NUM",
			"64-bit addr of first block to access"),
		CLI_OPT("block-count", 'c', CLI_OPT_U16, &cfg.block_count, "NUM",
			"number of blocks (zeroes based) on device to access"),
		CLI_OPT("dir-type", 'T', CLI_OPT_U8, &cfg.dtype, "NUM", "directive type"),
		CLI_FLAG("deac", 'd', &cfg.deac,
			 "Set DEAC bit, requesting controller to deallocate "
			 "specified logical blocks"),
		CLI_FLAG("limited-retry", 'l', &cfg.limited_retry, "limit media access attempts"),
		CLI_FLAG("force-unit-access", 'f', &cfg.fua,
			 "force device to commit data before command completes"),
		CLI_OPT("prinfo", 'p', CLI_OPT_U8, &cfg.prinfo, "NUM", "PI and check field"),
		CLI_OPT("ref-tag", 'r', CLI_OPT_SIZE, &cfg.ref_tag, "NUM",
			"reference tag (for end to end PI)"),
		CLI_OPT("app-tag-mask", 'm', CLI_OPT_U16, &cfg.app_tag_mask, "NUM",
			"app tag mask (for end to end PI)"),
		CLI_OPT("app-tag", 'a', CLI_OPT_U16, &cfg.app_tag, "NUM",
			"app tag (for end to end PI)"),
		CLI_OPT("dir-spec", 'D', CLI_OPT_U16, &cfg.dspec, "NUM",
			"directive specific (write zeroes with dir-type)"),
		CLI_FLAG("namespace-zeroes", 'Z', &cfg.nsz,
			 "clear all logical blocks to zero in the "
			 "entire namespace"),
		CLI_END,
	};
	int ret = cli_parse(ctx, argc, argv, opts);

	if (ret != CLI_PROCEED)
		return ret;
	if (cfg.prinfo > 0xf)
		return cli_usage_error(ctx, "invalid prinfo %#x", cfg.prinfo);
	if (cfg.dtype > 0xf)
		return cli_usage_error(ctx, "Invalid directive type, %x", cfg.dtype);
	ret = cli_connect(ctx);
	if (ret != CLI_PROCEED)
		return ret;
	if (!cli_opt_seen(opts, "namespace-id"))
		cfg.nsid = cli_default_nsid(ctx);
	if (!cfg.limited_retry && !cfg.fua && !cfg.nsz && !cfg.prinfo && !cfg.dtype &&
	    !cfg.ref_tag && !cfg.app_tag && !cfg.app_tag_mask && !cfg.dspec) {
		ret = nvmf_host_write_zeroes(ctx->ctrl, cfg.nsid, cfg.slba,
					     (uint32_t)cfg.block_count + 1, cfg.deac);
	} else {
		struct nvme_sqe cmd = {
			.opcode = nvme_cmd_write_zeroes,
			.nsid = cfg.nsid,
			.cdw10 = (uint32_t)cfg.slba,
			.cdw11 = (uint32_t)(cfg.slba >> 32),
			.cdw12 = cfg.block_count | (uint32_t)cfg.dtype << 20 |
				 (cfg.nsz ? 1u << 23 : 0) | (cfg.deac ? NVME_WZ_DEAC : 0) |
				 (uint32_t)cfg.prinfo << 26 | (cfg.fua ? NVME_RW_FUA : 0) |
				 (cfg.limited_retry ? NVME_RW_LR : 0),
			.cdw13 = (uint32_t)cfg.dspec << 16,
			.cdw14 = (uint32_t)cfg.ref_tag,
			.cdw15 = cfg.app_tag | (uint32_t)cfg.app_tag_mask << 16,
		};

		ret = nvmf_host_passthru(ctx->ctrl, false, &cmd, NULL, 0, ctx->timeout_ms, NULL);
	}
	if (ret)
		return cli_result(ctx, ret, "write-zeroes");
	print_ok(ctx, "write-zeroes", "NVME Write Zeroes Success");
	return CLI_EXIT_OK;
}

int cmd_dsm(struct cli_ctx *ctx, int argc, char **argv)
{
	struct {
		uint32_t nsid, cdw11;
		struct cli_list ctx_attrs, blocks, slbas;
		bool ad, idw, idr;
	} *cfg = calloc(1, sizeof(*cfg));
	struct nvme_dsm_range *ranges = NULL;
	unsigned int nr;
	int ret;

	if (!cfg)
		return cli_result(ctx, -ENOMEM, "dsm");
	{
		struct cli_opt opts[] = {
			CLI_OPT("namespace-id", 'n', CLI_OPT_U32, &cfg->nsid, "NUM",
				"identifier of desired namespace (default: the first active)"),
			CLI_OPT("ctx-attrs", 'a', CLI_OPT_LIST, &cfg->ctx_attrs, "LIST",
				"optional comma-sep list of context attributes"),
			CLI_OPT("blocks", 'b', CLI_OPT_LIST, &cfg->blocks, "LIST",
				"Comma separated list of the number of blocks in each range"),
			CLI_OPT("slbs", 's', CLI_OPT_LIST, &cfg->slbas, "LIST",
				"Comma separated list of the starting block in each range"),
			CLI_FLAG("ad", 'd', &cfg->ad, "Attribute Deallocate"),
			CLI_FLAG("idw", 'w', &cfg->idw, "Attribute Integral Dataset for Write"),
			CLI_FLAG("idr", 'r', &cfg->idr, "Attribute Integral Dataset for Read"),
			CLI_OPT("cdw11", 'c', CLI_OPT_U32, &cfg->cdw11, "NUM",
				"All the command DWORD 11 attributes. Use instead of specifying "
				"individual attributes"),
			CLI_END,
		};

		ret = cli_parse(ctx, argc, argv, opts);
		if (ret != CLI_PROCEED)
			goto out;
		nr = cfg->ctx_attrs.nr;
		if (cfg->blocks.nr > nr)
			nr = cfg->blocks.nr;
		if (cfg->slbas.nr > nr)
			nr = cfg->slbas.nr;
		if (!nr || nr > NVME_DSM_MAX_RANGES) {
			ret = cli_usage_error(ctx, "No range definition provided");
			goto out;
		}
		ret = cli_connect(ctx);
		if (ret != CLI_PROCEED)
			goto out;
		if (!cli_opt_seen(opts, "namespace-id"))
			cfg->nsid = cli_default_nsid(ctx);
	}
	if (!cfg->cdw11)
		cfg->cdw11 =
			(cfg->ad ? NVME_DSMGMT_AD : 0) | (cfg->idw ? 2u : 0) | (cfg->idr ? 1u : 0);
	ranges = io_alloc(nr * sizeof(*ranges));
	if (!ranges) {
		ret = cli_result(ctx, -ENOMEM, "dsm");
		goto out;
	}
	for (unsigned int i = 0; i < nr; i++) {
		ranges[i].cattr = i < cfg->ctx_attrs.nr ? (uint32_t)cfg->ctx_attrs.v[i] : 0;
		ranges[i].nlb = i < cfg->blocks.nr ? (uint32_t)cfg->blocks.v[i] : 0;
		ranges[i].slba = i < cfg->slbas.nr ? cfg->slbas.v[i] : 0;
	}
	ret = nvmf_host_dsm(ctx->ctrl, cfg->nsid, ranges, nr, cfg->cdw11);
	if (ret) {
		ret = cli_result(ctx, ret, "data-set management");
		goto out;
	}
	print_ok(ctx, "dsm", "NVMe DSM: success");
	ret = CLI_EXIT_OK;
out:
	free(ranges);
	free(cfg);
	return ret;
}
