// SPDX-License-Identifier: MIT
/*
 * The CLI's "normal" (text) output, laid out as nvme-cli prints it, and the dispatch of every
 * show_*() to text, JSON (print-json.c) or raw binary.
 */
#include "print.h"
#include "fields.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void le128_to_str(const uint8_t v[16], char *out, size_t len)
{
	uint32_t w[4];
	char tmp[48];
	size_t n = 0;

	for (int i = 0; i < 4; i++)
		w[i] = (uint32_t)v[4 * i] | (uint32_t)v[4 * i + 1] << 8 |
		       (uint32_t)v[4 * i + 2] << 16 | (uint32_t)v[4 * i + 3] << 24;
	/* long division by 10, most significant word first */
	do {
		uint64_t rem = 0;

		for (int i = 3; i >= 0; i--) {
			uint64_t cur = rem << 32 | w[i];

			w[i] = (uint32_t)(cur / 10);
			rem = cur % 10;
		}
		tmp[n++] = (char)('0' + rem);
	} while ((w[0] | w[1] | w[2] | w[3]) && n < sizeof(tmp));
	if (!len)
		return;
	for (size_t i = 0; i < n && i + 1 < len; i++)
		out[i] = tmp[n - 1 - i];
	out[n < len ? n : len - 1] = '\0';
}

double le128_to_double(const uint8_t v[16])
{
	double d = 0;

	for (int i = 15; i >= 0; i--)
		d = d * 256 + v[i];
	return d;
}

void show_hexdump(const void *buf, size_t len)
{
	const uint8_t *b = buf;
	char ascii[17] = { 0 };
	size_t i;

	printf("     ");
	for (i = 0; i < 16; i++)
		printf("%3zx", i);
	for (i = 0; i < len; i++) {
		if (!(i % 16))
			printf("\n%04zx:", i);
		printf(" %02x", b[i]);
		ascii[i % 16] = b[i] >= '!' && b[i] <= '~' ? (char)b[i] : '.';
		if (i % 16 == 15) {
			printf(" \"%.16s\"", ascii);
			memset(ascii, 0, sizeof(ascii));
		}
	}
	if (i % 16)
		printf(" %*s \"%.16s\"", (int)(3 * (16 - i % 16)) - 1, "", ascii);
	printf("\n");
}

int show_binary(const void *buf, size_t len)
{
	int ret = cli_write_full(STDOUT_FILENO, buf, len);

	if (ret < 0) {
		fprintf(stderr, "write: %s\n", strerror(-ret));
		return CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
}

static void uuid_str(const uint8_t u[16], char out[37])
{
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
		 u[13], u[14], u[15]);
}

/* One "name : value" line of an nvme-cli identify listing. */
static void print_field(const void *base, const struct show_field *f, int width)
{
	const uint8_t *p = (const uint8_t *)base + f->off;
	char s[64];

	printf("%-*s: ", width, f->name);
	switch (f->kind) {
	case FIELD_HEX:
		printf("%#llx\n", (unsigned long long)field_u64(base, f));
		break;
	case FIELD_DEC:
		printf("%llu\n", (unsigned long long)field_u64(base, f));
		break;
	case FIELD_STR:
		printf("%-.*s\n", (int)f->size, (const char *)p);
		break;
	case FIELD_U128:
		le128_to_str(p, s, sizeof(s));
		printf("%s\n", s);
		break;
	case FIELD_IEEE:
		printf("%02x%02x%02x\n", p[2], p[1], p[0]);
		break;
	case FIELD_UUID:
		uuid_str(p, s);
		printf("%s\n", s);
		break;
	case FIELD_BYTES:
		for (unsigned int i = 0; i < f->size; i++)
			printf("%02x", p[i]);
		printf("\n");
		break;
	}
}

static void human_bits(const char *const *names, unsigned int nr, uint64_t v)
{
	for (unsigned int i = 0; i < nr; i++)
		if (names[i])
			printf("  [%2u:%2u] : %#llx\t%s %sSupported\n", i, i,
			       (unsigned long long)((v >> i) & 1), names[i],
			       (v >> i) & 1 ? "" : "Not ");
}

