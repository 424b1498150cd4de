// SPDX-License-Identifier: MIT
/*
 * The CLI's JSON output (-o json), with nvme-cli's keys. Numbers are JSON numbers, 128-bit
 * counters included (written out exactly, as nvme-cli does); fixed-size ASCII fields are
 * strings as they are on the wire.
 */
#include "print.h"
#include "fields.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void json_print(struct json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

struct json_object *json_hex(const void *buf, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *b = buf;
	struct json_object *o;
	char *s = malloc(2 * len + 1);

	if (!s)
		return json_object_new_string("");
	for (size_t i = 0; i < len; i++) {
		s[2 * i] = digits[b[i] >> 4];
		s[2 * i + 1] = digits[b[i] & 15];
	}
	s[2 * len] = '\0';
	o = json_object_new_string(s);
	free(s);
	return o;
}

static int raw_number(struct json_object *o, struct printbuf *pb, int level, int flags)
{
	const char *s = json_object_get_string(o);

	return printbuf_memappend(pb, s, (int)strlen(s));
}

struct json_object *json_uint128(const uint8_t v[16])
{
	struct json_object *o;
	char s[48];

	le128_to_str(v, s, sizeof(s));
	o = json_object_new_string(s);
	/* the value stays a JSON number, exact beyond 64 bits */
	json_object_set_serializer(o, raw_number, NULL, NULL);
	return o;
}

static void add(struct json_object *o, const char *key, struct json_object *v)
{
	json_object_object_add(o, key, v);
}

static void add_u64(struct json_object *o, const char *key, uint64_t v)
{
	add(o, key, json_object_new_uint64(v));
}

static void add_str(struct json_object *o, const char *key, const char *s)
{
	add(o, key, json_object_new_string(s));
}

static void add_strn(struct json_object *o, const char *key, const char *s, size_t max)
{
	add(o, key, json_object_new_string_len(s, (int)strnlen(s, max)));
}

static void add_fields(struct json_object *r, const void *base, const struct show_field *f,
		       uint8_t skip)
{
	const uint8_t *b = base;

	for (; f->name; f++) {
		const uint8_t *p = b + f->off;
		char s[40];

		if (f->flags & skip)
			continue;
		switch (f->kind) {
		case FIELD_HEX:
		case FIELD_DEC:
			add_u64(r, f->name, field_u64(base, f));
			break;
		case FIELD_STR:
			if ((f->flags & FIELD_JSON_SKIP_EMPTY) && !p[0])
				break;
			add_strn(r, f->name, (const char *)p, f->size);
			break;
		case FIELD_U128:
			add(r, f->name, json_uint128(p));
			break;
		case FIELD_IEEE:
			add_u64(r, f->name, (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0]);
			break;
		case FIELD_UUID:
			snprintf(s, sizeof(s),
				 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%"
				 "02x",
				 p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10],
				 p[11], p[12], p[13], p[14], p[15]);
			add_str(r, f->name, s);
			break;
		case FIELD_BYTES:
			add(r, f->name, json_hex(p, f->size));
			break;
		}
	}
}

void json_id_ctrl(const struct nvme_id_ctrl *id)
{
	struct json_object *r = json_object_new_object();
	struct json_object *psds = json_object_new_array();

	add_fields(r, id, id_ctrl_fields, 0);
	for (unsigned int i = 0; i <= id->npss && i < 32; i++) {
		const struct nvme_id_power_state *ps = &id->psd[i];
		struct json_object *p = json_object_new_object();

		add_u64(p, "max_power", ps->max_power);
		add_u64(p, "max_power_scale", ps->flags & 1);
		add_u64(p, "non-operational_state", !!(ps->flags & 2));
		add_u64(p, "entry_lat", ps->entry_lat);
		add_u64(p, "exit_lat", ps->exit_lat);
		add_u64(p, "read_tput", ps->read_tput);
		add_u64(p, "read_lat", ps->read_lat);
		add_u64(p, "write_tput", ps->write_tput);
		add_u64(p, "write_lat", ps->write_lat);
		add_u64(p, "idle_power", ps->idle_power);
		add_u64(p, "idle_scale", ps->idle_scale >> 6);
		add_u64(p, "active_power", ps->active_power);
		add_u64(p, "active_power_work", ps->active_work_scale & 7);
		add_u64(p, "active_scale", ps->active_work_scale >> 6);
		json_object_array_add(psds, p);
	}
	add(r, "psds", psds);
	json_print(r);
}

