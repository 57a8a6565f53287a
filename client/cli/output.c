/* Table, JSON and TSV views of replies. */
#include "output.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model.h"

#define C_RESET  "\033[0m"
#define C_BOLD   "\033[1m"
#define C_RED    "\033[1;31m"
#define C_GREEN  "\033[1;32m"
#define C_YELLOW "\033[1;33m"
#define C_CYAN   "\033[36m"

const char *
output_status_name(uint32_t status, char *buf, size_t len)
{
	const char *name = secstat_status_name(status);

	if (name != NULL) {
		return name;
	}
	snprintf(buf, len, "0x%08" PRIX32, status);
	return buf;
}

bool
output_color_wanted(FILE *f)
{
	const char *mode = getenv("SECSTAT_COLOR");
	const char *term = getenv("TERM");

	if (mode != NULL && strcmp(mode, "always") == 0) {
		return true;
	}
	if (mode != NULL && strcmp(mode, "never") == 0) {
		return false;
	}
	return isatty(fileno(f)) && (term == NULL || strcmp(term, "dumb") != 0);
}

static const char *
color(const struct output *o, const char *code)
{
	return o->color ? code : "";
}

/* The protobuf JSON name of field `i` (protobuf-c 1.4 does not keep it
 * in its descriptors; the metadata table does). */
static const char *
json_name(const ProtobufCMessageDescriptor *d, unsigned i)
{
	const struct stat_field_meta *m = stat_meta_field(d, i);

	return m != NULL && m->json_name != NULL ? m->json_name
	                                         : d->fields[i].name;
}

/* The result message of a reply and its JSON field name, or NULL. */
static const ProtobufCMessage *
reply_result(const Secstat__V1__Reply *r, const char **name)
{
	const ProtobufCMessageDescriptor *d = r->base.descriptor;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];

		if ((fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0 &&
		    model_field_present(&r->base, fd)) {
			*name = json_name(d, i);
			return model_field_message(&r->base, fd, 0);
		}
	}
	return NULL;
}

static const char *
health_name(Secstat__V1__Health h)
{
	switch (h) {
	case SECSTAT__V1__HEALTH__HEALTH_OK:
		return "ok";
	case SECSTAT__V1__HEALTH__HEALTH_ABSENT:
		return "absent";
	case SECSTAT__V1__HEALTH__HEALTH_DENIED:
		return "denied";
	case SECSTAT__V1__HEALTH__HEALTH_FAILING:
		return "failing";
	case SECSTAT__V1__HEALTH__HEALTH_STALE:
		return "stale";
	case SECSTAT__V1__HEALTH__HEALTH_DISABLED:
		return "disabled";
	case SECSTAT__V1__HEALTH__HEALTH_UNSPECIFIED:
	default:
		return "unknown";
	}
}

/* ---- table ---- */

struct row {
	char group[MODEL_PATH_MAX];
	char label[MODEL_PATH_MAX];
	uint64_t value;
	size_t order; /* first row of its group, then its own position */
	size_t seq;
};

static int
row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->order != y->order) {
		return x->order < y->order ? -1 : 1;
	}
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Keeps each group's rows together, groups in order of first
 * appearance: a structure's own members come after its sub-structures
 * in the walk, and would otherwise split it in two. */
static void
rows_group(struct row *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		v[i].seq = i;
		v[i].order = i;
		for (size_t j = i; j-- > 0;) {
			if (strcmp(v[j].group, v[i].group) == 0) {
				v[i].order = v[j].order;
				break;
			}
		}
	}
	qsort(v, n, sizeof(*v), row_cmp);
}

struct rows {
	struct row *v;
	size_t n;
	size_t cap;
	const ProtobufCMessage *root; /* the walked message */
};

static const char *string_field(const ProtobufCMessage *msg, const char *name);

/* Members that name an element of a list, best first. */
static const char *const element_keys[] = {
    "instance_name", "sysfs_name", "netns", "port", "name",
};

/* The field of `msg` whose JSON name is the `len` bytes at `name`. */
static const ProtobufCFieldDescriptor *
field_by_json_name(const ProtobufCMessage *msg, const char *name, size_t len)
{
	const ProtobufCMessageDescriptor *d = msg->descriptor;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const char *j = json_name(d, i);
		if (strlen(j) == len && strncmp(j, name, len) == 0) {
			return &d->fields[i];
		}
	}
	return NULL;
}

/* Rewrites a walker path so that list elements carry their name rather
 * than their index where they have one: "hbas[0].MMIPSECStats" becomes
 * "hbas[host0].MMIPSECStats". Unresolvable parts are kept as they are. */
