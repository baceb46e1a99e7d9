#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ceremony/io.h"
#include "ceremony/report.h"
#include "ceremony/sd.h"
#include "ceremony/token.h"
#include "ceremony/token_list.h"
#include "ui/ui.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: %s token list [--sd-file SD] [--pkcs11-module PATH] [--login]\n"
	        "           [--pin-file F...] [--json]\n"
	        "\n"
	        "Lists the PKCS#11 tokens present (smart cards, YubiKey PIV, HSMs, SoftHSM) and\n"
	        "their RSA keys: label, id, bits, the private key's sensitive, extractable and\n"
	        "decrypt flags, the certificate with the same id, and the PKCS#11 URI to give\n"
	        "verify, restore-blob and rekey.  With --sd-file, says which share of that\n"
	        "file each key's certificate opens.  Most tokens hide private keys until the\n"
	        "user logs in: --login asks each token's user PIN on the terminal, without\n"
	        "echo, or reads it from the --pin-file in the same position (tokens in the\n"
	        "order listed); without it the public keys and certificates are listed.\n"
	        "\n"
	        "  --sd-file SD          match each key's certificate to a share of SD\n"
	        "  --pkcs11-module PATH  the PKCS#11 module (default: every module registered\n"
	        "                        with p11-kit)\n"
	        "  --login               log in to each token that needs it\n"
	        "  --pin-file F...       with --login: files whose first line is the PIN of the\n"
	        "                        token in the same position\n"
	        "  --json                print the report as one JSON object (fields in the\n"
	        "                        manual page)\n"
	        "  -h, --help            this help\n"
	        "\n"
	        "Exit status: 0 listed, 1 internal error, 2 usage error (or a PIN needed and no\n"
	        "terminal), 3 bad security-domain file, 4 a wrong PIN (the other tokens are\n"
	        "still listed; a locked token is listed, not logged in, with a warning), 5 I/O "
	        "error (a module cannot be loaded).\n",
	        ui_progname);
}

enum { OPT_SD = 256, OPT_MODULE, OPT_LOGIN, OPT_PIN_FILE, OPT_JSON };

static const struct option longopts[] = {
        {"sd-file", required_argument, NULL, OPT_SD},
        {"pkcs11-module", required_argument, NULL, OPT_MODULE},
        {"login", no_argument, NULL, OPT_LOGIN},
        {"pin-file", required_argument, NULL, OPT_PIN_FILE},
        {"json", no_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
};

/* Logs in to k: the PIN from pin_file, or asked on the terminal. */
static int login(struct cer_token_key *k, const char *pin_file)
{
	const struct cer_token_info *in = cer_token_key_info(k);
	char name[CER_TOKEN_NAME_LEN], prompt[160];
	char *pin = NULL;
	int ret;

	/* A locked token is listed as it is, with its warning. */
	if (!in->login_required || in->pin_locked)
		return CER_OK;
	cer_token_name(in, name);
	if (pin_file != NULL) {
		ret = cer_passphrase_file_read(pin_file, &pin);
		if (ret != CER_OK)
			return ret;
	} else if (!in->pin_pad) {
		if (!isatty(STDIN_FILENO))
			return cer_fail(CER_EUSAGE,
			                "%s: needs its user PIN: give --pin-file (no "
			                "terminal to ask on)",
			                name);
		if (cer_token_pin_warning(in) != NULL)
			fprintf(stderr, "%s: warning: %s: %s\n", ui_progname, name,
			        cer_token_pin_warning(in));
		snprintf(prompt, sizeof prompt, "User PIN of %s: ", name);
		pin = ui_read_passphrase(prompt);
		if (pin == NULL)
			return CER_EUSAGE;
	}
	ret = cer_token_key_login(k, pin);
	cer_secret_free(pin);
	return ret;
}

static int list_main(int argc, char **argv)
{
	const char *sd_path = NULL, *module = NULL, **pin_files = NULL;
	struct cer_tokens *t = NULL;
	struct cer_sd *sd = NULL;
	struct cer_token_list *l = NULL;
	struct cer_report *rep = NULL;
	bool json = false, do_login = false;
	int c, npin = 0, used = 0, ret, status = CER_OK;
	size_t i;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_SD: sd_path = optarg; break;
		case OPT_MODULE: module = optarg; break;
		case OPT_LOGIN: do_login = true; break;
		case OPT_JSON: json = true; break;
		case OPT_PIN_FILE:
			npin = ui_collect_values(optarg, argc, argv, &optind, &pin_files, npin);
			if (npin < 0) {
				ret = ui_report(cer_fail(CER_EINTERNAL, "out of memory"));
				goto out;
			}
			break;
		case 'h':
			usage(stdout);
			ret = CER_OK;
			goto out;
		default: ret = ui_bad_option("token list", argv, longopts); goto out;
		}
	}
	ret = ui_no_operands("token list", argc, argv);
	if (ret != CER_OK)
		goto out;
	if (npin > 0 && !do_login) {
		ret = ui_usage_error("token list", "--pin-file needs --login");
		goto out;
	}
	if (sd_path != NULL)
		ret = cer_sd_load(sd_path, &sd);
	if (ret == CER_OK)
		ret = cer_tokens_open(module, &t);
	if (ret == CER_OK)
		ret = cer_token_list_new(sd, &l);
	for (i = 0; ret == CER_OK && i < cer_tokens_count(t); i++) {
		struct cer_token_key *k = NULL;
		bool needs = cer_tokens_info(t, i)->login_required;
		int st;

		ret = cer_token_key_open_index(t, i, &k);
		if (ret != CER_OK)
			break;
		if (do_login && needs) {
			st = login(k, used < npin ? pin_files[used] : NULL);
			used++;
			if (st == CER_EUSAGE || st == CER_EINTERNAL) {
				ret = st;
				cer_token_key_close(k);
				break;
			}
			if (st != CER_OK) {
				ui_report(st);
				if (status == CER_OK)
					status = st;
			}
		}
		ret = cer_token_list_add(l, k);
		cer_token_key_close(k);
	}
	if (ret == CER_OK)
		ret = cer_token_list_report(l, &rep);
	if (ret == CER_OK)
		ret = ui_print_report(rep, json);
	if (ret != CER_OK) {
		ui_report(ret);
		goto out;
	}
	if (npin > used)
		fprintf(stderr, "%s: warning: %d PIN files for %d tokens that needed one\n",
		        ui_progname, npin, used);
	ret = status;
out:
	cer_report_free(rep);
	cer_token_list_free(l);
	cer_tokens_close(t);
	cer_sd_free(sd);
	free(pin_files);
	return ret;
}

int ui_token_main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return list_main(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return CER_OK;
	}
	usage(stderr);
	return CER_EUSAGE;
}
