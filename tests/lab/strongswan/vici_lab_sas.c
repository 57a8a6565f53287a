/*
 * Prints an agent's ListSecurityAssociations reply body as JSON through
 * libsecstat, for the strongSwan lab test (the CLI has no command for the
 * per-SA listing). Usage: vici_lab_sas URL. Exit 0 on ERROR_SUCCESS.
 */
#include <stdio.h>

#include "model.h"
#include "secstat/secstat.h"

int
main(int argc, char *argv[])
{
	secstat_session *s = NULL;
	Secstat__V1__Reply *reply = NULL;
	uint32_t st;

	if (argc != 2) {
		fprintf(stderr, "usage: %s URL\n", argv[0]);
		return 64;
	}
	st = secstat_session_open(&s, argv[1], NULL);
	if (st == 0) {
		st =
		    secstat_session_call(s, "ListSecurityAssociations", &reply);
	}
	if (st == 0 && reply != NULL &&
	    reply->result_case ==
	        SECSTAT__V1__REPLY__RESULT_SECURITY_ASSOCIATIONS) {
		model_write_json(stdout, &reply->security_associations->base,
		                 2);
		fputc('\n', stdout);
	} else if (st == 0) {
		st = 1;
	}
	if (st != 0) {
		fprintf(stderr, "%s: %s\n", argv[1], secstat_strerror(st));
	}
	secstat_reply_free(reply);
	secstat_session_close(s);
	return st == 0 ? 0 : 1;
}
