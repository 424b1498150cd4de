// SPDX-License-Identifier: MIT
/*
 * admin-passthru and io-passthru: a user-defined command, as NVME_IOCTL_ADMIN_CMD /
 * NVME_IOCTL_IO_CMD would send it, through nvmf_host_passthru() (which applies the
 * passthrough filter and the Commands Supported and Effects rules).
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

struct passthru_cfg {
	uint8_t opcode, flags, prefill;
	uint16_t rsvd;
	uint32_t nsid, data_len, metadata_len;
	uint32_t cdw2, cdw3, cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
	const char *input_file, *metadata;
	bool raw, show, dry_run, read, write, latency;
};

static void show_command(const struct passthru_cfg *c, unsigned int timeout_ms, const void *data)
{
	printf("opcode       : %02x\n", c->opcode);
	printf("flags        : %02x\n", c->flags);
	printf("rsvd1        : %04x\n", c->rsvd);
	printf("nsid         : %08x\n", c->nsid);
	printf("cdw2         : %08x\n", c->cdw2);
	printf("cdw3         : %08x\n", c->cdw3);
	printf("data_len     : %08x\n", c->data_len);
	printf("metadata_len : %08x\n", c->metadata_len);
	printf("addr         : %llx\n", (unsigned long long)(uintptr_t)data);
	printf("metadata     : %x\n", 0);
	printf("cdw10        : %08x\n", c->cdw10);
	printf("cdw11        : %08x\n", c->cdw11);
	printf("cdw12        : %08x\n", c->cdw12);
	printf("cdw13        : %08x\n", c->cdw13);
	printf("cdw14        : %08x\n", c->cdw14);
	printf("cdw15        : %08x\n", c->cdw15);
	printf("timeout_ms   : %08x\n", timeout_ms);
}

static int passthru(struct cli_ctx *ctx, int argc, char **argv, bool admin)
{
	struct passthru_cfg c = { 0 };
	struct cli_opt opts[] = {
		CLI_OPT("opcode", 'O', CLI_OPT_U8, &c.opcode, "NUM", "opcode (required)"),
		CLI_OPT("flags", 'f', CLI_OPT_U8, &c.flags, "NUM", "command flags"),
		CLI_OPT("prefill", 'p', CLI_OPT_U8, &c.prefill, "NUM",
			"prefill buffers with known byte-value, default 0"),
		CLI_OPT("rsvd", 'R', CLI_OPT_U16, &c.rsvd, "NUM", "value for reserved field"),
		CLI_OPT("namespace-id", 'n', CLI_OPT_U32, &c.nsid, "NUM",
			admin ? "desired namespace"
			      : "desired namespace (default: the first active)"),
		CLI_OPT("data-len", 'l', CLI_OPT_U32, &c.data_len, "NUM",
			"data I/O length (bytes)"),
		CLI_OPT("metadata-len", 'm', CLI_OPT_U32, &c.metadata_len, "NUM",
			"metadata seg. length (bytes); not carried by NVMe over Fabrics"),
		CLI_OPT("cdw2", '2', CLI_OPT_U32, &c.cdw2, "NUM", "command dword 2 value"),
		CLI_OPT("cdw3", '3', CLI_OPT_U32, &c.cdw3, "NUM", "command dword 3 value"),
		CLI_OPT("cdw10", '4', CLI_OPT_U32, &c.cdw10, "NUM", "command dword 10 value"),
		CLI_OPT("cdw11", '5', CLI_OPT_U32, &c.cdw11, "NUM", "command dword 11 value"),
		CLI_OPT("cdw12", '6', CLI_OPT_U32, &c.cdw12, "NUM", "command dword 12 value"),
		CLI_OPT("cdw13", '7', CLI_OPT_U32, &c.cdw13, "NUM", "command dword 13 value"),
		CLI_OPT("cdw14", '8', CLI_OPT_U32, &c.cdw14, "NUM", "command dword 14 value"),
		CLI_OPT("cdw15", '9', CLI_OPT_U32, &c.cdw15, "NUM", "command dword 15 value"),
		CLI_OPT("input-file", 'i', CLI_OPT_STR, &c.input_file, "FILE",
			"read/write buffer file (default stdin/stdout)"),
		CLI_OPT("metadata", 'M', CLI_OPT_STR, &c.metadata, "FILE",
			"metadata file; not carried by NVMe over Fabrics"),
		CLI_FLAG("raw-binary", 'b', &c.raw, "dump output in binary format"),
		CLI_FLAG("show-command", 's', &c.show, "print command before sending"),
		CLI_FLAG("dry-run", 'd', &c.dry_run, "show command instead of sending"),
		CLI_FLAG("read", 'r', &c.read, "set dataflow direction to receive"),
		CLI_FLAG("write", 'w', &c.write, "set dataflow direction to send"),
		CLI_FLAG("latency", 'T', &c.latency, "output latency statistics"),
		CLI_END,
	};
	const char *kind = admin ? "Admin" : "IO";
	uint8_t *data = NULL;
	uint32_t result = 0;
	struct timeval t0, t1;
	const char *name;
	int fd = -1, ret;

	ret = cli_parse(ctx, argc, argv, opts);
	if (ret != CLI_PROCEED)
		return ret;
	if (!cli_opt_seen(opts, "opcode"))
		return cli_usage_error(ctx, "opcode parameter required");
	if (c.metadata_len || c.metadata)
		return cli_usage_error(ctx, "separate metadata is not carried by NVMe over "
					    "Fabrics");
	if (c.opcode & 1)
		c.write = true;
	if (c.opcode & 2)
		c.read = true;
	if (c.data_len && !c.read && !c.write)
		return cli_usage_error(ctx, "data direction not given");
	if (c.data_len) {
		size_t size = ((size_t)c.data_len + 4095) & ~(size_t)4095;

		data = aligned_alloc(4096, size);
		if (!data)
			return cli_result(ctx, -ENOMEM, "passthru");
		memset(data, c.prefill, size);
		if (c.write) {
			ssize_t n;

			fd = c.input_file ? open(c.input_file, O_RDONLY) : STDIN_FILENO;
			if (fd < 0) {
				fprintf(stderr, "%s: %s\n", c.input_file, strerror(errno));
				free(data);
				return CLI_EXIT_FAIL;
			}
			n = cli_read_full(fd, data, c.data_len);
			if (c.input_file)
				close(fd);
			if (n < 0) {
				fprintf(stderr, "failed to read write buffer %s\n",
					strerror((int)-n));
				free(data);
				return CLI_EXIT_FAIL;
			}
		}
	}
	if (c.show || c.dry_run)
		show_command(&c, ctx->timeout_ms, data);
	if (c.dry_run) {
		free(data);
		return CLI_EXIT_OK;
	}
	ret = cli_connect(ctx);
	if (ret != CLI_PROCEED) {
		free(data);
		return ret;
	}
	if (!admin && !cli_opt_seen(opts, "namespace-id"))
		c.nsid = cli_default_nsid(ctx);
	{
		struct nvme_sqe cmd = {
			.opcode = c.opcode,
			.flags = c.flags & NVME_CMD_FUSE_MASK,
			.nsid = c.nsid,
			.cdw2 = c.cdw2,
			.cdw3 = c.cdw3,
			.cdw10 = c.cdw10,
			.cdw11 = c.cdw11,
			.cdw12 = c.cdw12,
			.cdw13 = c.cdw13,
			.cdw14 = c.cdw14,
			.cdw15 = c.cdw15,
		};

		gettimeofday(&t0, NULL);
		ret = nvmf_host_passthru(ctx->ctrl, admin, &cmd, data, c.data_len, ctx->timeout_ms,
					 &result);
		gettimeofday(&t1, NULL);
	}
	name = nvme_opcode_str(admin, c.opcode);
	if (!strcmp(name, "Unknown"))
		name = "Vendor Specific";
	if (c.latency)
		printf("%s Command %s latency: %llu us\n", kind, name,
		       (unsigned long long)((uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000 +
					    (uint64_t)(t1.tv_usec - t0.tv_usec)));
	if (ret) {
		free(data);
		return cli_result(ctx, ret, "passthru");
	}
	fprintf(stderr, "%s Command %s is Success and result: 0x%08x\n", kind, name, result);
	if (ctx->fmt == CLI_FMT_JSON) {
		struct json_object *r = json_object_new_object();

		json_object_object_add(r, "opcode", json_object_new_int(c.opcode));
		json_object_object_add(r, "command", json_object_new_string(name));
		json_object_object_add(r, "result", json_object_new_uint64(result));
		if (c.read && data && !c.input_file)
			json_object_object_add(r, "data", json_hex(data, c.data_len));
		json_print(r);
	}
	if (c.read && data) {
		if (c.input_file) {
			fd = open(c.input_file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			ret = fd < 0 ? -errno : cli_write_full(fd, data, c.data_len);
			if (fd >= 0)
				close(fd);
			if (ret)
				fprintf(stderr, "failed to write data buffer: %s\n",
					strerror(-ret));
		} else if (ctx->fmt == CLI_FMT_JSON) {
			/* in the JSON above */
		} else if (c.raw || ctx->fmt == CLI_FMT_BINARY) {
			ret = show_binary(data, c.data_len) ? -EIO : 0;
		} else {
			show_hexdump(data, c.data_len);
		}
	}
	free(data);
	return ret ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

int cmd_admin_passthru(struct cli_ctx *ctx, int argc, char **argv)
{
	return passthru(ctx, argc, argv, true);
}

int cmd_io_passthru(struct cli_ctx *ctx, int argc, char **argv)
{
	return passthru(ctx, argc, argv, false);
}
