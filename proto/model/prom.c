/* Prometheus text exposition of secstat replies, descriptor-driven. */
#include "prom.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "secstat/v1/meta.pb-c.h"

/*
 * Where the schema's structure is a dimension rather than a name: a
 * sub-message field that Windows spells once per key module, IP version
 * or direction becomes a label with a constant value; a list becomes a
 * label per element, its value read from the element's key fields; a
 * repeated number becomes a label from its index (plus a base field of
 * the same message). `segment` replaces the field's part of the metric
 * name ("" for none); NULL keeps the default (the field name without
 * "_statistics"/"_stats"). This is the only schema knowledge here: the
 * statistics themselves, their kinds, units and help come from the
 * descriptors and the metadata table.
 */
struct prom_rule {
	const char *message; /* short name of the message holding the field */
	const char *field;
	const char *segment;
	const char *label; /* constant label, with value */
	const char *value;
	/* Lists: label <- element field. Repeated numbers: keys[0].label
	 * gets the index plus the message's keys[0].field (may be NULL). */
	struct {
		const char *label;
		const char *field;
	} keys[3];
};

static const struct prom_rule rules[] = {
    {"IpsecGetStatisticsResponse", "statistics", "", NULL, NULL, {{0}}},
    {"IpsecGetStatisticsResponse",
     "xfrm_mib",
     "xfrm_mib",
     NULL,
     NULL,
     {{"counter", "name"}}},
    {"IpsecGetStatisticsResponse",
     "namespaces",
     "netns",
     NULL,
     NULL,
     {{"netns", "netns"}}},
    {"NamespaceIpsecStatistics", "statistics", "", NULL, NULL, {{0}}},
    {"NamespaceIpsecStatistics",
     "xfrm_mib",
     "xfrm_mib",
     NULL,
     NULL,
     {{"counter", "name"}}},
    {"XfrmMibCounter", "value", "", NULL, NULL, {{0}}},
    {"IpsecStatistics",
     "inbound_traffic_statistics",
     "traffic",
     "direction",
     "inbound",
     {{0}}},
    {"IpsecStatistics",
     "outbound_traffic_statistics",
     "traffic",
     "direction",
     "outbound",
     {{0}}},
    {"IkeextGetStatisticsResponse", "statistics", "", NULL, NULL, {{0}}},
    {"IkeextStatistics", "ike_statistics", "", "key_module", "ike", {{0}}},
    {"IkeextStatistics",
     "authip_statistics",
     "",
     "key_module",
     "authip",
     {{0}}},
    {"IkeextStatistics", "ike_v2_statistics", "", "key_module", "ikev2", {{0}}},
    {"IkeextKeymoduleStatistics",
     "v4_statistics",
     "",
     "ip_version",
     "v4",
     {{0}}},
    {"IkeextKeymoduleStatistics",
     "v6_statistics",
     "",
     "ip_version",
     "v6",
     {{0}}},
    {"IkeextKeymoduleStatistics",
     "error_frequency_table",
     "error_frequency",
     NULL,
     NULL,
     {{"error_code", "error_code_base"}}},
    {"IkeextCommonStatistics", "v4_statistics", "", "ip_version", "v4", {{0}}},
    {"IkeextCommonStatistics", "v6_statistics", "", "ip_version", "v6", {{0}}},
    {"IscsiGetStatisticsResponse",
     "hbas",
     "",
     NULL,
     NULL,
     {{"hba", "instance_name"}}},
    {"IscsiHba", "nic_performance", "nic", NULL, NULL, {{"port", "port"}}},
    {"IscsiHba",
     "sessions",
     "session",
     NULL,
     NULL,
     {{"session", "sysfs_name"}, {"target", "iscsi_name"}, {"usid", "usid"}}},
    {"MsiscsiSessionStatistics",
     "connections",
     "connection",
     NULL,
     NULL,
     {{"connection", "cid"}}},
    {"IscsiHba",
     "request_time_statistics",
     "request_time",
     NULL,
     NULL,
     {{"target", "iscsi_name"}, {"usid", "usid"}, {"connection", "cid"}}},
};

struct sample {
	char *name; /* one allocation: name, then labels */
	const char *labels;
	const char *help;
	enum prom_type type;
	char value[32];
	size_t seq;
};

