#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ceremony/io.h"
#include "ceremony/keygen.h"
#include "ceremony/keys.h"
#include "ceremony/passwd.h"
#include "ceremony/report.h"
#include "ceremony/transcript.h"
#include "ui/ui.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: %s passwd KEY [--passphrase-file OLD] [--new-passphrase-file NEW]\n"
	        "           [--out NEWKEY] [--transcript FILE]\n"
	        "\n"
	        "Re-encrypts a custodian's private key under a new passphrase, as keygen writes\n"
	        "keys: PEM PKCS#8, scrypt (N=2^14, r=8, p=1), AES-256-CBC, mode 0600.  Works on\n"
	        "unencrypted keys too (such as those of the service's quickstart, made with\n"
	        "openssl req -nodes): they become encrypted.  The new file is decrypted again\n"
	        "and compared with the key before anything is replaced, and written atomically.\n"
	        "The key's certificate stays valid: the key itself does not change.\n"
	        "\n"
	        "  KEY                        the private key: PEM PKCS#8 (plain or encrypted),\n"
	        "                             PEM traditional RSA, or PKCS#12 (with --out)\n"
	        "  --passphrase-file OLD      a file whose first line is the current passphrase\n"
	        "                             (not needed for an unencrypted key)\n"
	        "  --new-passphrase-file NEW  a file whose first line is the new passphrase\n"
	        "  --out NEWKEY               write the re-encrypted key to NEWKEY (which must "
	        "not\n"
	        "                             exist) and leave KEY alone; without it KEY is\n"
	        "                             replaced\n"
	        "  --transcript FILE          append a record to FILE: the key, the file\n"
	        "                             written, or the failure (never a passphrase)\n"
	        "  -h, --help                 this help\n"
	        "\n"
	        "Without the files, the passphrases are asked on the terminal without echo (the\n"
	        "new one twice).  The new passphrase follows keygen's rules: at least %d\n"
	        "characters, at most %d bytes, not the old one.\n"
	        "\n"
	        "A key once stored in the clear on a medium must be treated as exposed there:\n"
	        "encrypting it in place does not erase the old bytes from flash or disk.  Write\n"
	        "the encrypted key to fresh media with --out and destroy the old medium.\n"
	        "\n"
	        "Exit status: 0 written, 1 internal error, 2 usage error (passphrase rules, a\n"
	        "passphrase needed and no terminal, KEY not PEM without --out), 3 not a\n"
	        "supported RSA private key, 4 wrong current passphrase, 5 I/O error (KEY\n"
	        "unreadable, NEWKEY exists, cannot write).  On failure nothing has changed.\n",
	        ui_progname, CER_PASSPHRASE_MIN, CER_PASSPHRASE_MAX);
}

enum { OPT_OLD = 256, OPT_NEW, OPT_OUT, OPT_TRANSCRIPT };