static void id_ctrl_human(const struct show_field *f, const struct nvme_id_ctrl *id)
{
	static const char *const oncs[] = { "Compare",
					    "Write Uncorrectable",
					    "Data Set Management",
					    "Write Zeroes",
					    "Save and Select",
					    "Reservations",
					    "Timestamp",
					    "Verify",
					    "Copy" };
	static const char *const lpa[] = { "SMART/Health Log per Namespace",
					   "Commands Supported and Effects Log",
					   "Extended Get Log Page", "Telemetry Log",
					   "Persistent Event Log" };
	static const char *const cmic[] = { "Multiple Ports", "Multiple Controllers", "SR-IOV",
					    "ANA Reporting" };
	static const char *const oacs[] = { "Security Send/Receive",	"Format NVM",
					    "Firmware Download/Commit", "Namespace Management",
					    "Device Self-test",		"Directives",
					    "NVMe-MI Send/Receive",	"Virtualization Management",
					    "Doorbell Buffer Config",	"Get LBA Status" };

	if (!strcmp(f->name, "oncs"))
		human_bits(oncs, 9, id->oncs);
	else if (!strcmp(f->name, "lpa"))
		human_bits(lpa, 5, id->lpa);
	else if (!strcmp(f->name, "cmic"))
		human_bits(cmic, 4, id->cmic);
	else if (!strcmp(f->name, "oacs"))
		human_bits(oacs, 10, id->oacs);
	else if (!strcmp(f->name, "cntrltype"))
		printf("  [1:0] : %#x\t%s Controller\n", id->cntrltype,
		       id->cntrltype == NVME_CTRL_TYPE_IO      ? "I/O"
		       : id->cntrltype == NVME_CTRL_TYPE_DISC  ? "Discovery"
		       : id->cntrltype == NVME_CTRL_TYPE_ADMIN ? "Administrative"
							       : "Reserved");
	else if (!strcmp(f->name, "vwc"))
		printf("  [0:0] : %#x\tVolatile Write Cache %sPresent\n", id->vwc & 1,
		       id->vwc & 1 ? "" : "Not ");
	else if (!strcmp(f->name, "sgls"))
		printf("  [1:0] : %#x\tSGLs %sSupported\n  [20:20]: %#x\tSGL Offset %sSupported\n",
		       id->sgls & 3, id->sgls & 3 ? "" : "Not ", (id->sgls >> 20) & 1,
		       id->sgls & NVME_SGLS_OFFSET ? "" : "Not ");
}

static void id_ctrl_power(const struct nvme_id_ctrl *id)
{
	for (unsigned int i = 0; i <= id->npss && i < 32; i++) {
		const struct nvme_id_power_state *ps = &id->psd[i];
		unsigned int mp = ps->max_power;

		printf("ps   %4u : mp:", i);
		if (ps->flags & 1)
			printf("%01u.%04uW ", mp / 10000, mp % 10000);
		else
			printf("%01u.%02uW ", mp / 100, mp % 100);
		if (ps->flags & 2)
			printf("non-");
		printf("operational enlat:%u exlat:%u rrt:%u rrl:%u\n            rwt:%u rwl:%u "
		       "idle_power:%u active_power:%u\n",
		       ps->entry_lat, ps->exit_lat, ps->read_tput, ps->read_lat, ps->write_tput,
		       ps->write_lat, ps->idle_power, ps->active_power);
	}
}

void show_id_ctrl(const struct nvme_id_ctrl *id, enum cli_fmt fmt, unsigned int flags)
{
	if (fmt == CLI_FMT_BINARY) {
		show_binary(id, sizeof(*id));
		return;
	}
	if (fmt == CLI_FMT_JSON) {
		json_id_ctrl(id);
		return;
	}
	printf("NVME Identify Controller:\n");
	for (const struct show_field *f = id_ctrl_fields; f->name; f++) {
		print_field(id, f, 10);
		if (flags & SHOW_HUMAN)
			id_ctrl_human(f, id);
	}
	id_ctrl_power(id);
	if (flags & SHOW_VS) {
		printf("vs[]:\n");
		show_hexdump(id->vs, sizeof(id->vs));
	}
}