void json_id_ns(const struct nvme_id_ns *ns)
{
	struct json_object *r = json_object_new_object();
	struct json_object *lbafs = json_object_new_array();
	unsigned int in_use = id_ns_lbaf_in_use(ns);
	unsigned int nulbaf = ((const uint8_t *)ns)[82];
	uint8_t skip = 0;

	if (!(ns->nsfeat & 0x30))
		skip |= FIELD_IF_NPWG;
	if (!(ns->nsfeat & 0x10))
		skip |= FIELD_IF_NPDG;
	add_fields(r, ns, id_ns_fields, skip);
	for (unsigned int i = 0; i <= (unsigned int)ns->nlbaf + nulbaf && i < 64; i++) {
		struct json_object *l = json_object_new_object();

		add_u64(l, "lbaf", i);
		add_u64(l, "ms", ns->lbaf[i].ms);
		add_u64(l, "ds", ns->lbaf[i].ds);
		add_u64(l, "rp", ns->lbaf[i].rp);
		add_u64(l, "in_use", i == in_use);
		json_object_array_add(lbafs, l);
	}
	add(r, "lbafs", lbafs);
	json_print(r);
}

void json_ns_list(const uint32_t *list, size_t nr)
{
	struct json_object *r = json_object_new_object();
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < nr; i++) {
		struct json_object *e;

		if (!list[i])
			continue;
		e = json_object_new_object();
		add_u64(e, "nsid", list[i]);
		json_object_array_add(a, e);
	}
	add(r, "nsid_list", a);
	json_print(r);
}

void json_ns_descs(const void *buf)
{
	struct json_object *r = json_object_new_object();
	struct json_object *a = json_object_new_array();
	const uint8_t *b = buf;
	size_t pos = 0;

	while (pos + sizeof(struct nvme_ns_id_desc) <= NVME_IDENTIFY_DATA_SIZE) {
		const struct nvme_ns_id_desc *d = (const void *)(b + pos);
		const uint8_t *v = b + pos + sizeof(*d);
		const char *type = NULL;
		struct json_object *val = NULL, *e;
		char s[40];

		if (!d->nidl || pos + sizeof(*d) + d->nidl > NVME_IDENTIFY_DATA_SIZE)
			break;
		switch (d->nidt) {
		case NVME_NIDT_EUI64:
			type = "eui64";
			val = json_hex(v, d->nidl);
			break;
		case NVME_NIDT_NGUID:
			type = "nguid";
			val = json_hex(v, d->nidl);
			break;
		case NVME_NIDT_UUID:
			if (d->nidl < NVME_NIDT_UUID_LEN)
				break; /* too short to hold one: the controller's error */
			type = "uuid";
			snprintf(s, sizeof(s),
				 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%"
				 "02x",
				 v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10],
				 v[11], v[12], v[13], v[14], v[15]);
			val = json_object_new_string(s);
			break;
		case NVME_NIDT_CSI:
			type = "csi";
			snprintf(s, sizeof(s), "%#x", v[0]);
			val = json_object_new_string(s);
			break;
		default:
			break;
		}
		if (type) {
			e = json_object_new_object();
			add_u64(e, "loc", pos);
			add_u64(e, "nidt", d->nidt);
			add_u64(e, "nidl", d->nidl);
			add_str(e, "Type", type);
			add(e, type, val);
			json_object_array_add(a, e);
		}
		pos += sizeof(*d) + d->nidl;
	}
	add(r, "ns-descs", a);
	json_print(r);
}

void json_smart_log(const struct nvme_smart_log *s, unsigned int flags)
{
	struct json_object *r = json_object_new_object();

	if (flags & SHOW_HUMAN) {
		struct json_object *c = json_object_new_object();
		uint8_t w = s->critical_warning;

		add_u64(c, "value", w);
		add_u64(c, "available_spare", w & 1);
		add_u64(c, "temp_threshold", (w >> 1) & 1);
		add_u64(c, "reliability_degraded", (w >> 2) & 1);
		add_u64(c, "ro", (w >> 3) & 1);
		add_u64(c, "vmbu_failed", (w >> 4) & 1);
		add_u64(c, "pmr_ro", (w >> 5) & 1);
		add(r, "critical_warning", c);
	} else {
		add_u64(r, "critical_warning", s->critical_warning);
	}
	add_u64(r, "temperature", s->temperature);
	add_u64(r, "avail_spare", s->avail_spare);
	add_u64(r, "spare_thresh", s->spare_thresh);
	add_u64(r, "percent_used", s->percent_used);
	add_u64(r, "endurance_grp_critical_warning_summary", s->endu_grp_crit_warn_sumry);
	add(r, "data_units_read", json_uint128(s->data_units_read));
	add(r, "data_units_written", json_uint128(s->data_units_written));
	add(r, "host_read_commands", json_uint128(s->host_reads));
	add(r, "host_write_commands", json_uint128(s->host_writes));
	add(r, "controller_busy_time", json_uint128(s->ctrl_busy_time));
	add(r, "power_cycles", json_uint128(s->power_cycles));
	add(r, "power_on_hours", json_uint128(s->power_on_hours));
	add(r, "unsafe_shutdowns", json_uint128(s->unsafe_shutdowns));
	add(r, "media_errors", json_uint128(s->media_errors));
	add(r, "num_err_log_entries", json_uint128(s->num_err_log_entries));
	add_u64(r, "warning_temp_time", s->warning_temp_time);
	add_u64(r, "critical_comp_time", s->critical_comp_time);
	for (unsigned int i = 0; i < 8; i++) {
		char key[32];

		if (!s->temp_sensor[i])
			continue;
		snprintf(key, sizeof(key), "temperature_sensor_%u", i + 1);
		add_u64(r, key, s->temp_sensor[i]);
	}
	add_u64(r, "thm_temp1_trans_count", s->thm_temp1_trans_count);
	add_u64(r, "thm_temp2_trans_count", s->thm_temp2_trans_count);
	add_u64(r, "thm_temp1_total_time", s->thm_temp1_total_time);
	add_u64(r, "thm_temp2_total_time", s->thm_temp2_total_time);
	json_print(r);
}