static void
name_elements(const ProtobufCMessage *root, const char *path, char *out,
              size_t size)
{
	const ProtobufCMessage *msg = root;
	size_t used = 0;

	out[0] = '\0';
	while (*path != '\0' && used < size) {
		size_t seg = strcspn(path, ".");
		size_t name_len = strcspn(path, "[.");
		const ProtobufCFieldDescriptor *fd = NULL;
		const char *key = NULL;
		int n;

		if (msg != NULL) {
			fd = field_by_json_name(msg, path, name_len);
		}
		if (fd != NULL && fd->type == PROTOBUF_C_TYPE_MESSAGE &&
		    name_len < seg) {
			size_t idx = strtoul(path + name_len + 1, NULL, 10);
			msg = model_field_message(msg, fd, idx);
			for (size_t k = 0;
			     msg != NULL &&
			     k < sizeof(element_keys) / sizeof(element_keys[0]);
			     k++) {
				key = string_field(msg, element_keys[k]);
				if (key != NULL && key[0] != '\0') {
					break;
				}
				key = NULL;
			}
		} else if (fd != NULL && fd->type == PROTOBUF_C_TYPE_MESSAGE) {
			msg = model_field_message(msg, fd, 0);
		} else {
			msg = NULL;
		}
		if (key != NULL) {
			n = snprintf(out + used, size - used, "%s%.*s[%s]",
			             used > 0 ? "." : "", (int)name_len, path,
			             key);
		} else {
			n = snprintf(out + used, size - used, "%s%.*s",
			             used > 0 ? "." : "", (int)seg, path);
		}
		if (n < 0) {
			break;
		}
		used += (size_t)n;
		path += seg;
		if (*path == '.') {
			path++;
		}
	}
}

/* The string field `name` of `msg`, or NULL. */
static const char *
string_field(const ProtobufCMessage *msg, const char *name)
{
	const ProtobufCFieldDescriptor *fd =
	    protobuf_c_message_descriptor_get_field_by_name(msg->descriptor,
	                                                    name);

	if (fd == NULL || fd->type != PROTOBUF_C_TYPE_STRING ||
	    fd->label == PROTOBUF_C_LABEL_REPEATED ||
	    !model_field_present(msg, fd)) {
		return NULL;
	}
	return *(const char *const *)((const char *)msg + fd->offset);
}

/* An entry of an IKE error-frequency table counts one Win32 error code:
 * label it with that code's name, under the table. */
static void
error_label(const struct model_stat *st, struct row *r)
{
	const ProtobufCFieldDescriptor *base_fd =
	    protobuf_c_message_descriptor_get_field_by_name(st->msg->descriptor,
	                                                    "error_code_base");
	uint64_t code = base_fd != NULL && model_field_present(st->msg, base_fd)
	                    ? model_field_u64(st->msg, base_fd, 0)
	                    : ERROR_IPSEC_IKE_NEG_STATUS_BEGIN;
	const char *name;
	size_t len = strlen(r->group);

	code += st->index;
	name = code <= UINT32_MAX ? secstat_status_name((uint32_t)code) : NULL;
	snprintf(r->group + len, sizeof(r->group) - len, "%s%s",
	         len > 0 ? "." : "", "errorFrequencyTable");
	if (name != NULL && strncmp(name, "ERROR_IPSEC_IKE_", 16) == 0) {
		snprintf(r->label, sizeof(r->label), "%" PRIu64 " %s", code,
		         name + 16);
	} else {
		snprintf(r->label, sizeof(r->label), "%" PRIu64, code);
	}
}

/* Splits a walker path into the group (the structure holding the value)
 * and the label (the member name). A {name, value} pair such as an XFRM
 * MIB counter is labelled by its name, under its list. */
static int
row_add(const struct model_stat *st, void *arg)
{
	struct rows *rows = arg;
	struct row *r;
	const char *path = st->path;
	const char *dot = strrchr(path, '.');
	const char *name = string_field(st->msg, "name");

	/* Zero entries of a table (the IKE error table) say nothing. */
	if (st->fd->label == PROTOBUF_C_LABEL_REPEATED && st->value == 0) {
		return 0;
	}
	if (rows->n == rows->cap) {
		size_t cap = rows->cap ? rows->cap * 2 : 64;
		struct row *v = realloc(rows->v, cap * sizeof(*v));
		if (v == NULL) {
			return -1;
		}
		rows->v = v;
		rows->cap = cap;
	}
	r = &rows->v[rows->n++];
	if (dot == NULL) {
		r->group[0] = '\0';
		snprintf(r->label, sizeof(r->label), "%s", path);
	} else {
		char group[MODEL_PATH_MAX];
		const char *g = r->group;

		snprintf(group, sizeof(group), "%.*s", (int)(dot - path), path);
		name_elements(rows->root, group, r->group, sizeof(r->group));
		snprintf(r->label, sizeof(r->label), "%s", dot + 1);
		/* The Windows structure is the response's "statistics"
		 * member: its members are the groups a reader knows. */
		if (strncmp(g, "statistics.", 11) == 0) {
			memmove(r->group, g + 11, strlen(g + 11) + 1);
		} else if (strcmp(g, "statistics") == 0) {
			r->group[0] = '\0';
		}
	}
	if (strcmp(st->fd->name, "error_frequency_table") == 0) {
		error_label(st, r);
	}
	if (name != NULL && strcmp(st->fd->name, "value") == 0) {
		char *bracket = strrchr(r->group, '[');
		if (bracket != NULL) {
			*bracket = '\0';
		}
		snprintf(r->label, sizeof(r->label), "%s", name);
	}
	r->value = st->value;
	return 0;
}