void show_id_ns(const struct nvme_id_ns *ns, uint32_t nsid, enum cli_fmt fmt, unsigned int flags)
{
	unsigned int in_use = id_ns_lbaf_in_use(ns);
	unsigned int nulbaf = ((const uint8_t *)ns)[82];

	if (fmt == CLI_FMT_BINARY) {
		show_binary(ns, sizeof(*ns));
		return;
	}
	if (fmt == CLI_FMT_JSON) {
		json_id_ns(ns);
		return;
	}
	printf("NVME Identify Namespace %u:\n", nsid);
	for (const struct show_field *f = id_ns_fields; f->name; f++) {
		if ((f->flags & FIELD_IF_NPWG) && !(ns->nsfeat & 0x30))
			continue;
		if ((f->flags & FIELD_IF_NPDG) && !(ns->nsfeat & 0x10))
			continue;
		print_field(ns, f, 8);
	}
	for (unsigned int i = 0; i <= (unsigned int)ns->nlbaf + nulbaf && i < 64; i++) {
		if (flags & SHOW_HUMAN)
			printf("LBA Format %2u : Metadata Size: %-3u bytes - Data Size: %-2u bytes "
			       "- "
			       "Relative Performance: %#x %s %s\n",
			       i, ns->lbaf[i].ms, ns->lbaf[i].ds < 32 ? 1u << ns->lbaf[i].ds : 0,
			       ns->lbaf[i].rp,
			       ns->lbaf[i].rp == 3   ? "Degraded"
			       : ns->lbaf[i].rp == 2 ? "Good"
			       : ns->lbaf[i].rp == 1 ? "Better"
						     : "Best",
			       i == in_use ? "(in use)" : "");
		else
			printf("lbaf %2u : ms:%-3u lbads:%-2u rp:%#x %s\n", i, ns->lbaf[i].ms,
			       ns->lbaf[i].ds, ns->lbaf[i].rp, i == in_use ? "(in use)" : "");
	}
	if (flags & SHOW_VS) {
		printf("vs[]:\n");
		show_hexdump(ns->vs, sizeof(ns->vs));
	}
}

void show_ns_list(const uint32_t *list, size_t nr, enum cli_fmt fmt, unsigned int flags)
{
	if (fmt == CLI_FMT_BINARY) {
		show_binary(list, nr * sizeof(*list));
		return;
	}
	if (fmt == CLI_FMT_JSON) {
		json_ns_list(list, nr);
		return;
	}
	printf("NVME Namespace List:\n");
	for (size_t i = 0; i < nr; i++) {
		if (!list[i])
			continue;
		if (flags & SHOW_HUMAN)
			printf("Identifier %4zu: NSID %#x\n", i, list[i]);
		else
			printf("[%4zu]:%#x\n", i, list[i]);
	}
}

void show_ns_descs(const void *buf, uint32_t nsid, enum cli_fmt fmt, unsigned int flags)
{
	const uint8_t *b = buf;
	size_t pos = 0;

	if (fmt == CLI_FMT_BINARY) {
		show_binary(buf, NVME_IDENTIFY_DATA_SIZE);
		return;
	}
	if (fmt == CLI_FMT_JSON) {
		json_ns_descs(buf);
		return;
	}
	printf("NVME Namespace Identification Descriptors NS %u:\n", nsid);
	while (pos + sizeof(struct nvme_ns_id_desc) <= NVME_IDENTIFY_DATA_SIZE) {
		const struct nvme_ns_id_desc *d = (const void *)(b + pos);
		const uint8_t *v = b + pos + sizeof(*d);
		char s[40];

		if (!d->nidl || pos + sizeof(*d) + d->nidl > NVME_IDENTIFY_DATA_SIZE)
			break;
		if (flags & SHOW_HUMAN)
			printf("loc     : %zu\nnidt    : %u\nnidl    : %u\n", pos, d->nidt,
			       d->nidl);
		switch (d->nidt) {
		case NVME_NIDT_EUI64:
		case NVME_NIDT_NGUID:
			printf("%-8s: ", d->nidt == NVME_NIDT_EUI64 ? "eui64" : "nguid");
			for (unsigned int i = 0; i < d->nidl; i++)
				printf("%02x", v[i]);
			printf("\n");
			break;
		case NVME_NIDT_UUID:
			if (d->nidl < NVME_NIDT_UUID_LEN)
				break; /* too short to hold one: the controller's error */
			uuid_str(v, s);
			printf("uuid    : %s\n", s);
			break;
		case NVME_NIDT_CSI:
			printf("csi     : %#x\n", v[0]);
			break;
		default:
			break;
		}
		pos += sizeof(*d) + d->nidl;
	}
}