struct prom_writer {
	struct sample *s;
	size_t n;
	size_t cap;
};

struct prom_writer *
prom_writer_new(void)
{
	return calloc(1, sizeof(struct prom_writer));
}

void
prom_writer_free(struct prom_writer *w)
{
	if (w == NULL) {
		return;
	}
	for (size_t i = 0; i < w->n; i++) {
		free(w->s[i].name);
	}
	free(w->s);
	free(w);
}

size_t
prom_count(const struct prom_writer *w)
{
	return w->n;
}

/* Appends `s` to buf at *len as a label value, escaped; false when it
 * does not fit. */
static bool
append_escaped(char *buf, size_t *len, size_t cap, const char *s)
{
	for (; *s != '\0'; s++) {
		const char *rep = NULL;
		size_t need;

		if (*s == '\\') {
			rep = "\\\\";
		} else if (*s == '"') {
			rep = "\\\"";
		} else if (*s == '\n') {
			rep = "\\n";
		}
		need = rep != NULL ? 2 : 1;
		if (*len + need >= cap) {
			return false;
		}
		if (rep != NULL) {
			memcpy(buf + *len, rep, 2);
		} else {
			buf[*len] = *s;
		}
		*len += need;
	}
	buf[*len] = '\0';
	return true;
}

/* Appends name="value" (with a comma when buf is not empty). */
static bool
append_label(char *buf, size_t *len, size_t cap, const char *name,
             const char *value)
{
	int n =
	    snprintf(buf + *len, cap - *len, "%s%s=\"", *len ? "," : "", name);

	if (n < 0 || (size_t)n >= cap - *len) {
		return false;
	}
	*len += (size_t)n;
	if (!append_escaped(buf, len, cap, value) || *len + 1 >= cap) {
		return false;
	}
	buf[(*len)++] = '"';
	buf[*len] = '\0';
	return true;
}

static int
add_raw(struct prom_writer *w, const char *name, const char *help,
        enum prom_type type, const char *labels, const char *value)
{
	size_t nl = strlen(name) + 1;
	size_t ll = strlen(labels) + 1;
	struct sample *s;

	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 256;
		struct sample *p = realloc(w->s, cap * sizeof(*p));

		if (p == NULL) {
			return -ENOMEM;
		}
		w->s = p;
		w->cap = cap;
	}
	s = &w->s[w->n];
	if ((s->name = malloc(nl + ll)) == NULL) {
		return -ENOMEM;
	}
	memcpy(s->name, name, nl);
	memcpy(s->name + nl, labels, ll);
	s->labels = s->name + nl;
	s->help = help;
	s->type = type;
	snprintf(s->value, sizeof(s->value), "%s", value);
	s->seq = w->n;
	w->n++;
	return 0;
}

int
prom_add_sample(struct prom_writer *w, const char *name, const char *help,
                enum prom_type type, const struct prom_label *labels, size_t n,
                const char *value)
{
	char buf[PROM_LABELS_MAX];
	size_t len = 0;

	buf[0] = '\0';
	if (strlen(name) >= PROM_NAME_MAX) {
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if (!append_label(buf, &len, sizeof(buf), labels[i].name,
		                  labels[i].value)) {
			return -EINVAL;
		}
	}
	return add_raw(w, name, help, type, buf, value);
}

/* ---- names ---- */

/* Appends "_tok" (or "tok" at the start) to buf; false when full. */
static bool
name_push(char *buf, size_t *len, size_t cap, const char *tok, size_t tl)
{
	if (tl == 0) {
		return true;
	}
	if (*len + tl + 2 >= cap) {
		return false;
	}
	if (*len > 0) {
		buf[(*len)++] = '_';
	}
	memcpy(buf + *len, tok, tl);
	*len += tl;
	buf[*len] = '\0';
	return true;
}

static bool
tok_is(const char *t, size_t tl, const char *s)
{
	return strlen(s) == tl && memcmp(t, s, tl) == 0;
}