static const struct option longopts[] = {
        {"passphrase-file", required_argument, NULL, OPT_OLD},
        {"new-passphrase-file", required_argument, NULL, OPT_NEW},
        {"out", required_argument, NULL, OPT_OUT},
        {"transcript", required_argument, NULL, OPT_TRANSCRIPT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
};

/* The current passphrase, checked against the key (three tries on a terminal). */
static int old_passphrase(const char *key_path, const char *file, char **pass)
{
	struct cer_privkey *key = NULL;
	enum cer_key_load why;
	char prompt[512];
	int tries, ret;

	*pass = NULL;
	if (file != NULL) {
		ret = cer_passphrase_file_read(file, pass);
		if (ret == CER_OK)
			ret = cer_privkey_load(key_path, *pass, &key, &why);
		cer_privkey_free(key);
		return ret;
	}
	if (!isatty(STDIN_FILENO))
		return cer_fail(CER_EUSAGE,
		                "key %s is encrypted: give --passphrase-file (no "
		                "terminal to ask on)",
		                key_path);
	snprintf(prompt, sizeof prompt, "Current passphrase for %s: ", key_path);
	for (tries = 0, ret = CER_EAUTH; tries < 3 && ret == CER_EAUTH; tries++) {
		if (tries > 0)
			fprintf(stderr, "%s: %s\n", ui_progname, cer_errmsg());
		cer_secret_free(*pass);
		*pass = ui_read_passphrase(prompt);
		if (*pass == NULL)
			return CER_EUSAGE;
		ret = cer_privkey_load(key_path, *pass, &key, &why);
		cer_privkey_free(key);
		key = NULL;
	}
	return ret;
}

static int new_passphrase(const char *key_path, const char *file, const char *old, char **pass)
{
	char prompt[512], *again = NULL;
	int tries, ret;

	*pass = NULL;
	if (file != NULL)
		return cer_passphrase_file_read(file, pass);
	if (!isatty(STDIN_FILENO))
		return cer_fail(CER_EUSAGE, "give --new-passphrase-file (no terminal to ask on)");
	for (tries = 0; tries < 3; tries++) {
		cer_secret_free(*pass);
		cer_secret_free(again);
		again = NULL;
		snprintf(prompt, sizeof prompt, "New passphrase for %s: ", key_path);
		*pass = ui_read_passphrase(prompt);
		if (*pass == NULL)
			return CER_EUSAGE;
		ret = cer_passphrase_check(0, *pass, &old, old != NULL ? 1 : 0);
		if (ret != CER_OK) {
			fprintf(stderr, "%s: %s\n", ui_progname, cer_errmsg());
			continue;
		}
		snprintf(prompt, sizeof prompt, "Again, new passphrase for %s: ", key_path);
		again = ui_read_passphrase(prompt);
		if (again == NULL) {
			ret = CER_EUSAGE;
			break;
		}
		if (cer_passphrase_equal(again, *pass)) {
			cer_secret_free(again);
			return CER_OK;
		}
		fprintf(stderr, "%s: the two passphrases differ; again\n", ui_progname);
	}
	cer_secret_free(again);
	cer_secret_free(*pass);
	*pass = NULL;
	return cer_fail(CER_EUSAGE, "no acceptable new passphrase after three tries");
}

int ui_passwd_main(int argc, char **argv)
{
	const char *old_file = NULL, *new_file = NULL, *tpath = NULL;
	struct cer_passwd_params p = {0};
	struct cer_passwd_result res = {0};
	struct cer_report *rep = NULL;
	char *old = NULL, *new = NULL;
	bool encrypted = false;
	int c, ret, closed;

	ui_needs_out_hint = "give --out for the PEM PKCS#8 file to write";
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_OLD: old_file = optarg; break;
		case OPT_NEW: new_file = optarg; break;
		case OPT_OUT: p.out_path = optarg; break;
		case OPT_TRANSCRIPT: tpath = optarg; break;
		case 'h': usage(stdout); return CER_OK;
		default: return ui_bad_option("passwd", argv, longopts);
		}
	}
	if (optind != argc - 1)
		return ui_usage_error("passwd", "give exactly one KEY");
	p.key_path = argv[optind];
	if (tpath != NULL && cer_transcript_open(tpath, &p.transcript) != CER_OK)
		return ui_report(CER_EIO);
	ret = cer_passwd_probe(p.key_path, &encrypted);
	if (ret == CER_OK && p.out_path != NULL && cer_path_exists(p.out_path))
		ret = cer_fail(CER_EIO,
		               "%s: already exists (passwd never replaces a file other "
		               "than the key itself)",
		               p.out_path);
	if (ret == CER_OK && encrypted)
		ret = old_passphrase(p.key_path, old_file, &old);
	if (ret == CER_OK)
		ret = new_passphrase(p.key_path, new_file, old, &new);
	if (ret == CER_OK) {
		p.old_passphrase = old;
		p.new_passphrase = new;
		ret = cer_passwd(&p, &res);
	} else {
		ret = cer_passwd_failed(&p, ret);
	}
	cer_secret_free(old);
	cer_secret_free(new);
	closed = cer_transcript_close(p.transcript);
	if (ret == CER_OK)
		ret = closed;
	/* Written is written: said even when its record was lost (exit 5 then). */
	if (res.written[0] != '\0' && cer_passwd_report(&p, &res, &rep) == CER_OK &&
	    ui_print_report(rep, false) != CER_OK && ret == CER_OK)
		ret = CER_EINTERNAL;
	cer_report_free(rep);
	return ret == CER_OK ? CER_OK : ui_report(ret);
}
