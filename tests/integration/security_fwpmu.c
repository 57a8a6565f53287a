/*
 * FwpmEngineOpen0 with explicit credentials, as a Windows program passes
 * them: SEC_WINNT_AUTH_IDENTITY_W User (client id) and Password (token),
 * UTF-16. Prints the status names of open and IPsecGetStatistics1.
 * Usage: security_fwpmu URL [CLIENT_ID TOKEN_FILE]
 * (TLS files from $SECSTAT_TLS_CA, $SECSTAT_TLS_CERT, $SECSTAT_TLS_KEY.)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include <secstat/fwpmu.h>
#include <secstat/secstat.h>

static uint16_t *
utf16(const char *s, uint32_t *len)
{
	size_t n = strlen(s);
	uint16_t *w = calloc(n + 1, sizeof(*w));

	for (size_t i = 0; w != NULL && i < n; i++) {
		w[i] = (unsigned char)s[i]; /* ids and tokens are ASCII */
	}
	*len = (uint32_t)n;
	return w;
}

static const char *
name(DWORD st)
{
	const char *n = secstat_status_name(st);

	return n != NULL ? n : "?";
}

int
main(int argc, char *argv[])
{
	SEC_WINNT_AUTH_IDENTITY_W id;
	wchar_t url[512];
	char token[600] = "";
	HANDLE h = NULL;
	IPSEC_STATISTICS1 stats;
	DWORD st;

	if (argc != 2 && argc != 4) {
		fprintf(stderr, "usage: %s URL [CLIENT_ID TOKEN_FILE]\n",
		        argv[0]);
		return 64;
	}
	mbstowcs(url, argv[1], sizeof(url) / sizeof(url[0]) - 1);
	url[sizeof(url) / sizeof(url[0]) - 1] = L'\0';
	memset(&id, 0, sizeof(id));
	if (argc == 4) {
		FILE *f = fopen(argv[3], "r");

		if (f == NULL || fgets(token, sizeof(token), f) == NULL) {
			perror(argv[3]);
			return 1;
		}
		fclose(f);
		token[strcspn(token, "\r\n")] = '\0';
		id.User = utf16(argv[2], &id.UserLength);
		id.Password = utf16(token, &id.PasswordLength);
		id.Flags = SEC_WINNT_AUTH_IDENTITY_UNICODE;
	}
	st = FwpmEngineOpen0(url, RPC_C_AUTHN_WINNT, argc == 4 ? &id : NULL,
	                     NULL, &h);
	printf("open %s\n", name(st));
	if (st == ERROR_SUCCESS) {
		st = IPsecGetStatistics1(h, &stats);
		printf("IPsecGetStatistics1 %s\n", name(st));
		FwpmEngineClose0(h);
	}
	free(id.User);
	free(id.Password);
	return st == ERROR_SUCCESS ? 0 : 1;
}