unsigned
prom_metric_name(char *buf, size_t len, const char *family,
                 const char *segments, const char *leaf, int kind,
                 const char *unit)
{
	bool bytes = strcmp(unit, "bytes") == 0;
	bool ms = strcmp(unit, "milliseconds") == 0;
	bool secs = strcmp(unit, "seconds") == 0;
	bool counter = kind == STAT_COUNTER;
	bool first = true;
	bool prev_byte = false;
	bool pushed = false;
	const char *last;
	size_t n = 0;

	if (len < 16) {
		return 0;
	}
	buf[0] = '\0';
	if (!name_push(buf, &n, len, "secstat", 7) ||
	    !name_push(buf, &n, len, family, strlen(family)) ||
	    !name_push(buf, &n, len, segments, strlen(segments))) {
		return 0;
	}
	/* The last segment's last word, which the leaf may repeat
	 * ("initiator_login" + "login_failures"). */
	last = strrchr(segments, '_');
	last = last != NULL ? last + 1 : segments;
	/* The leaf, token by token: the unit moves to the end, where
	 * Prometheus wants it, and "total" to the counter suffix. */
	for (const char *p = leaf; *p != '\0';) {
		size_t tl = strcspn(p, "_");
		bool skip = false;

		if (counter && first && tok_is(p, tl, "total")) {
			skip = true;
		} else if (bytes &&
		           (tok_is(p, tl, "byte") || tok_is(p, tl, "bytes"))) {
			skip = true;
		} else if (bytes && prev_byte && tok_is(p, tl, "count")) {
			skip = true;
		} else if (!pushed && *last != '\0' && tok_is(p, tl, last)) {
			skip = true;
		} else if ((ms && tok_is(p, tl, "ms")) ||
		           (secs &&
		            (tok_is(p, tl, "s") || tok_is(p, tl, "seconds")))) {
			skip = true;
		}
		prev_byte = tok_is(p, tl, "byte") || tok_is(p, tl, "bytes");
		first = false;
		if (!skip && !name_push(buf, &n, len, p, tl)) {
			return 0;
		}
		pushed = pushed || !skip;
		p += tl;
		p += strspn(p, "_");
	}
	if ((bytes && !name_push(buf, &n, len, "bytes", 5)) ||
	    ((ms || secs) && !name_push(buf, &n, len, "seconds", 7)) ||
	    (counter && !name_push(buf, &n, len, "total", 5))) {
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		char c = buf[i];
		if (c >= 'A' && c <= 'Z') {
			buf[i] = (char)(c - 'A' + 'a');
		} else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		             c == '_')) {
			buf[i] = '_';
		}
	}
	return ms ? 1000 : 1;
}

/* ---- the walk ---- */

struct walk {
	struct prom_writer *w;
	const char *family;
	char segs[PROM_NAME_MAX];
	char labels[PROM_LABELS_MAX];
	int rv;
};

static const struct prom_rule *
find_rule(const ProtobufCMessageDescriptor *desc, const char *field)
{
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		if (strcmp(rules[i].message, desc->short_name) == 0 &&
		    strcmp(rules[i].field, field) == 0) {
			return &rules[i];
		}
	}
	return NULL;
}

/* The default name segment: the field name without "statistics". */
static void
default_segment(const char *field, char *buf, size_t len)
{
	static const char *const suffixes[] = {"_statistics", "_stats"};
	size_t n = strlen(field);

	if (strcmp(field, "statistics") == 0) {
		buf[0] = '\0';
		return;
	}
	for (size_t i = 0; i < 2; i++) {
		size_t sl = strlen(suffixes[i]);
		if (n > sl && strcmp(field + n - sl, suffixes[i]) == 0) {
			n -= sl;
			break;
		}
	}
	snprintf(buf, len, "%.*s", (int)n, field);
}

static bool
is_number(const ProtobufCFieldDescriptor *fd)
{
	switch (fd->type) {
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_BYTES:
	case PROTOBUF_C_TYPE_MESSAGE:
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE:
		return false;
	default:
		return true;
	}
}

/* The text of a key field of `msg` (string or number); false when the
 * field is absent or unknown. */
static bool
key_text(const ProtobufCMessage *msg, const char *field, char *buf, size_t len)
{
	const ProtobufCFieldDescriptor *fd =
	    protobuf_c_message_descriptor_get_field_by_name(msg->descriptor,
	                                                    field);

	if (fd == NULL || fd->label == PROTOBUF_C_LABEL_REPEATED ||
	    !model_field_present(msg, fd)) {
		return false;
	}
	if (fd->type == PROTOBUF_C_TYPE_STRING) {
		const char *const *p =
		    (const void *)((const char *)msg + fd->offset);
		snprintf(buf, len, "%s", *p);
		return true;
	}
	if (!is_number(fd)) {
		return false;
	}
	snprintf(buf, len, "%" PRIu64, model_field_u64(msg, fd, 0));
	return true;
}