static void smart_temp(const char *name, unsigned int k)
{
	printf("%s: %d °C (%u K)\n", name, (int)k - 273, k);
}

void show_smart_log(const struct nvme_smart_log *s, uint32_t nsid, const char *dev,
		    enum cli_fmt fmt, unsigned int flags)
{
	static const struct {
		const char *name;
		size_t off;
	} counters[] = {
		{ "data_units_read\t\t\t\t", offsetof(struct nvme_smart_log, data_units_read) },
		{ "data_units_written\t\t\t", offsetof(struct nvme_smart_log, data_units_written) },
		{ "host_read_commands\t\t\t", offsetof(struct nvme_smart_log, host_reads) },
		{ "host_write_commands\t\t\t", offsetof(struct nvme_smart_log, host_writes) },
		{ "controller_busy_time\t\t\t", offsetof(struct nvme_smart_log, ctrl_busy_time) },
		{ "power_cycles\t\t\t\t", offsetof(struct nvme_smart_log, power_cycles) },
		{ "power_on_hours\t\t\t\t", offsetof(struct nvme_smart_log, power_on_hours) },
		{ "unsafe_shutdowns\t\t\t", offsetof(struct nvme_smart_log, unsafe_shutdowns) },
		{ "media_errors\t\t\t\t", offsetof(struct nvme_smart_log, media_errors) },
		{ "num_err_log_entries\t\t\t",
		  offsetof(struct nvme_smart_log, num_err_log_entries) },
	};
	char v[48];

	if (fmt == CLI_FMT_BINARY) {
		show_binary(s, sizeof(*s));
		return;
	}
	if (fmt == CLI_FMT_JSON) {
		json_smart_log(s, flags);
		return;
	}
	printf("Smart Log for NVME device:%s namespace-id:%x\n", dev, nsid);
	printf("critical_warning\t\t\t: %#x\n", s->critical_warning);
	if (flags & SHOW_HUMAN) {
		static const char *const cw[] = {
			"Available Spare[0]             ", "Temp. Threshold[1]             ",
			"NVM subsystem Reliability[2]   ", "Read-only[3]                   ",
			"Volatile mem. backup failed[4] ", "Persistent Mem. RO[5]          "
		};

		for (unsigned int i = 0; i < 6; i++)
			printf("      %s: %d\n", cw[i], (s->critical_warning >> i) & 1);
	}
	smart_temp("temperature\t\t\t\t", s->temperature);
	printf("available_spare\t\t\t\t: %u%%\n", s->avail_spare);
	printf("available_spare_threshold\t\t: %u%%\n", s->spare_thresh);
	printf("percentage_used\t\t\t\t: %u%%\n", s->percent_used);
	printf("endurance group critical warning summary: %#x\n", s->endu_grp_crit_warn_sumry);
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		const uint8_t *c = (const uint8_t *)s + counters[i].off;