static int
digits(uint64_t v)
{
	int n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

static void
print_age(const struct output *o, const Secstat__V1__Reply *r)
{
	uint64_t age;

	if (!r->has_collected_unix_ms) {
		return;
	}
	age = o->now_ms > r->collected_unix_ms
	          ? o->now_ms - r->collected_unix_ms
	          : 0;
	if (age < 1000) {
		fprintf(o->out, "  age %" PRIu64 "ms", age);
	} else {
		fprintf(o->out, "  age %" PRIu64 ".%" PRIu64 "s", age / 1000,
		        (age % 1000) / 100);
	}
}

static void
print_header(const struct output *o, const struct output_host *h)
{
	const Secstat__V1__Reply *r = h->reply;
	const char *host =
	    r != NULL && r->host != NULL && r->host->hostname != NULL
	        ? r->host->hostname
	        : "-";
	char buf[16];
	const char *status = output_status_name(h->status, buf, sizeof(buf));

	fprintf(o->out, "%s%s%s  %s  %s%s%s", color(o, C_BOLD), host,
	        color(o, C_RESET), h->server,
	        color(o, h->status == ERROR_SUCCESS ? C_GREEN : C_RED), status,
	        color(o, C_RESET));
	if (h->status != ERROR_SUCCESS) {
		const char *msg =
		    r != NULL && r->message != NULL && r->message[0] != '\0'
		        ? r->message
		        : secstat_strerror(h->status);
		fprintf(o->out, ": %s", msg);
	}
	if (r == NULL) {
		fputc('\n', o->out);
		return;
	}
	print_age(o, r);
	if (r->n_providers > 0) {
		fputs("  providers:", o->out);
		for (size_t i = 0; i < r->n_providers; i++) {
			const Secstat__V1__ProviderStatus *p = r->providers[i];
			fprintf(
			    o->out, "%s %s %s", i > 0 ? "," : "",
			    p->name != NULL ? p->name : "?",
			    health_name(
			        p->has_health
			            ? p->health
			            : SECSTAT__V1__HEALTH__HEALTH_UNSPECIFIED));
		}
	}
	if (r->has_simulated && r->simulated) {
		fprintf(o->out, "  %sSIMULATED%s", color(o, C_YELLOW),
		        color(o, C_RESET));
	}
	fputc('\n', o->out);
}

/* Every member of a flat message that is not a statistic (host
 * identity): strings as they are, numbers in decimal. */
static void
print_fields(const struct output *o, const ProtobufCMessage *msg)
{
	const ProtobufCMessageDescriptor *d = msg->descriptor;
	int width = 0;

	for (unsigned i = 0; i < d->n_fields; i++) {
		int len = (int)strlen(json_name(d, i));
		width = len > width ? len : width;
	}
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];

		if (fd->label == PROTOBUF_C_LABEL_REPEATED ||
		    fd->type == PROTOBUF_C_TYPE_MESSAGE ||
		    !model_field_present(msg, fd)) {
			continue;
		}
		fprintf(o->out, "    %-*s  ", width, json_name(d, i));
		if (fd->type == PROTOBUF_C_TYPE_STRING) {
			fprintf(o->out, "%s\n",
			        *(const char *const *)((const char *)msg +
			                               fd->offset));
		} else {
			fprintf(o->out, "%" PRIu64 "\n",
			        model_field_u64(msg, fd, 0));
		}
	}
}