static void walk_message(struct walk *wk, const ProtobufCMessage *msg);

static void
walk_number(struct walk *wk, const ProtobufCMessage *msg,
            const ProtobufCFieldDescriptor *fd,
            const struct stat_field_meta *meta, const struct prom_rule *rule,
            size_t n)
{
	char name[PROM_NAME_MAX];
	const char *leaf =
	    rule != NULL && rule->segment != NULL ? rule->segment : fd->name;
	uint64_t base = 0;
	unsigned div;
	size_t lab_len = strlen(wk->labels);

	div =
	    prom_metric_name(name, sizeof(name), wk->family, wk->segs, leaf,
	                     meta->kind, meta->unit != NULL ? meta->unit : "");
	if (div == 0) {
		return; /* too long to name: cannot happen with this schema */
	}
	if (n > 1 && rule != NULL && rule->keys[0].field != NULL) {
		char b[32];
		if (key_text(msg, rule->keys[0].field, b, sizeof(b))) {
			base = strtoull(b, NULL, 10);
		}
	}
	for (size_t k = 0; k < n && wk->rv == 0; k++) {
		uint64_t v = model_field_u64(msg, fd, k);
		char value[32];
		size_t len = lab_len;

		if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
			char idx[32];
			const char *label = rule != NULL && rule->keys[0].label
			                        ? rule->keys[0].label
			                        : "index";
			snprintf(idx, sizeof(idx), "%" PRIu64, base + k);
			if (!append_label(wk->labels, &len, sizeof(wk->labels),
			                  label, idx)) {
				wk->labels[lab_len] = '\0';
				continue;
			}
		}
		if (div == 1) {
			snprintf(value, sizeof(value), "%" PRIu64, v);
		} else {
			snprintf(value, sizeof(value), "%" PRIu64 ".%03" PRIu64,
			         v / div, v % div);
		}
		wk->rv = add_raw(wk->w, name, meta->help,
		                 meta->kind == STAT_COUNTER ? PROM_COUNTER
		                                            : PROM_GAUGE,
		                 wk->labels, value);
		wk->labels[lab_len] = '\0';
	}
}

static void
walk_message(struct walk *wk, const ProtobufCMessage *msg)
{
	const ProtobufCMessageDescriptor *desc = msg->descriptor;

	for (unsigned i = 0; i < desc->n_fields && wk->rv == 0; i++) {
		const ProtobufCFieldDescriptor *fd = &desc->fields[i];
		const struct stat_field_meta *meta = stat_meta_field(desc, i);
		const struct prom_rule *rule = find_rule(desc, fd->name);
		size_t n = model_field_count(msg, fd);
		size_t seg_len = strlen(wk->segs);
		size_t lab_len = strlen(wk->labels);
		char seg[64];

		if (n == 0) {
			continue;
		}
		if (fd->type != PROTOBUF_C_TYPE_MESSAGE) {
			if (is_number(fd) && meta != NULL &&
			    meta->kind != STAT_NONE) {
				walk_number(wk, msg, fd, meta, rule, n);
			}
			continue;
		}
		if (rule != NULL && rule->segment != NULL) {
			snprintf(seg, sizeof(seg), "%s", rule->segment);
		} else {
			default_segment(fd->name, seg, sizeof(seg));
		}
		for (size_t k = 0; k < n && wk->rv == 0; k++) {
			const ProtobufCMessage *sub =
			    model_field_message(msg, fd, k);
			size_t sl = seg_len;
			size_t ll = lab_len;
			bool ok = name_push(wk->segs, &sl, sizeof(wk->segs),
			                    seg, strlen(seg));

			if (ok && rule != NULL && rule->label != NULL) {
				ok = append_label(wk->labels, &ll,
				                  sizeof(wk->labels),
				                  rule->label, rule->value);
			}
			for (size_t j = 0; ok && rule != NULL && j < 3 &&
			                   rule->keys[j].label != NULL;
			     j++) {
				char v[256];
				if (key_text(sub, rule->keys[j].field, v,
				             sizeof(v))) {
					ok = append_label(
					    wk->labels, &ll, sizeof(wk->labels),
					    rule->keys[j].label, v);
				}
			}
			if (ok && sub != NULL) {
				walk_message(wk, sub);
			}
			wk->segs[seg_len] = '\0';
			wk->labels[lab_len] = '\0';
		}
	}
}