		le128_to_str(c, v, sizeof(v));
		if (i < 2)
			printf("%s: %s (%.2f MB)\n", counters[i].name, v,
			       le128_to_double(c) * 512000 / 1e6);
		else
			printf("%s: %s\n", counters[i].name, v);
	}
	printf("Warning Temperature Time\t\t: %u\n", s->warning_temp_time);
	printf("Critical Composite Temperature Time\t: %u\n", s->critical_comp_time);
	for (unsigned int i = 0; i < 8; i++) {
		char name[48];

		if (!s->temp_sensor[i])
			continue;
		snprintf(name, sizeof(name), "Temperature Sensor %u\t\t\t", i + 1);
		smart_temp(name, s->temp_sensor[i]);
	}
	printf("Thermal Management T1 Trans Count\t: %u\n", s->thm_temp1_trans_count);
	printf("Thermal Management T2 Trans Count\t: %u\n", s->thm_temp2_trans_count);
	printf("Thermal Management T1 Total Time\t: %u\n", s->thm_temp1_total_time);
	printf("Thermal Management T2 Total Time\t: %u\n", s->thm_temp2_total_time);
}

void show_error_log(const struct nvme_error_log_entry *e, unsigned int nr, const char *dev,
		    enum cli_fmt fmt)
{
	if (fmt == CLI_FMT_BINARY) {
		show_binary(e, nr * sizeof(*e));
		return;
	}
	if (fmt == CLI_FMT_JSON) {
		json_error_log(e, nr);
		return;
	}
	printf("Error Log Entries for device:%s entries:%u\n", dev, nr);
	printf(".................\n");
	for (unsigned int i = 0; i < nr; i++) {
		unsigned int status = e[i].status_field >> 1;

		printf(" Entry[%2u]\n", i);
		printf(".................\n");
		printf("error_count\t: %llu\n", (unsigned long long)e[i].error_count);
		printf("sqid\t\t: %u\n", e[i].sqid);
		printf("cmdid\t\t: %#x\n", e[i].cmdid);
		printf("status_field\t: %#x (%s)\n", status, nvme_status_str((int)status, false));
		printf("phase_tag\t: %#x\n", e[i].status_field & 1);
		printf("parm_err_loc\t: %#x\n", e[i].param_error_location);
		printf("lba\t\t: %#llx\n", (unsigned long long)e[i].lba);
		printf("nsid\t\t: %#x\n", e[i].nsid);
		printf("vs\t\t: %u\n", e[i].vs);
		printf("trtype\t\t: %#x (%s)\n", e[i].trtype,
		       e[i].trtype ? nvmf_trtype_str(e[i].trtype)
				   : "The transport type is not "
				     "indicated or the error "
				     "is not transport related");
		printf("csi\t\t: %u\n", e[i].csi_rsvd & 0xff);
		printf("opcode\t\t: %#x\n", e[i].csi_rsvd >> 8);
		printf("cs\t\t: %#llx\n", (unsigned long long)e[i].cs);
		printf("trtype_spec_info: %#x\n", e[i].trtype_spec_info);
		printf("log_page_version: %u\n", e[i].rsvd[21]);
		printf(".................\n");
	}
}

static void effects_segment(const struct nvme_effects_log *l, bool admin, unsigned int from,
			    unsigned int to, const char *header, bool human)
{
	bool any = false;

	for (unsigned int op = from; op < to; op++) {
		uint32_t e = admin ? l->acs[op] : l->iocs[op];

		if (!(e & NVME_CMD_EFFECTS_CSUPP))
			continue;
		if (!any)
			printf("%s\n", header);
		any = true;
		printf(admin ? "ACS%-6u[%-32s] %08x" : "IOCS%-5u[%-32s] %08x", op,
		       nvme_opcode_str(admin, (uint8_t)op), e);
		if (human) {
			printf("  CSUPP+  LBCC%s  NCC%s  NIC%s  CCC%s",
			       e & NVME_CMD_EFFECTS_LBCC ? "+" : "-",
			       e & NVME_CMD_EFFECTS_NCC ? "+" : "-",
			       e & NVME_CMD_EFFECTS_NIC ? "+" : "-",
			       e & NVME_CMD_EFFECTS_CCC ? "+" : "-");
			switch ((e & NVME_CMD_EFFECTS_CSE_MASK) >> 16) {
			case 0:
				printf("  No command restriction\n");
				break;
			case 1:
				printf("  No other command for same namespace\n");
				break;
			case 2:
				printf("  No other command for any namespace\n");
				break;
			default:
				printf("  Reserved CSE\n");
				break;
			}
		} else {
			printf("\n");
		}
	}
	if (any)
		printf("\n");
}

