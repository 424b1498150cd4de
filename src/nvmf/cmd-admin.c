// SPDX-License-Identifier: MIT
/*
 * Admin subcommands: identify (id-ctrl, id-ns, list-ns, ns-descs), log pages (smart-log,
 * error-log, effects-log, get-log) and features (get-feature, set-feature), with nvme-cli's
 * flags (nvme-cli 2.x nvme.c).
 */
#include "cli.h"
#include "print.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Parse, then connect. */
static int start(struct cli_ctx *ctx, int argc, char **argv, struct cli_opt *opts)
{
	int ret = cli_parse(ctx, argc, argv, opts);

	if (ret != CLI_PROCEED)
		return ret;
	return cli_connect(ctx);
}

static enum cli_fmt out_fmt(const struct cli_ctx *ctx, bool raw)
{
	return raw ? CLI_FMT_BINARY : ctx->fmt;
}

static unsigned int show_flags(const struct cli_ctx *ctx, bool human, bool vs)
{
	return (human || ctx->verbose ? SHOW_HUMAN : 0) | (vs ? SHOW_VS : 0);
}

int cmd_id_ctrl(struct cli_ctx *ctx, int argc, char **argv)
{
	struct {
		bool vs, raw, human;
	} cfg = { 0 };
	struct cli_opt opts[] = {
		CLI_FLAG("vendor-specific", 'V', &cfg.vs, "dump binary vendor field"),
		CLI_FLAG("raw-binary", 'b', &cfg.raw, "show identify in binary format"),
		CLI_FLAG("human-readable", 'H', &cfg.human, "show identify in readable format"),
		CLI_END,
	};
	struct nvme_id_ctrl id;
	int ret = start(ctx, argc, argv, opts);

	if (ret != CLI_PROCEED)
		return ret;
	ret = nvmf_host_identify(ctx->ctrl, NVME_ID_CNS_CTRL, 0, NVME_CSI_NVM, &id);
	if (ret)
		return cli_result(ctx, ret, "identify controller");
	show_id_ctrl(&id, out_fmt(ctx, cfg.raw), show_flags(ctx, cfg.human, cfg.vs));
	return CLI_EXIT_OK;
}

int cmd_id_ns(struct cli_ctx *ctx, int argc, char **argv)
{
	struct {
		uint32_t nsid;
		bool force, vs, raw, human;
	} cfg = { 0 };
	struct cli_opt opts[] = {
		CLI_OPT("namespace-id", 'n', CLI_OPT_U32, &cfg.nsid, "NUM",
			"identifier of desired namespace (default: the first active)"),
		CLI_FLAG("force", 0, &cfg.force, "return the data of an allocated namespace"),
		CLI_FLAG("vendor-specific", 'V', &cfg.vs, "dump binary vendor fields"),
		CLI_FLAG("raw-binary", 'b', &cfg.raw, "show identify in binary format"),
		CLI_FLAG("human-readable", 'H', &cfg.human, "show identify in readable format"),
		CLI_END,
	};
	struct nvme_id_ns ns;
	int ret = start(ctx, argc, argv, opts);

	if (ret != CLI_PROCEED)
		return ret;
	if (!cli_opt_seen(opts, "namespace-id"))
		cfg.nsid = cli_default_nsid(ctx);
	ret = nvmf_host_identify(ctx->ctrl, cfg.force ? NVME_ID_CNS_NS_PRESENT : NVME_ID_CNS_NS,
				 cfg.nsid, NVME_CSI_NVM, &ns);
	if (ret)
		return cli_result(ctx, ret, "identify namespace");
	show_id_ns(&ns, cfg.nsid, out_fmt(ctx, cfg.raw), show_flags(ctx, cfg.human, cfg.vs));
	return CLI_EXIT_OK;
}