/* The caller's labels, formatted; false when they do not fit. */
static bool
format_extra(char *buf, size_t cap, const struct prom_label *extra, size_t n)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (!append_label(buf, &len, cap, extra[i].name,
		                  extra[i].value)) {
			return false;
		}
	}
	return true;
}

int
prom_add_stats(struct prom_writer *w, const Secstat__V1__Reply *r,
               const struct prom_label *extra, size_t n)
{
	struct walk wk = {.w = w};
	const ProtobufCMessage *result;

	switch (r->result_case) {
	case SECSTAT__V1__REPLY__RESULT_IPSEC:
		wk.family = "ipsec";
		result = &r->ipsec->base;
		break;
	case SECSTAT__V1__REPLY__RESULT_IKEEXT:
		wk.family = "ike";
		result = &r->ikeext->base;
		break;
	case SECSTAT__V1__REPLY__RESULT_ISCSI:
		wk.family = "iscsi";
		result = &r->iscsi->base;
		break;
	default:
		return 0;
	}
	if (!format_extra(wk.labels, sizeof(wk.labels), extra, n)) {
		return -EINVAL;
	}
	walk_message(&wk, result);
	return wk.rv;
}

/* ---- the agent's identity and health ---- */

static void
ms_to_seconds(char *buf, size_t len, uint64_t ms)
{
	snprintf(buf, len, "%" PRIu64 ".%03" PRIu64, ms / 1000, ms % 1000);
}

/* extra + one more label, formatted. */
static int
add_with(struct prom_writer *w, const char *name, const char *help,
         const char *extra, const struct prom_label *more, size_t n_more,
         const char *value)
{
	char buf[PROM_LABELS_MAX];
	size_t len = strlen(extra);

	if (len >= sizeof(buf)) {
		return -EINVAL;
	}
	memcpy(buf, extra, len + 1);
	for (size_t i = 0; i < n_more; i++) {
		if (!append_label(buf, &len, sizeof(buf), more[i].name,
		                  more[i].value)) {
			return -EINVAL;
		}
	}
	return add_raw(w, name, help, PROM_GAUGE, buf, value);
}

