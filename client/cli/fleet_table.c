/* Aggregate table plus one row per host. */
#include "fleet_table.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "model.h"

#define C_RESET  "\033[0m"
#define C_BOLD   "\033[1m"
#define C_RED    "\033[1;31m"
#define C_GREEN  "\033[1;32m"
#define C_YELLOW "\033[1;33m"

#define MAX_KEYS 4

/* The counters shown per host for each method's result. */
struct key {
	const char *header;
	const char *path;
};

static const struct {
	Secstat__V1__Reply__ResultCase result;
	struct key keys[MAX_KEYS];
} key_table[] = {
    {SECSTAT__V1__REPLY__RESULT_IPSEC,
     {{"activeSas", "statistics.aggregateSaStatistics.activeSas"},
      {"dropsIn",
       "statistics.aggregateDropPacketStatistics.totalDropPacketsInbound"},
      {"packetsIn",
       "statistics.inboundTrafficStatistics.totalSuccessfulPackets"},
      {"packetsOut",
       "statistics.outboundTrafficStatistics.totalSuccessfulPackets"}}},
    {SECSTAT__V1__REPLY__RESULT_IKEEXT,
     {{"ikev2Sas",
       "statistics.ikeV2Statistics.v4Statistics.currentActiveMainModes"},
      {"ikev2Failed",
       "statistics.ikeV2Statistics.v4Statistics.totalFailedMainModes"},
      {"ikev1Sas",
       "statistics.ikeStatistics.v4Statistics.currentActiveMainModes"},
      {"packetsIn", "statistics.commonStatistics.totalPacketsReceived"}}},
};

static const char *
col(const struct output *o, const char *code)
{
	return o->color ? code : "";
}

struct find {
	const char *path;
	uint64_t v;
	int found;
};

static int
find_stat(const struct model_stat *st, void *arg)
{
	struct find *f = arg;

	if (strcmp(st->path, f->path) == 0) {
		f->v = st->value;
		f->found = 1;
		return 1;
	}
	return 0;
}

static const ProtobufCMessage *
result_of(const Secstat__V1__Reply *r)
{
	const ProtobufCMessageDescriptor *d = r->base.descriptor;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];

		if ((fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0 &&
		    model_field_present(&r->base, fd)) {
			return model_field_message(&r->base, fd, 0);
		}
	}
	return NULL;
}

int
fleet_table_value(const Secstat__V1__Reply *r, const char *path, uint64_t *v)
{
	struct find f = {.path = path};
	const ProtobufCMessage *m = r != NULL ? result_of(r) : NULL;

	if (m == NULL) {
		return -1;
	}
	model_walk(m, NULL, find_stat, &f);
	*v = f.v;
	return f.found ? 0 : -1;
}

static const struct key *
keys_for(const Secstat__V1__Reply *agg, const struct output_host *hosts,
         size_t n)
{
	Secstat__V1__Reply__ResultCase rc = SECSTAT__V1__REPLY__RESULT__NOT_SET;

	if (agg != NULL) {
		rc = agg->result_case;
	}
	for (size_t i = 0; i < n && rc == SECSTAT__V1__REPLY__RESULT__NOT_SET;
	     i++) {
		if (hosts[i].reply != NULL) {
			rc = hosts[i].reply->result_case;
		}
	}
	for (size_t k = 0; k < sizeof(key_table) / sizeof(key_table[0]); k++) {
		if (key_table[k].result == rc) {
			return key_table[k].keys;
		}
	}
	return NULL;
}

static const char *
host_label(const secstat_fleet *f, const struct output_host *h, size_t i)
{
	const Secstat__V1__Reply *r = h->reply;
	const struct secstat_fleet_host *fh = secstat_fleet_host(f, i);

	if (r != NULL && r->host != NULL && r->host->hostname != NULL) {
		return r->host->hostname;
	}
	/* A host that did not answer: its hosts-file name, if any. */
	if (fh != NULL && fh->name != NULL && fh->name != fh->url &&
	    strcmp(fh->name, fh->url) != 0) {
		return fh->name;
	}
	return "-";
}