int cmd_list_ns(struct cli_ctx *ctx, int argc, char **argv)
{
	struct {
		uint32_t nsid;
		int csi;
		bool all;
	} cfg = { .csi = -1 };
	struct cli_opt opts[] = {
		CLI_OPT("namespace-id", 'n', CLI_OPT_U32, &cfg.nsid, "NUM",
			"first NSID returned list should start from"),
		CLI_OPT("csi", 'y', CLI_OPT_INT, &cfg.csi, "NUM", "I/O command set identifier"),
		CLI_FLAG("all", 'a', &cfg.all,
			 "show all namespaces in the subsystem, whether "
			 "attached or inactive"),
		CLI_END,
	};
	uint32_t list[1024];
	uint8_t cns;
	int ret = start(ctx, argc, argv, opts);

	if (ret != CLI_PROCEED)
		return ret;
	if (cfg.csi > 0xff)
		return cli_usage_error(ctx, "invalid --csi %d", cfg.csi);
	if (cfg.all)
		cns = cfg.csi < 0 ? NVME_ID_CNS_NS_PRESENT_LIST : 0x1a;
	else
		cns = cfg.csi < 0 ? NVME_ID_CNS_NS_ACTIVE_LIST : NVME_ID_CNS_NS_ACTIVE_LIST_CS;
	ret = nvmf_host_identify(ctx->ctrl, cns, cfg.nsid, cfg.csi < 0 ? 0 : (uint8_t)cfg.csi,
				 list);
	if (ret)
		return cli_result(ctx, ret, "id namespace list");
	show_ns_list(list, 1024, ctx->fmt, show_flags(ctx, false, false));
	return CLI_EXIT_OK;
}

int cmd_ns_descs(struct cli_ctx *ctx, int argc, char **argv)
{
	struct {
		uint32_t nsid;
		bool raw;
	} cfg = { 0 };
	struct cli_opt opts[] = {
		CLI_OPT("namespace-id", 'n', CLI_OPT_U32, &cfg.nsid, "NUM",
			"identifier of desired namespace (default: the first active)"),
		CLI_FLAG("raw-binary", 'b', &cfg.raw, "show descriptors in binary format"),
		CLI_END,
	};
	uint8_t buf[NVME_IDENTIFY_DATA_SIZE];
	int ret = start(ctx, argc, argv, opts);

	if (ret != CLI_PROCEED)
		return ret;
	if (!cli_opt_seen(opts, "namespace-id"))
		cfg.nsid = cli_default_nsid(ctx);
	ret = nvmf_host_identify(ctx->ctrl, NVME_ID_CNS_NS_DESC_LIST, cfg.nsid, NVME_CSI_NVM, buf);
	if (ret)
		return cli_result(ctx, ret, "identify namespace descriptors");
	show_ns_descs(buf, cfg.nsid, out_fmt(ctx, cfg.raw), show_flags(ctx, false, false));
	return CLI_EXIT_OK;
}

int cmd_smart_log(struct cli_ctx *ctx, int argc, char **argv)
{
	struct {
		uint32_t nsid;
		bool raw, human;
	} cfg = { .nsid = NVME_NSID_ALL };
	struct cli_opt opts[] = {
		CLI_OPT("namespace-id", 'n', CLI_OPT_U32, &cfg.nsid, "NUM",
			"(optional) desired namespace (default: the controller, 0xffffffff)"),
		CLI_FLAG("raw-binary", 'b', &cfg.raw, "output in binary format"),
		CLI_FLAG("human-readable", 'H', &cfg.human, "show info in readable format"),
		CLI_END,
	};
	struct nvme_smart_log log;
	int ret = start(ctx, argc, argv, opts);

	if (ret != CLI_PROCEED)
		return ret;
	ret = nvmf_host_get_log(ctx->ctrl, NVME_LOG_SMART, cfg.nsid, 0, 0, false, &log,
				sizeof(log));
	if (ret)
		return cli_result(ctx, ret, "smart log");
	show_smart_log(&log, cfg.nsid, ctx->devname, out_fmt(ctx, cfg.raw),
		       show_flags(ctx, cfg.human, false));
	return CLI_EXIT_OK;
}

