/*
 * The per-SA listing for people, in the layout of `swanctl --list-sas`
 * (which operators already read): each IKE SA with its CHILD_SAs, then the
 * IPsec SAs no IKE SA accounts for, then every configured connection with
 * whether it is up, then each tunnel's totals across rekeys. JSON and TSV come
 * from the generic writers.
 */
#include "output.h"

#include <inttypes.h>
#include <stdio.h>

static const char *
str(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : "-";
}

static void
print_list(FILE *f, const char *label, char **v, size_t n)
{
	fprintf(f, "      %-6s", label);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%s%s", i ? ", " : " ", v[i]);
	}
	fputc('\n', f);
}

static void
print_direction(FILE *f, const char *dir, bool has_spi, uint32_t spi,
                bool has_bytes, uint64_t bytes, bool has_packets,
                uint64_t packets)
{
	fprintf(f, "      %-3s ", dir);
	if (has_spi) {
		fprintf(f, "%08" PRIx32, spi);
	} else {
		fputs("       -", f);
	}
	if (has_bytes) {
		fprintf(f, ", %10" PRIu64 " bytes", bytes);
	}
	if (has_packets) {
		fprintf(f, ", %8" PRIu64 " packets", packets);
	}
	fputc('\n', f);
}

static void
print_ipsec_sa(FILE *f, const Secstat__V1__IpsecSaDetail *sa,
               const char *indent)
{
	fprintf(f, "%s%s: ", indent, str(sa->name));
	if (sa->has_unique_id) {
		fprintf(f, "#%" PRIu32 ", ", sa->unique_id);
	}
	if (sa->has_reqid) {
		fprintf(f, "reqid %" PRIu32 ", ", sa->reqid);
	}
	fprintf(f, "%s, %s%s, %s", str(sa->state), str(sa->mode),
	        sa->has_encap && sa->encap ? "-in-UDP" : "", str(sa->protocol));
	if (sa->encryption_algorithm != NULL ||
	    sa->integrity_algorithm != NULL) {
		fprintf(f, ":%s/%s", str(sa->encryption_algorithm),
		        str(sa->integrity_algorithm));
	}
	fprintf(f, "  (%s%s%s)\n", str(sa->source), sa->netns ? ", netns " : "",
	        sa->netns ? sa->netns : "");
	if (sa->local_address != NULL || sa->remote_address != NULL) {
		fprintf(f, "%s  %s === %s\n", indent, str(sa->local_address),
		        str(sa->remote_address));
	}
	print_direction(f, "in", sa->has_spi_in, sa->spi_in, sa->has_bytes_in,
	                sa->bytes_in, sa->has_packets_in, sa->packets_in);
	print_direction(f, "out", sa->has_spi_out, sa->spi_out,
	                sa->has_bytes_out, sa->bytes_out, sa->has_packets_out,
	                sa->packets_out);
	if (sa->has_replay_failures || sa->has_integrity_failures) {
		fprintf(f,
		        "      drops: replay %" PRIu64 ", integrity %" PRIu64
		        "\n",
		        sa->replay_failures, sa->integrity_failures);
	}
	if (sa->n_local_ts > 0) {
		print_list(f, "local", sa->local_ts, sa->n_local_ts);
	}
	if (sa->n_remote_ts > 0) {
		print_list(f, "remote", sa->remote_ts, sa->n_remote_ts);
	}
}

static void
print_ike_sa(FILE *f, const Secstat__V1__IkeSaDetail *ike)
{
	fprintf(f, "  %s: ", str(ike->name));
	if (ike->has_unique_id) {
		fprintf(f, "#%" PRIu32 ", ", ike->unique_id);
	}
	fprintf(f, "%s, IKEv%" PRIu32 "%s  (%s)\n", str(ike->state),
	        ike->has_version ? ike->version : 0,
	        ike->has_initiator && ike->initiator ? ", initiator" : "",
	        str(ike->source));
	fprintf(f, "    local  '%s' @ %s[%" PRIu32 "]\n", str(ike->local_id),
	        str(ike->local_address), ike->local_port);
	fprintf(f, "    remote '%s' @ %s[%" PRIu32 "]\n", str(ike->remote_id),
	        str(ike->remote_address), ike->remote_port);
	if (ike->encryption_algorithm != NULL) {
		fprintf(f, "    %s/%s/%s/%s\n", str(ike->encryption_algorithm),
		        str(ike->integrity_algorithm), str(ike->prf_algorithm),
		        str(ike->dh_group));
	}
	if (ike->has_established_s) {
		fprintf(f, "    established %" PRIu64 "s ago",
		        ike->established_s);
		if (ike->has_rekey_in_s) {
			fprintf(f, ", rekeying in %" PRIu64 "s",
			        ike->rekey_in_s);
		}
		fputc('\n', f);
	}
	for (size_t i = 0; i < ike->n_child_sas; i++) {
		print_ipsec_sa(f, ike->child_sas[i], "    ");
	}
}