void json_error_log(const struct nvme_error_log_entry *e, unsigned int nr)
{
	struct json_object *r = json_object_new_object();
	struct json_object *a = json_object_new_array();

	for (unsigned int i = 0; i < nr; i++) {
		struct json_object *o = json_object_new_object();

		add_u64(o, "error_count", e[i].error_count);
		add_u64(o, "sqid", e[i].sqid);
		add_u64(o, "cmdid", e[i].cmdid);
		add_u64(o, "status_field", e[i].status_field >> 1);
		add_u64(o, "phase_tag", e[i].status_field & 1);
		add_u64(o, "parm_error_location", e[i].param_error_location);
		add_u64(o, "lba", e[i].lba);
		add_u64(o, "nsid", e[i].nsid);
		add_u64(o, "vs", e[i].vs);
		add_u64(o, "trtype", e[i].trtype);
		add_u64(o, "csi", e[i].csi_rsvd & 0xff);
		add_u64(o, "opcode", e[i].csi_rsvd >> 8);
		add_u64(o, "cs", e[i].cs);
		add_u64(o, "trtype_spec_info", e[i].trtype_spec_info);
		json_object_array_add(a, o);
	}
	add(r, "errors", a);
	json_print(r);
}

static struct json_object *effects_set(const struct nvme_effects_log *l, bool admin)
{
	struct json_object *o = json_object_new_object();

	for (unsigned int op = 0; op < 256; op++) {
		uint32_t e = admin ? l->acs[op] : l->iocs[op];
		char key[64];

		if (!(e & NVME_CMD_EFFECTS_CSUPP))
			continue;
		snprintf(key, sizeof(key), "%s_%u (%s)", admin ? "ACS" : "IOCS", op,
			 nvme_opcode_str(admin, (uint8_t)op));
		add_u64(o, key, e);
	}
	return o;
}

void json_effects_log(const struct nvme_effects_log *l, uint8_t csi)
{
	struct json_object *a = json_object_new_array();
	struct json_object *r = json_object_new_object();

	add_u64(r, "command_set_identifier", csi);
	add(r, "admin_cmd_set", effects_set(l, true));
	add(r, "io_cmd_set", effects_set(l, false));
	json_object_array_add(a, r);
	json_print(a);
}

void json_discovery_log(const struct nvmf_disc_rsp_page_hdr *log, uint64_t numrec)
{
	struct json_object *r = json_object_new_object();
	struct json_object *a = json_object_new_array();

	add_u64(r, "genctr", log->genctr);
	for (uint64_t i = 0; i < numrec; i++) {
		const struct nvmf_disc_log_entry *e = &log->entries[i];
		struct json_object *o = json_object_new_object();

		add_str(o, "trtype", nvmf_trtype_str(e->trtype));
		add_str(o, "adrfam", nvmf_adrfam_str(e->adrfam));
		add_str(o, "subtype", nvmf_subtype_str(e->subtype));
		add_str(o, "treq", nvmf_treq_str(e->treq));
		add_u64(o, "portid", e->portid);
		add_strn(o, "trsvcid", e->trsvcid, sizeof(e->trsvcid));
		add_strn(o, "subnqn", e->subnqn, sizeof(e->subnqn));
		add_strn(o, "traddr", e->traddr, sizeof(e->traddr));
		add_str(o, "eflags", nvmf_eflags_str(e->eflags));
		if (e->trtype == NVMF_TRTYPE_TCP)
			add_str(o, "sectype", nvmf_sectype_str(e->tsas.tcp.sectype));
		json_object_array_add(a, o);
	}
	add(r, "records", a);
	json_print(r);
}

struct json_object *json_feature_obj(uint8_t fid, uint8_t sel, uint32_t result, const void *buf,
				     uint32_t len)
{
	struct json_object *r = json_object_new_object();

	add_u64(r, "feature_id", fid);
	add_str(r, "name", nvme_feature_str(fid));
	add_str(r, "sel", nvme_select_str(sel));
	add_u64(r, "value", result);
	if (buf && len)
		add(r, "data", json_hex(buf, len));
	return r;
}

void json_feature(uint8_t fid, uint8_t sel, uint32_t result, const void *buf, uint32_t len)
{
	json_print(json_feature_obj(fid, sel, result, buf, len));
}