int cmd_error_log(struct cli_ctx *ctx, int argc, char **argv)
{
	struct {
		uint32_t entries;
		bool raw;
	} cfg = { .entries = 64 };
	struct cli_opt opts[] = {
		CLI_OPT("log-entries", 'e', CLI_OPT_U32, &cfg.entries, "NUM",
			"number of entries to retrieve (default 64, at most ELPE + 1)"),
		CLI_FLAG("raw-binary", 'b', &cfg.raw, "dump in binary format"),
		CLI_END,
	};
	struct nvme_error_log_entry *log;
	int ret = start(ctx, argc, argv, opts);

	if (ret != CLI_PROCEED)
		return ret;
	if (!cfg.entries)
		return cli_usage_error(ctx, "non-zero log-entries is required param");
	if (cfg.entries > (uint32_t)nvmf_host_ctrl_id(ctx->ctrl)->elpe + 1)
		cfg.entries = (uint32_t)nvmf_host_ctrl_id(ctx->ctrl)->elpe + 1;
	log = calloc(cfg.entries, sizeof(*log));
	if (!log)
		return cli_result(ctx, -ENOMEM, "error log");
	ret = cli_get_log(ctx, NVME_LOG_ERROR, NVME_NSID_ALL, 0, 0, false, log,
			  cfg.entries * (uint32_t)sizeof(*log), 0);
	if (!ret)
		show_error_log(log, cfg.entries, ctx->devname, out_fmt(ctx, cfg.raw));
	free(log);
	return cli_result(ctx, ret, "error log");
}

/* Get Log Page with every field of NVMe Base 2.0c Figure 197 (cdw10..14), in one piece. */
static int get_log_raw(struct cli_ctx *ctx, uint8_t lid, uint32_t nsid, uint8_t lsp, uint16_t lsi,
		       bool rae, uint8_t uuid, uint8_t csi, bool ot, uint64_t lpo, void *buf,
		       uint32_t len)
{
	uint32_t numd = len / 4 - 1;
	struct nvme_sqe cmd = {
		.opcode = nvme_admin_get_log_page,
		.nsid = nsid,
		.cdw10 = lid | (uint32_t)(lsp & 0x7f) << 8 | (rae ? NVME_LOG_RAE : 0) |
			 (numd & 0xffff) << 16,
		.cdw11 = numd >> 16 | (uint32_t)lsi << 16,
		.cdw12 = (uint32_t)lpo,
		.cdw13 = (uint32_t)(lpo >> 32),
		.cdw14 = (uint32_t)(uuid & 0x7f) | (ot ? 1u << 23 : 0) | (uint32_t)csi << 24,
	};

	return nvmf_host_passthru(ctx->ctrl, true, &cmd, buf, len, ctx->timeout_ms, NULL);
}

int cmd_effects_log(struct cli_ctx *ctx, int argc, char **argv)
{
	struct {
		bool human, raw;
		int csi;
	} cfg = { .csi = -1 };
	struct cli_opt opts[] = {
		CLI_FLAG("human-readable", 'H', &cfg.human, "show log in readable format"),
		CLI_FLAG("raw-binary", 'b', &cfg.raw, "show log in binary format"),
		CLI_OPT("csi", 'c', CLI_OPT_INT, &cfg.csi, "NUM",
			"command set identifier (default: NVM)"),
		CLI_END,
	};
	struct nvme_effects_log log;
	int ret = start(ctx, argc, argv, opts);

	if (ret != CLI_PROCEED)
		return ret;
	if (cfg.csi > 0xff)
		return cli_usage_error(ctx, "invalid --csi %d", cfg.csi);
	if (cfg.csi > 0)
		ret = get_log_raw(ctx, NVME_LOG_CMD_EFFECTS, 0, 0, 0, false, 0, (uint8_t)cfg.csi,
				  false, 0, &log, sizeof(log));
	else
		ret = cli_get_log(ctx, NVME_LOG_CMD_EFFECTS, 0, 0, 0, false, &log, sizeof(log), 0);
	if (ret)
		return cli_result(ctx, ret, "effects log page");
	show_effects_log(&log, cfg.csi < 0 ? NVME_CSI_NVM : (uint8_t)cfg.csi, out_fmt(ctx, cfg.raw),
			 show_flags(ctx, cfg.human, false));
	return CLI_EXIT_OK;
}