void show_effects_log(const struct nvme_effects_log *l, uint8_t csi, enum cli_fmt fmt,
		      unsigned int flags)
{
	bool human = flags & SHOW_HUMAN;

	if (fmt == CLI_FMT_BINARY) {
		show_binary(l, sizeof(*l));
		return;
	}
	if (fmt == CLI_FMT_JSON) {
		json_effects_log(l, csi);
		return;
	}
	printf("%s Command Set Log Page\n", csi == NVME_CSI_NVM	  ? "NVM"
					    : csi == NVME_CSI_KV  ? "KV"
					    : csi == NVME_CSI_ZNS ? "ZNS"
								  : "Unknown");
	printf("%.80s\n", "-----------------------------------------------------------------------"
			  "---------------------------------");
	effects_segment(l, true, 0, 0xc0, "Admin Commands", human);
	effects_segment(l, true, 0xc0, 0x100, "Vendor Specific Admin Commands", human);
	effects_segment(l, false, 0, 0x80, "I/O Commands", human);
	effects_segment(l, false, 0x80, 0x100, "Vendor Specific I/O Commands", human);
}

void show_discovery_log(const struct nvmf_disc_rsp_page_hdr *log, uint64_t numrec, enum cli_fmt fmt)
{
	if (fmt == CLI_FMT_BINARY) {
		show_binary(log, sizeof(*log) + numrec * sizeof(log->entries[0]));
		return;
	}
	if (fmt == CLI_FMT_JSON) {
		json_discovery_log(log, numrec);
		return;
	}
	printf("\nDiscovery Log Number of Records %llu, Generation counter %llu\n",
	       (unsigned long long)numrec, (unsigned long long)log->genctr);
	for (uint64_t i = 0; i < numrec; i++) {
		const struct nvmf_disc_log_entry *e = &log->entries[i];

		printf("=====Discovery Log Entry %llu======\n", (unsigned long long)i);
		printf("trtype:  %s\n", nvmf_trtype_str(e->trtype));
		printf("adrfam:  %s\n",
		       strnlen(e->traddr, sizeof(e->traddr)) ? nvmf_adrfam_str(e->adrfam) : "");
		printf("subtype: %s\n", nvmf_subtype_str(e->subtype));
		printf("treq:    %s\n", nvmf_treq_str(e->treq));
		printf("portid:  %u\n", e->portid);
		printf("trsvcid: %.*s\n", (int)sizeof(e->trsvcid), e->trsvcid);
		printf("subnqn:  %.*s\n", (int)sizeof(e->subnqn), e->subnqn);
		printf("traddr:  %.*s\n", (int)sizeof(e->traddr), e->traddr);
		printf("eflags:  %s\n", nvmf_eflags_str(e->eflags));
		if (e->trtype == NVMF_TRTYPE_TCP)
			printf("sectype: %s\n", nvmf_sectype_str(e->tsas.tcp.sectype));
	}
}