static void
age_text(const struct output *o, const Secstat__V1__Reply *r, char *buf,
         size_t len)
{
	uint64_t age;

	if (r == NULL || !r->has_collected_unix_ms) {
		snprintf(buf, len, "-");
		return;
	}
	age = o->now_ms > r->collected_unix_ms
	          ? o->now_ms - r->collected_unix_ms
	          : 0;
	if (age < 1000) {
		snprintf(buf, len, "%" PRIu64 "ms", age);
	} else {
		snprintf(buf, len, "%" PRIu64 ".%" PRIu64 "s", age / 1000,
		         (age % 1000) / 100);
	}
}

void
fleet_table(const struct output *o, const secstat_fleet *f,
            const struct output_host *hosts, size_t n, const char *method)
{
	const Secstat__V1__FleetAggregate *sum = o->summary;
	const struct key *keys = keys_for(o->aggregate, hosts, n);
	size_t ok = 0, partial = 0;
	int hw = 4, sw = 6;
	char buf[32];

	for (size_t i = 0; i < n; i++) {
		int l = (int)strlen(host_label(f, &hosts[i], i));
		int s = (int)strlen(
		    output_status_name(hosts[i].status, buf, sizeof(buf)));

		hw = l > hw ? l : hw;
		sw = s > sw ? s : sw;
		ok += hosts[i].status == ERROR_SUCCESS;
	}
	fprintf(o->out, "%sfleet%s  %s  %zu hosts: %s%zu ok%s, %s%zu failed%s",
	        col(o, C_BOLD), col(o, C_RESET), method, n, col(o, C_GREEN), ok,
	        col(o, C_RESET), col(o, n > ok ? C_RED : ""), n - ok,
	        col(o, n > ok ? C_RESET : ""));
	if (o->aggregate != NULL && o->aggregate->has_simulated &&
	    o->aggregate->simulated) {
		fprintf(o->out, "  %sSIMULATED%s", col(o, C_YELLOW),
		        col(o, C_RESET));
	}
	fputc('\n', o->out);
	if (o->aggregate != NULL) {
		output_result(o, o->aggregate);
	}
	for (size_t i = 0; sum != NULL && i < sum->n_fields; i++) {
		partial += sum->fields[i]->hosts < ok;
	}
	if (partial > 0) {
		fprintf(
		    o->out,
		    "  (%zu statistics are present on only some hosts: "
		    "summed over those; --json lists the count per field)\n",
		    partial);
	}

	fprintf(o->out, "\n%-*s  %-*s  %6s", hw, "HOST", sw, "STATUS", "AGE");
	for (int k = 0; keys != NULL && k < MAX_KEYS; k++) {
		fprintf(o->out, "  %14s", keys[k].header);
	}
	fputs("  SERVER\n", o->out);
	for (size_t i = 0; i < n; i++) {
		const struct output_host *h = &hosts[i];
		const char *st =
		    output_status_name(h->status, buf, sizeof(buf));
		char age[32];

		age_text(o, h->reply, age, sizeof(age));
		fprintf(o->out, "%-*s  %s%-*s%s  %6s", hw, host_label(f, h, i),
		        col(o, h->status == ERROR_SUCCESS ? C_GREEN : C_RED),
		        sw, st, col(o, C_RESET), age);
		for (int k = 0; keys != NULL && k < MAX_KEYS; k++) {
			uint64_t v;

			if (h->status == ERROR_SUCCESS &&
			    fleet_table_value(h->reply, keys[k].path, &v) ==
			        0) {
				fprintf(o->out, "  %14" PRIu64, v);
			} else {
				fprintf(o->out, "  %14s", "-");
			}
		}
		fprintf(o->out, "  %s", h->server);
		if (h->reply != NULL && h->reply->has_simulated &&
		    h->reply->simulated) {
			fputs("  SIMULATED", o->out);
		}
		fputc('\n', o->out);
	}
}