int cmd_get_log(struct cli_ctx *ctx, int argc, char **argv)
{
	struct {
		uint32_t nsid, len, aen, xfer;
		uint64_t lpo;
		uint16_t lsi;
		uint8_t lid, lsp, uuid, csi;
		bool rae, raw, ot;
	} cfg = { .nsid = NVME_NSID_ALL, .xfer = 4096 };
	struct cli_opt opts[] = {
		CLI_OPT("namespace-id", 'n', CLI_OPT_U32, &cfg.nsid, "NUM",
			"desired namespace (default 0xffffffff)"),
		CLI_OPT("log-id", 'i', CLI_OPT_U8, &cfg.lid, "NUM",
			"identifier of log to retrieve"),
		CLI_OPT("log-len", 'l', CLI_OPT_U32, &cfg.len, "NUM", "how many bytes to retrieve"),
		CLI_OPT("aen", 'a', CLI_OPT_U32, &cfg.aen, "NUM",
			"result of the aen, use to override log id"),
		CLI_OPT("lpo", 'L', CLI_OPT_SIZE, &cfg.lpo, "NUM", "log page offset, bytes"),
		CLI_OPT("lsp", 's', CLI_OPT_U8, &cfg.lsp, "NUM", "log specific field"),
		CLI_OPT("lsi", 'S', CLI_OPT_U16, &cfg.lsi, "NUM", "log specific identifier"),
		CLI_FLAG("rae", 'r', &cfg.rae, "retain an asynchronous event"),
		CLI_OPT("uuid-index", 'U', CLI_OPT_U8, &cfg.uuid, "NUM", "UUID index"),
		CLI_FLAG("raw-binary", 'b', &cfg.raw, "output in raw format"),
		CLI_OPT("csi", 'y', CLI_OPT_U8, &cfg.csi, "NUM", "command set identifier"),
		CLI_FLAG("ot", 'O', &cfg.ot, "offset type (index instead of bytes)"),
		CLI_OPT("xfer-len", 'x', CLI_OPT_U32, &cfg.xfer, "NUM",
			"read chunk size, a multiple of 4 KiB (default 4096)"),
		CLI_END,
	};
	uint8_t *log;
	int ret = cli_parse(ctx, argc, argv, opts);

	if (ret != CLI_PROCEED)
		return ret;
	if (cfg.aen) {
		cfg.len = 4096;
		cfg.lid = (cfg.aen >> 16) & 0xff;
	}
	if (!cfg.len || cfg.len & 3)
		return cli_usage_error(ctx, "non-zero or non-dw alignment log-len is required "
					    "param");
	if (cfg.lsp > 127)
		return cli_usage_error(ctx, "invalid lsp param");
	if (cfg.uuid > 127)
		return cli_usage_error(ctx, "invalid uuid index param");
	if (!cfg.xfer || cfg.xfer % 4096)
		return cli_usage_error(ctx, "xfer-len argument invalid. It needs to be multiple of "
					    "4k");
	ret = cli_connect(ctx);
	if (ret != CLI_PROCEED)
		return ret;
	log = calloc(1, cfg.len);
	if (!log)
		return cli_result(ctx, -ENOMEM, "log page");
	ret = 0;
	for (uint32_t done = 0; done < cfg.len && !ret;) {
		uint32_t n = cfg.len - done < cfg.xfer ? cfg.len - done : cfg.xfer;

		/* RAE on every piece but the last, as nvme-cli's nvme_get_log() */
		ret = get_log_raw(ctx, cfg.lid, cfg.nsid, cfg.lsp, cfg.lsi,
				  done + n < cfg.len ? true : cfg.rae, cfg.uuid, cfg.csi, cfg.ot,
				  cfg.lpo + done, log + done, n);
		done += n;
	}
	if (!ret) {
		if (cfg.raw || ctx->fmt == CLI_FMT_BINARY) {
			ret = show_binary(log, cfg.len) ? -EIO : 0;
		} else if (ctx->fmt == CLI_FMT_JSON) {
			struct json_object *r = json_object_new_object();

			json_object_object_add(r, "device", json_object_new_string(ctx->devname));
			json_object_object_add(r, "log_id", json_object_new_int(cfg.lid));
			json_object_object_add(r, "namespace_id", json_object_new_uint64(cfg.nsid));
			json_object_object_add(r, "log_len", json_object_new_uint64(cfg.len));
			json_object_object_add(r, "data", json_hex(log, cfg.len));
			json_print(r);
		} else {
			printf("Device:%s log-id:%d namespace-id:%#x\n", ctx->devname, cfg.lid,
			       cfg.nsid);
			show_hexdump(log, cfg.len);
		}
	}
	free(log);
	return cli_result(ctx, ret, "log page");
}