int
prom_add_host(struct prom_writer *w, const Secstat__V1__Reply *r,
              const struct prom_label *extra, size_t n)
{
	char ex[PROM_LABELS_MAX];
	char v[32];
	int rv = 0;

	if (!format_extra(ex, sizeof(ex), extra, n)) {
		return -EINVAL;
	}
	if (r->host != NULL) {
		const Secstat__V1__HostInfo *h = r->host;
		struct prom_label l[6];
		char epoch[20], schema[16];
		size_t k = 0;

		if (h->hostname != NULL) {
			l[k++] = (struct prom_label){"hostname", h->hostname};
		}
		if (h->agent_version != NULL) {
			l[k++] = (struct prom_label){"agent_version",
			                             h->agent_version};
		}
		if (h->kernel_release != NULL) {
			l[k++] = (struct prom_label){"kernel_release",
			                             h->kernel_release};
		}
		if (h->boot_id != NULL) {
			l[k++] = (struct prom_label){"boot_id", h->boot_id};
		}
		if (h->has_epoch) {
			snprintf(epoch, sizeof(epoch), "%016" PRIx64, h->epoch);
			l[k++] = (struct prom_label){"epoch", epoch};
		}
		if (h->has_schema_version) {
			snprintf(schema, sizeof(schema), "%" PRIu32,
			         h->schema_version);
			l[k++] = (struct prom_label){"schema_version", schema};
		}
		rv = add_with(w, "secstat_host_info",
		              "Identity of the agent (value always 1); epoch "
		              "changes when its counters may have restarted.",
		              ex, l, k, "1");
		if (rv == 0 && h->has_agent_start_unix_ms) {
			ms_to_seconds(v, sizeof(v), h->agent_start_unix_ms);
			rv =
			    add_with(w, "secstat_agent_start_time_seconds",
			             "When the agent started, in seconds since "
			             "the Unix epoch.",
			             ex, NULL, 0, v);
		}
	}
	if (rv == 0 && r->has_collected_unix_ms) {
		ms_to_seconds(v, sizeof(v), r->collected_unix_ms);
		rv = add_with(w, "secstat_collected_timestamp_seconds",
		              "When the data was collected (the oldest "
		              "contributing collection), in seconds since the "
		              "Unix epoch.",
		              ex, NULL, 0, v);
	}
	if (rv == 0 && r->has_simulated) {
		rv =
		    add_with(w, "secstat_simulated",
		             "1 when some value comes from a simulated source.",
		             ex, NULL, 0, r->simulated ? "1" : "0");
	}
	for (size_t i = 0; rv == 0 && i < r->n_providers; i++) {
		const Secstat__V1__ProviderStatus *p = r->providers[i];
		const ProtobufCEnumDescriptor *ed =
		    &secstat__v1__health__descriptor;
		struct prom_label l[2] = {{"provider", p->name}, {NULL, NULL}};

		if (p->name == NULL) {
			continue;
		}
		rv = add_with(
		    w, "secstat_provider_up",
		    "1 when the provider's last collection succeeded "
		    "(health ok).",
		    ex, l, 1,
		    p->has_health && p->health == SECSTAT__V1__HEALTH__HEALTH_OK
		        ? "1"
		        : "0");
		/* A state set: one series per health value, 1 for the
		 * current one, named from the enum's descriptor. */
		for (unsigned j = 0; rv == 0 && j < ed->n_values; j++) {
			const ProtobufCEnumValue *ev = &ed->values[j];
			char state[32];
			const char *s = ev->name;

			if (ev->value ==
			    SECSTAT__V1__HEALTH__HEALTH_UNSPECIFIED) {
				continue;
			}
			if (strncmp(s, "HEALTH_", 7) == 0) {
				s += 7;
			}
			snprintf(state, sizeof(state), "%s", s);
			for (char *c = state; *c; c++) {
				if (*c >= 'A' && *c <= 'Z') {
					*c = (char)(*c - 'A' + 'a');
				}
			}
			l[1] = (struct prom_label){"state", state};
			rv = add_with(
			    w, "secstat_provider_health",
			    "Health of each provider as a state set: 1 "
			    "for its current state, 0 for the others.",
			    ex, l, 2,
			    p->has_health && (int)p->health == ev->value ? "1"
			                                                 : "0");
		}
	}
	return rv;
}

/* ---- output ---- */

static int
sample_cmp(const void *a, const void *b)
{
	const struct sample *x = a;
	const struct sample *y = b;
	int c = strcmp(x->name, y->name);

	if (c != 0) {
		return c;
	}
	if ((c = strcmp(x->labels, y->labels)) != 0) {
		return c;
	}
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void
write_help(FILE *out, const char *help)
{
	for (const char *p = help; *p != '\0'; p++) {
		if (*p == '\\') {
			fputs("\\\\", out);
		} else if (*p == '\n') {
			fputs("\\n", out);
		} else {
			fputc(*p, out);
		}
	}
}

void
prom_write(struct prom_writer *w, FILE *out)
{
	const struct sample *prev = NULL;
	enum prom_type type = PROM_GAUGE;

	/* Sorted by name then labels: every metric's samples together, as
	 * the format requires, and the output stable between scrapes. */
	qsort(w->s, w->n, sizeof(*w->s), sample_cmp);
	for (size_t i = 0; i < w->n; i++) {
		const struct sample *s = &w->s[i];

		if (prev == NULL || strcmp(prev->name, s->name) != 0) {
			type = s->type;
			fprintf(out, "# HELP %s ", s->name);
			write_help(out, s->help != NULL ? s->help : "");
			fprintf(out, "\n# TYPE %s %s\n", s->name,
			        type == PROM_COUNTER ? "counter" : "gauge");
		} else if (strcmp(prev->labels, s->labels) == 0) {
			/* The same series twice (two list elements with the
			 * same key): the format forbids it; keep the
			 * first. */
			continue;
		}
		if (s->labels[0] != '\0') {
			fprintf(out, "%s{%s} %s\n", s->name, s->labels,
			        s->value);
		} else {
			fprintf(out, "%s %s\n", s->name, s->value);
		}
		prev = s;
	}
}