static void feature_human(uint8_t fid, uint32_t r, const void *buf, uint32_t len)
{
	switch (fid) {
	case NVME_FEAT_ARBITRATION:
		printf("\tHigh Priority Weight   (HPW): %u\n\tMedium Priority Weight (MPW): %u\n"
		       "\tLow Priority Weight    (LPW): %u\n\tArbitration Burst       (AB): %u\n",
		       ((r >> 24) & 0xff) + 1, ((r >> 16) & 0xff) + 1, ((r >> 8) & 0xff) + 1,
		       r & 7);
		break;
	case NVME_FEAT_POWER_MGMT:
		printf("\tWorkload Hint (WH): %u\n\tPower State   (PS): %u\n", (r >> 5) & 7,
		       r & 0x1f);
		break;
	case NVME_FEAT_TEMP_THRESH:
		printf("\tTemperature Threshold (TMPTH): %u K\n", r & 0xffff);
		break;
	case NVME_FEAT_ERR_RECOVERY:
		printf("\tDeallocated or Unwritten Logical Block Error Enable (DULBE): %s\n"
		       "\tTime Limited Error Recovery                          (TLER): %u ms\n",
		       (r >> 16) & 1 ? "Enabled" : "Disabled", (r & 0xffff) * 100);
		break;
	case NVME_FEAT_VOLATILE_WC:
		printf("\tVolatile Write Cache Enable (WCE): %s\n", r & 1 ? "Enabled" : "Disabled");
		break;
	case NVME_FEAT_NUM_QUEUES:
		printf("\tNumber of IO Completion Queues Allocated (NCQA): %u\n"
		       "\tNumber of IO Submission Queues Allocated (NSQA): %u\n",
		       (r >> 16) + 1, (r & 0xffff) + 1);
		break;
	case NVME_FEAT_WRITE_ATOMIC:
		printf("\tDisable Normal (DN): %s\n", r & 1 ? "True" : "False");
		break;
	case NVME_FEAT_ASYNC_EVENT:
		printf("\tSMART / Health Critical Warnings       : %#04x\n"
		       "\tNamespace Attribute Notices            : %s\n"
		       "\tFirmware Activation Notices            : %s\n"
		       "\tAsymmetric Namespace Access Change     : %s\n"
		       "\tDiscovery Log Page Change Notices      : %s\n",
		       r & 0xff, r & NVME_AEN_CFG_NS_ATTR ? "Send async event" : "Do not send",
		       r & NVME_AEN_CFG_FW_ACT ? "Send async event" : "Do not send",
		       r & NVME_AEN_CFG_ANA_CHANGE ? "Send async event" : "Do not send",
		       r & NVME_AEN_CFG_DISC_CHANGE ? "Send async event" : "Do not send");
		break;
	case NVME_FEAT_KATO:
		printf("\tKeep Alive Timeout (KATO) in milliseconds: %u\n", r);
		break;
	case NVME_FEAT_HOST_ID:
		if (buf && len >= 8) {
			const uint8_t *b = buf;

			printf("\tHost Identifier (HOSTID):  ");
			for (uint32_t i = 0; i < len && i < 16; i++)
				printf("%02x", b[i]);
			printf("\n");
		}
		break;
	case NVME_FEAT_WRITE_PROTECT:
		printf("\tNamespace Write Protect: %s\n",
		       r == 0	? "No Write Protect"
		       : r == 1 ? "Write Protect"
		       : r == 2 ? "Write Protect Until Power Cycle"
		       : r == 3 ? "Permanent Write Protect"
				: "Reserved");
		break;
	default:
		break;
	}
}

void show_feature(uint8_t fid, uint8_t sel, uint32_t result, const void *buf, uint32_t len,
		  enum cli_fmt fmt, unsigned int flags)
{
	if (fmt == CLI_FMT_BINARY) {
		if (buf && len)
			show_binary(buf, len);
		else
			show_binary(&result, sizeof(result));
		return;
	}
	if (fmt == CLI_FMT_JSON) {
		json_feature(fid, sel, result, buf, len);
		return;
	}
	printf("get-feature:%#0*x (%s), %s value:%#0*x\n", fid ? 4 : 2, fid, nvme_feature_str(fid),
	       nvme_select_str(sel), result ? 10 : 8, result);
	if (sel == NVME_FEAT_SEL_SUPPORTED) {
		printf("\t%s, %s, %s\n", result & 1 ? "saveable" : "not saveable",
		       result & 2 ? "per-namespace" : "not per-namespace",
		       result & 4 ? "changeable" : "not changeable");
		return;
	}
	if (flags & SHOW_HUMAN)
		feature_human(fid, result, buf, len);
	if (buf && len)
		show_hexdump(buf, len);
}