static void
print_result(const struct output *o, const Secstat__V1__Reply *r)
{
	const char *name;
	const ProtobufCMessage *result = reply_result(r, &name);
	struct rows rows = {.root = NULL};
	int lw = 0, vw = 0;
	const char *group = NULL;

	if (result == NULL) {
		return;
	}
	if (r->result_case ==
	    SECSTAT__V1__REPLY__RESULT_SECURITY_ASSOCIATIONS) {
		output_sa_listing(o, r->security_associations);
		return;
	}
	if (r->result_case == SECSTAT__V1__REPLY__RESULT_HOST_INFO &&
	    r->host_info->host != NULL) {
		fprintf(o->out, "  %shost%s\n", color(o, C_CYAN),
		        color(o, C_RESET));
		print_fields(o, &r->host_info->host->base);
		return;
	}
	rows.root = result;
	model_walk(result, NULL, row_add, &rows);
	rows_group(rows.v, rows.n);
	for (size_t i = 0; i < rows.n; i++) {
		int l = (int)strlen(rows.v[i].label);
		int v = digits(rows.v[i].value);
		lw = l > lw ? l : lw;
		vw = v > vw ? v : vw;
	}
	for (size_t i = 0; i < rows.n; i++) {
		const struct row *row = &rows.v[i];

		if (group == NULL || strcmp(group, row->group) != 0) {
			group = row->group;
			fprintf(o->out, "  %s%s%s\n", color(o, C_CYAN),
			        group[0] != '\0' ? group : name,
			        color(o, C_RESET));
		}
		fprintf(o->out, "    %-*s  %*" PRIu64 "\n", lw, row->label, vw,
		        row->value);
	}
	free(rows.v);
}

void
output_result(const struct output *o, const Secstat__V1__Reply *r)
{
	print_result(o, r);
}

void
output_table(const struct output *o, const struct output_host *hosts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i > 0) {
			fputc('\n', o->out);
		}
		print_header(o, &hosts[i]);
		if (hosts[i].reply != NULL) {
			print_result(o, hosts[i].reply);
		}
	}
}

/* ---- JSON ---- */

/* model_write_json() indents from column 0; nest its output `depth`
 * levels deep by indenting every line it writes. */
static void
write_nested_json(FILE *out, const ProtobufCMessage *msg, int depth)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);

	if (mem == NULL) {
		model_write_json(out, msg, -1);
		return;
	}
	model_write_json(mem, msg, 2);
	fclose(mem);
	for (size_t i = 0; i < len; i++) {
		fputc(buf[i], out);
		if (buf[i] == '\n') {
			fprintf(out, "%*s", depth * 2, "");
		}
	}
	free(buf);
}

void
output_json(const struct output *o, const struct output_host *hosts, size_t n)
{
	FILE *out = o->out;

	fputs("{\n  \"hosts\": [", out);
	for (size_t i = 0; i < n; i++) {
		const struct output_host *h = &hosts[i];
		const Secstat__V1__Reply *r = h->reply;
		char buf[16];
		const char *msg = r != NULL && r->message != NULL
		                      ? r->message
		                      : secstat_strerror(h->status);

		fputs(i > 0 ? ",\n    {\n" : "\n    {\n", out);
		fputs("      \"server\": ", out);
		model_write_json_string(out, h->server);
		fprintf(out, ",\n      \"status\": %" PRIu32 ",\n", h->status);
		fputs("      \"statusName\": ", out);
		model_write_json_string(
		    out, output_status_name(h->status, buf, sizeof(buf)));
		fputs(",\n      \"message\": ", out);
		model_write_json_string(out, msg);
		if (r != NULL) {
			fputs(",\n      \"reply\": ", out);
			write_nested_json(out, &r->base, 3);
		}
		fputs("\n    }", out);
	}
	fputs(n > 0 ? "\n  ]" : "]", out);
	if (o->aggregate != NULL) {
		fputs(",\n  \"aggregate\": ", out);
		write_nested_json(out, &o->aggregate->base, 1);
	}
	if (o->summary != NULL) {
		fputs(",\n  \"fleet\": ", out);
		write_nested_json(out, &o->summary->base, 1);
	}
	fputs("\n}\n", out);
}

/* ---- TSV ---- */

struct dump_ctx {
	FILE *out;
	const char *server;
};

static int
dump_stat(const struct model_stat *st, void *arg)
{
	struct dump_ctx *d = arg;

	fprintf(d->out, "%s\t%s\t%" PRIu64 "\n", d->server, st->path,
	        st->value);
	return 0;
}

void
output_dump(const struct output *o, const struct output_host *hosts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct output_host *h = &hosts[i];
		struct dump_ctx d = {o->out, h->server};
		char buf[16];
		const char *name;
		const ProtobufCMessage *result;

		fprintf(o->out, "%s\tstatus\t%s\n", h->server,
		        output_status_name(h->status, buf, sizeof(buf)));
		if (h->reply == NULL) {
			continue;
		}
		if ((result = reply_result(h->reply, &name)) != NULL) {
			model_walk(result, name, dump_stat, &d);
		}
	}
	if (o->aggregate != NULL) {
		struct dump_ctx d = {o->out, "fleet"};
		const char *name;
		const ProtobufCMessage *result =
		    reply_result(o->aggregate, &name);

		if (result != NULL) {
			model_walk(result, name, dump_stat, &d);
		}
	}
}