/* Data buffer length nvme-cli uses for a feature when --data-len is not given. */
static uint32_t feature_buf_len(uint8_t fid, uint32_t cdw11)
{
	switch (fid) {
	case NVME_FEAT_LBA_RANGE:
	case NVME_FEAT_HOST_MEM_BUF:
		return 4096;
	case NVME_FEAT_AUTO_PST:
		return 256;
	case NVME_FEAT_TIMESTAMP:
		return 8;
	case NVME_FEAT_HOST_BEHAVIOR:
	case 0x13: /* Predictable Latency Mode Config */
		return 512;
	case NVME_FEAT_HOST_ID:
		return cdw11 & 1 ? 16 : 8; /* EXHID: 128-bit host identifier */
	}
	return 0;
}

static int get_feature_one(struct cli_ctx *ctx, uint8_t fid, uint32_t nsid, uint8_t sel,
			   uint32_t cdw11, uint8_t uuid, void *buf, uint32_t len, uint32_t *result)
{
	struct nvme_sqe cmd = {
		.opcode = nvme_admin_get_features,
		.nsid = nsid,
		.cdw10 = fid | (uint32_t)(sel & 7) << 8,
		.cdw11 = cdw11,
		.cdw14 = uuid & 0x7f,
	};

	if (!uuid)
		return nvmf_host_get_feature(ctx->ctrl, fid, nsid, sel, cdw11, len ? buf : NULL,
					     len, result);
	return nvmf_host_passthru(ctx->ctrl, true, &cmd, len ? buf : NULL, len, ctx->timeout_ms,
				  result);
}