static void
print_total(FILE *f, const char *dir, bool has_bytes, uint64_t bytes,
            bool has_packets, uint64_t packets)
{
	if (!has_bytes && !has_packets) {
		return;
	}
	fprintf(f, "      %-3s", dir);
	if (has_bytes) {
		fprintf(f, " %10" PRIu64 " bytes", bytes);
	}
	if (has_packets) {
		fprintf(f, "%s %8" PRIu64 " packets", has_bytes ? "," : "",
		        packets);
	}
	fputc('\n', f);
}

/* One tunnel: totals over every SA it had, so they survive rekeys. */
static void
print_tunnel(FILE *f, const Secstat__V1__TunnelDetail *tun)
{
	const char *sep = "      ";

	fprintf(f, "    %s: ", str(tun->name));
	if (tun->has_reqid) {
		fprintf(f, "reqid %" PRIu32 ", ", tun->reqid);
	}
	/* The agent's own namespace is "": not worth a label. */
	fprintf(f, "%s, %s  (%s%s%s)\n", str(tun->mode), str(tun->protocol),
	        str(tun->source), tun->netns && tun->netns[0] ? ", netns " : "",
	        tun->netns && tun->netns[0] ? tun->netns : "");
	if (tun->local_address != NULL || tun->remote_address != NULL) {
		fprintf(f, "      %s === %s\n", str(tun->local_address),
		        str(tun->remote_address));
	}
	print_total(f, "in", tun->has_bytes_in, tun->bytes_in,
	            tun->has_packets_in, tun->packets_in);
	print_total(f, "out", tun->has_bytes_out, tun->bytes_out,
	            tun->has_packets_out, tun->packets_out);
	if (tun->has_active_sas) {
		fprintf(f, "%s%" PRIu64 " SA%s now", sep, tun->active_sas,
		        tun->active_sas == 1 ? "" : "s");
		sep = ", ";
	}
	if (tun->has_sas_added) {
		fprintf(f, "%s%" PRIu64 " added", sep, tun->sas_added);
		sep = ", ";
	}
	if (tun->has_sas_deleted) {
		fprintf(f, "%s%" PRIu64 " deleted", sep, tun->sas_deleted);
		sep = ", ";
	}
	if (tun->has_rekeys) {
		fprintf(f, "%s%" PRIu64 " rekey%s", sep, tun->rekeys,
		        tun->rekeys == 1 ? "" : "s");
		sep = ", ";
	}
	if (sep[0] == ',') {
		fputc('\n', f);
	}
	if (tun->has_replay_failures || tun->has_integrity_failures) {
		fprintf(f,
		        "      drops: replay %" PRIu64 ", integrity %" PRIu64
		        "\n",
		        tun->replay_failures, tun->integrity_failures);
	}
}

void
output_sa_listing(const struct output *o,
                  const Secstat__V1__ListSecurityAssociationsResponse *l)
{
	FILE *f = o->out;

	for (size_t i = 0; i < l->n_ike_sas; i++) {
		print_ike_sa(f, l->ike_sas[i]);
	}
	if (l->n_ipsec_sas > 0) {
		fprintf(f, "  IPsec SAs without an IKE SA:\n");
		for (size_t i = 0; i < l->n_ipsec_sas; i++) {
			print_ipsec_sa(f, l->ipsec_sas[i], "    ");
		}
	}
	if (l->n_connections > 0) {
		fprintf(f, "  connections:\n");
		for (size_t i = 0; i < l->n_connections; i++) {
			const Secstat__V1__ConnectionDetail *c =
			    l->connections[i];

			fprintf(f, "    %-16s %-4s", str(c->name),
			        c->has_established && c->established ? "up"
			                                             : "down");
			if (c->has_active_child_sas) {
				fprintf(f, "  %" PRIu32 " CHILD_SA%s",
				        c->active_child_sas,
				        c->active_child_sas == 1 ? "" : "s");
			}
			if (c->n_remote_addrs > 0) {
				fprintf(f, "  to %s", c->remote_addrs[0]);
			}
			fprintf(f, "  (%s)\n", str(c->source));
		}
	}
	if (l->n_tunnels > 0) {
		fprintf(f, "  tunnels (totals since the agent started):\n");
		for (size_t i = 0; i < l->n_tunnels; i++) {
			print_tunnel(f, l->tunnels[i]);
		}
	}
	if (l->n_ike_sas == 0 && l->n_ipsec_sas == 0 && l->n_connections == 0 &&
	    l->n_tunnels == 0) {
		fprintf(f, "  no security associations\n");
	}
}