int cmd_get_feature(struct cli_ctx *ctx, int argc, char **argv)
{
	static const uint8_t all_fids[] = {
		NVME_FEAT_ARBITRATION,	 NVME_FEAT_POWER_MGMT,	  NVME_FEAT_LBA_RANGE,
		NVME_FEAT_TEMP_THRESH,	 NVME_FEAT_ERR_RECOVERY,  NVME_FEAT_VOLATILE_WC,
		NVME_FEAT_NUM_QUEUES,	 NVME_FEAT_IRQ_COALESCE,  NVME_FEAT_IRQ_CONFIG,
		NVME_FEAT_WRITE_ATOMIC,	 NVME_FEAT_ASYNC_EVENT,	  NVME_FEAT_AUTO_PST,
		NVME_FEAT_HOST_MEM_BUF,	 NVME_FEAT_TIMESTAMP,	  NVME_FEAT_KATO,
		NVME_FEAT_HCTM,		 NVME_FEAT_NOPSC,	  NVME_FEAT_RRL,
		NVME_FEAT_HOST_BEHAVIOR, NVME_FEAT_HOST_ID,	  NVME_FEAT_RESV_MASK,
		NVME_FEAT_RESV_PERSIST,	 NVME_FEAT_WRITE_PROTECT,
	};
	struct {
		uint32_t nsid, len, cdw11;
		uint8_t fid, sel, uuid;
		bool raw, human, changed;
	} cfg = { 0 };
	struct cli_opt opts[] = {
		CLI_OPT("feature-id", 'f', CLI_OPT_U8, &cfg.fid, "NUM",
			"feature identifier (default: all features)"),
		CLI_OPT("namespace-id", 'n', CLI_OPT_U32, &cfg.nsid, "NUM",
			"identifier of desired namespace"),
		CLI_OPT("sel", 's', CLI_OPT_U8, &cfg.sel, "NUM",
			"[0-3]: current/default/saved/supported"),
		CLI_OPT("data-len", 'l', CLI_OPT_U32, &cfg.len, "NUM",
			"buffer len if data is returned through host memory buffer"),
		CLI_FLAG("raw-binary", 'b', &cfg.raw, "show feature in binary format"),
		CLI_OPT("cdw11", 'c', CLI_OPT_U32, &cfg.cdw11, "NUM", "feature specific dword 11"),
		CLI_OPT("uuid-index", 'U', CLI_OPT_U8, &cfg.uuid, "NUM", "UUID index"),
		CLI_FLAG("human-readable", 'H', &cfg.human, "show feature in readable format"),
		CLI_FLAG("changed", 'C', &cfg.changed,
			 "show feature changed (only those whose current value differs from the "
			 "default)"),
		CLI_END,
	};
	struct json_object *all = NULL;
	const uint8_t *fids = all_fids;
	size_t nr = sizeof(all_fids);
	bool one;
	int ret = cli_parse(ctx, argc, argv, opts);

	if (ret != CLI_PROCEED)
		return ret;
	if (cfg.sel > 3)
		return cli_usage_error(ctx, "invalid 'select' param:%u", cfg.sel);
	if (cfg.uuid > 127)
		return cli_usage_error(ctx, "invalid uuid index param: %u", cfg.uuid);
	ret = cli_connect(ctx);
	if (ret != CLI_PROCEED)
		return ret;
	one = cli_opt_seen(opts, "feature-id");
	if (one) {
		fids = &cfg.fid;
		nr = 1;
	} else if (ctx->fmt == CLI_FMT_JSON) {
		all = json_object_new_array();
	}
	for (size_t i = 0; i < nr; i++) {
		uint32_t len = cli_opt_seen(opts, "data-len") ? cfg.len
							      : feature_buf_len(fids[i], cfg.cdw11);
		uint32_t result = 0, dflt = 0;
		void *buf = NULL;

		if (len && !(buf = calloc(1, len)))
			return cli_result(ctx, -ENOMEM, "get-feature");
		ret = get_feature_one(ctx, fids[i], cfg.nsid, cfg.sel, cfg.cdw11, cfg.uuid, buf,
				      len, &result);
		if (!ret && cfg.changed && cfg.sel == NVME_FEAT_SEL_CURRENT &&
		    !get_feature_one(ctx, fids[i], cfg.nsid, NVME_FEAT_SEL_DEFAULT, cfg.cdw11,
				     cfg.uuid, NULL, 0, &dflt) &&
		    dflt == result) {
			free(buf);
			continue;
		}
		if (ret > 0 && !one) {
			/* "all features": skip those the controller does not implement */
			free(buf);
			ret = 0;
			continue;
		}
		if (ret) {
			free(buf);
			if (all)
				json_object_put(all);
			if (ret > 0)
				fprintf(stderr, "get-feature:%#0*x (%s): ", fids[i] ? 4 : 2,
					fids[i], nvme_feature_str(fids[i]));
			return cli_result(ctx, ret, "get-feature");
		}
		if (all)
			json_object_array_add(all,
					      json_feature_obj(fids[i], cfg.sel, result, buf, len));
		else
			show_feature(fids[i], cfg.sel, result, buf, len, out_fmt(ctx, cfg.raw),
				     show_flags(ctx, cfg.human, false));
		free(buf);
	}
	if (all)
		json_print(all);
	return CLI_EXIT_OK;
}

int cmd_set_feature(struct cli_ctx *ctx, int argc, char **argv)
{
	struct {
		uint32_t nsid, cdw12, len;
		uint64_t value;
		uint8_t fid, uuid;
		const char *file;
		bool save;
	} cfg = { 0 };
	struct cli_opt opts[] = {
		CLI_OPT("namespace-id", 'n', CLI_OPT_U32, &cfg.nsid, "NUM", "desired namespace"),
		CLI_OPT("feature-id", 'f', CLI_OPT_U8, &cfg.fid, "NUM",
			"feature identifier "
			"(required)"),
		CLI_OPT("value", 'V', CLI_OPT_SIZE, &cfg.value, "NUM",
			"new value of feature "
			"(CDW11)"),
		CLI_OPT("cdw12", 'c', CLI_OPT_U32, &cfg.cdw12, "NUM", "feature cdw12, if used"),
		CLI_OPT("uuid-index", 'U', CLI_OPT_U8, &cfg.uuid, "NUM", "UUID index"),
		CLI_OPT("data-len", 'l', CLI_OPT_U32, &cfg.len, "NUM",
			"buffer length if data required"),
		CLI_OPT("data", 'd', CLI_OPT_STR, &cfg.file, "FILE",
			"optional file for feature data (default stdin)"),
		CLI_FLAG("save", 's', &cfg.save,
			 "specifies that the controller shall save the "
			 "attribute"),
		CLI_END,
	};
	uint32_t result = 0;
	uint8_t *buf = NULL;
	int ret = cli_parse(ctx, argc, argv, opts);

	if (ret != CLI_PROCEED)
		return ret;
	if (!cli_opt_seen(opts, "feature-id"))
		return cli_usage_error(ctx, "feature-id required param");
	if (cfg.value > UINT32_MAX)
		return cli_usage_error(ctx, "value %#llx does not fit CDW11",
				       (unsigned long long)cfg.value);
	if (cfg.uuid > 127)
		return cli_usage_error(ctx, "invalid uuid index param: %u", cfg.uuid);
	if (!cfg.len && cfg.file)
		cfg.len = feature_buf_len(cfg.fid, (uint32_t)cfg.value);
	if (cfg.len) {
		int fd = cfg.file ? open(cfg.file, O_RDONLY) : STDIN_FILENO;
		ssize_t n;

		if (fd < 0) {
			fprintf(stderr, "%s: %s\n", cfg.file, strerror(errno));
			return CLI_EXIT_FAIL;
		}
		buf = calloc(1, cfg.len);
		n = buf ? cli_read_full(fd, buf, cfg.len) : -ENOMEM;
		if (cfg.file)
			close(fd);
		if (n < 0) {
			free(buf);
			return cli_result(ctx, (int)n, "set-feature: read data");
		}
	}
	ret = cli_connect(ctx);
	if (ret != CLI_PROCEED) {
		free(buf);
		return ret;
	}
	if (!cfg.cdw12 && !cfg.uuid) {
		ret = nvmf_host_set_feature(ctx->ctrl, cfg.fid, cfg.nsid, (uint32_t)cfg.value,
					    cfg.save, buf, cfg.len, &result);
	} else {
		struct nvme_sqe cmd = {
			.opcode = nvme_admin_set_features,
			.nsid = cfg.nsid,
			.cdw10 = cfg.fid | (cfg.save ? NVME_FEAT_SV : 0),
			.cdw11 = (uint32_t)cfg.value,
			.cdw12 = cfg.cdw12,
			.cdw14 = cfg.uuid & 0x7f,
		};

		ret = nvmf_host_passthru(ctx->ctrl, true, &cmd, buf, cfg.len, ctx->timeout_ms,
					 &result);
	}
	if (!ret) {
		if (ctx->fmt == CLI_FMT_JSON) {
			struct json_object *r = json_object_new_object();

			json_object_object_add(r, "feature_id", json_object_new_int(cfg.fid));
			json_object_object_add(r, "name",
					       json_object_new_string(nvme_feature_str(cfg.fid)));
			json_object_object_add(r, "value", json_object_new_uint64(cfg.value));
			json_object_object_add(r, "cdw12", json_object_new_uint64(cfg.cdw12));
			json_object_object_add(r, "save", json_object_new_boolean(cfg.save));
			json_object_object_add(r, "result", json_object_new_uint64(result));
			json_print(r);
		} else {
			printf("set-feature:%#0*x (%s), value:%#0*llx, cdw12:%#0*x, save:%#x\n",
			       cfg.fid ? 4 : 2, cfg.fid, nvme_feature_str(cfg.fid),
			       cfg.value ? 10 : 8, (unsigned long long)cfg.value,
			       cfg.cdw12 ? 10 : 8, cfg.cdw12, cfg.save);
			if (buf)
				show_hexdump(buf, cfg.len);
		}
	}
	free(buf);
	return cli_result(ctx, ret, "set-feature");
}
