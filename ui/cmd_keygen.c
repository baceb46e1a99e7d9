#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ceremony/io.h"
#include "ceremony/keygen.h"
#include "ceremony/report.h"
#include "ceremony/token.h"
#include "ceremony/transcript.h"
#include "ui/ui.h"

static atomic_int stop;

static void on_signal(int sig)
{
	(void)sig;
	atomic_store(&stop, 1);
}

/* Ctrl-C, hangup or termination while keys are made: stop and clean up. */
static void catch_signals(bool on)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
	static struct sigaction saved[4];
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < 4; i++) {
		if (on)
			sigaction(sigs[i], &sa, &saved[i]);
		else
			sigaction(sigs[i], &saved[i], NULL);
	}
}

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: %s keygen --count N --quorum Q --out DIR [--bits 2048|3072|4096] [--days "
	        "D]\n"
	        "           [--names A,B,...] [--passphrase-file F]... | [--no-passphrase]\n"
	        "           [--token PKCS11-URI]... [--pin-file F]... [--pkcs11-module PATH]\n"
	        "           [--key-out PATH]...\n"
	        "           [--force] [--json] [--transcript FILE]\n"
	        "\n"
	        "Generates the custodians' RSA wrapping keys for a Managed HSM security domain.\n"
	        "For custodian i (from 0): DIR/cert_i.cer (self-signed X.509 certificate) and\n"
	        "DIR/cert_i.key (PEM PKCS#8 private key encrypted with the custodian's "
	        "passphrase:\n"
	        "PBES2, scrypt, AES-256-CBC; mode 0600), plus DIR/download-request.json (the REST\n"
	        "body of the download call) and DIR/ceremony.json (manifest with thumbprints).\n"
	        "The set is built beside DIR and appears at once, or not at all.\n"
	        "\n"
	        "  -n, --count N            number of custodians, 3 to 10\n"
	        "  -q, --quorum Q           keys needed to recover, 2 to N\n"
	        "  -o, --out DIR            output directory (missing or empty)\n"
	        "  -b, --bits B             RSA key size: 2048, 3072 (default) or 4096\n"
	        "  -d, --days D             certificate validity, default 730; the service does\n"
	        "                           not check expiry, so an expired certificate still "
	        "works\n"
	        "      --names A,B,...      custodian names, used as the certificates' CN\n"
	        "                           (default custodian-1 ... custodian-N)\n"
	        "      --passphrase-file F  a file whose first line is a passphrase; give one per\n"
	        "                           key, in order (repeat the option, or list the files)\n"
	        "      --no-passphrase      write the private keys unencrypted (not recommended)\n"
	        "      --key-out PATH       where each private key goes instead of DIR, e.g. the\n"
	        "                           custodian's own medium: one per key file, in order; a\n"
	        "                           directory means PATH/cert_i.key; a copy of the\n"
	        "                           certificate is written beside each key\n"
	        "      --token URI...       the first custodians' keys are made on these PKCS#11\n"
	        "                           tokens (one URI each, in order; the others get key\n"
	        "                           files): the pair is generated there (sensitive, not\n"
	        "                           extractable), the certificate signed there and\n"
	        "                           stored with the key's CKA_ID; the URI's object= is\n"
	        "                           the key's label (default sd-wrap) and must be new\n"
	        "      --pin-file F...      the tokens' user PINs, one file per --token, in\n"
	        "                           order; without, each PIN is asked on the terminal\n"
	        "      --pkcs11-module PATH the tokens' PKCS#11 module (default: the modules\n"
	        "                           registered with p11-kit)\n"
	        "  -f, --force              if DIR is not empty, move it aside to\n"
	        "                           DIR.old-<UTC time> first (nothing is deleted or\n"
	        "                           overwritten)\n"
	        "      --json               print the result as JSON on standard output\n"
	        "      --transcript FILE    append a record of the ceremony to FILE (time,\n"
	        "                           parameters, names, thumbprints, each public file's\n"
	        "                           SHA-256; never a secret)\n"
	        "      --threads T          worker threads (default: one per processor)\n"
	        "  -h, --help               this help\n"
	        "\n"
	        "Without --passphrase-file, each passphrase is asked twice on the terminal, "
	        "without\n"
	        "echo (a token custodian has a PIN instead, and --passphrase-file pairs with the\n"
	        "custodians that have key files).  A passphrase has at least %d characters and "
	        "differs from the others.\n"
	        "Keys are generated in parallel on all processors.\n"
	        "\n"
	        "Exit status: 0 done, 1 internal error, 2 usage error (bad counts, passphrase\n"
	        "rules; a token URI that names no single token, a label already on it), 3 a\n"
	        "token that cannot make or keep the key as required, 4 a wrong or locked PIN,\n"
	        "5 I/O error (DIR not empty, cannot write, token absent).  On failure nothing\n"
	        "is left in DIR nor on the tokens.\n",
	        ui_progname, CER_PASSPHRASE_MIN);
}

static int prompt_passphrases(struct cer_keygen_params *p, char **pass)
{
	char prompt[160];
	unsigned i, tries;

	for (i = 0; i < p->count; i++) {
		char label[CER_NAME_MAX + 1];

		if (p->custodians[i].token_uri != NULL)
			continue;
		cer_keygen_name(p->custodians[i].name, i, label);
		for (tries = 0;; tries++) {
			char *again;
			int st;

			if (tries == 3)
				return cer_fail(CER_EUSAGE,
				                "custodian %u: no acceptable passphrase after "
				                "3 tries",
				                i + 1);
			snprintf(prompt, sizeof prompt, "Passphrase for %s (key %u of %u): ", label,
			         i + 1, p->count);
			pass[i] = ui_read_passphrase(prompt);
			if (pass[i] == NULL)
				return CER_EUSAGE;
			st = cer_passphrase_check(i, pass[i], (const char *const *)pass, i);
			if (st != CER_OK) {
				fprintf(stderr, "%s: %s\n", ui_progname, cer_errmsg());
				cer_secret_free(pass[i]);
				pass[i] = NULL;
				continue;
			}
			snprintf(prompt, sizeof prompt, "Again, passphrase for %s: ", label);
			again = ui_read_passphrase(prompt);
			if (again == NULL)
				return CER_EUSAGE;
			st = cer_passphrase_equal(again, pass[i]);
			cer_secret_free(again);
			if (st)
				break;
			fprintf(stderr, "%s: the two passphrases differ; again\n", ui_progname);
			cer_secret_free(pass[i]);
			pass[i] = NULL;
		}
		p->custodians[i].passphrase = pass[i];
	}
	return CER_OK;
}

/* Each --token names one token present (opened and closed again, no login). */
static int tokens_present(const struct cer_keygen_params *p, unsigned n)
{
	struct cer_token_key *k;
	unsigned i;
	int ret;

	for (i = 0; i < n; i++) {
		ret = cer_token_key_open(p->tokens, p->custodians[i].token_uri, &k);
		cer_token_key_close(k);
		if (ret != CER_OK)
			return cer_fail_context(ret, "keygen --token");
	}
	return CER_OK;
}

/* Each token custodian's PIN: from its --pin-file, or asked on the terminal without echo. */
static int token_pins(struct cer_keygen_params *p, unsigned n, const char **files, int nfiles,
                      char **pins)
{
	char prompt[600];
	unsigned i;
	int ret;

	for (i = 0; i < n; i++) {
		if ((int)i < nfiles) {
			ret = cer_passphrase_file_read(files[i], &pins[i]);
			if (ret != CER_OK)
				return ret;
		} else {
			if (!isatty(STDIN_FILENO))
				return cer_fail(CER_EUSAGE,
				                "custodian %u: the PIN of %s is needed: give "
				                "--pin-file (no terminal to ask on)",
				                i + 1, p->custodians[i].token_uri);
			snprintf(prompt, sizeof prompt,
			         "User PIN for custodian %u's token %s: ", i + 1,
			         p->custodians[i].token_uri);
			pins[i] = ui_read_passphrase(prompt);
			if (pins[i] == NULL)
				return CER_EUSAGE;
		}
		p->custodians[i].pin = pins[i];
	}
	return CER_OK;
}

void ui_keygen_result_print(const struct cer_keygen_result *r, bool json)
{
	struct cer_report *rep = NULL;

	if (json) {
		fputs(r->json, stdout);
		return;
	}
	if (cer_keygen_report(r, &rep) != CER_OK || ui_print_report(rep, false) != CER_OK)
		ui_report(CER_EINTERNAL);
	cer_report_free(rep);
}

int ui_keygen_main(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"count", required_argument, NULL, 'n'},
	        {"quorum", required_argument, NULL, 'q'},
	        {"out", required_argument, NULL, 'o'},
	        {"bits", required_argument, NULL, 'b'},
	        {"days", required_argument, NULL, 'd'},
	        {"names", required_argument, NULL, 'N'},
	        {"passphrase-file", required_argument, NULL, 'P'},
	        {"key-out", required_argument, NULL, 'K'},
	        {"no-passphrase", no_argument, NULL, 'U'},
	        {"force", no_argument, NULL, 'f'},
	        {"json", no_argument, NULL, 'j'},
	        {"transcript", required_argument, NULL, 'R'},
	        {"threads", required_argument, NULL, 'T'},
	        {"token", required_argument, NULL, 'Y'},
	        {"pin-file", required_argument, NULL, 'I'},
	        {"pkcs11-module", required_argument, NULL, 'M'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	struct cer_keygen_params p, pre;
	struct cer_keygen_result *r = NULL;
	struct cer_transcript *t = NULL;
	const char *tpath = NULL;
	const char **pfiles = NULL, **kouts = NULL, **uris = NULL, **pinfiles = NULL;
	const char *module = NULL;
	struct cer_tokens *tokens = NULL;
	char *pins[CER_KEYGEN_MAX_KEYS] = {NULL};
	char kpaths[CER_KEYGEN_MAX_KEYS][CER_KG_PATH_MAX];
	int nkouts = 0, nuris = 0, npins = 0;
	char names[CER_KEYGEN_MAX_KEYS][CER_NAME_MAX + 1];
	char *pass[CER_KEYGEN_MAX_KEYS] = {NULL};
	int npfiles = 0, nnames = -1, c, ret;
	bool json = false, have_count = false, have_quorum = false;
	unsigned i, nn;

	cer_keygen_params_init(&p);
	ui_exists_hint = "use --force to move it aside";
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+n:q:o:b:d:fh", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (!ui_parse_uint(optarg, &p.count)) {
				ret = ui_usage_error("keygen", "--count: '%s' is not a number",
				                     optarg);
				goto out;
			}
			have_count = true;
			break;
		case 'q':
			if (!ui_parse_uint(optarg, &p.quorum)) {
				ret = ui_usage_error("keygen", "--quorum: '%s' is not a number",
				                     optarg);
				goto out;
			}
			have_quorum = true;
			break;
		case 'o': p.out_dir = optarg; break;
		case 'b':
			if (!ui_parse_uint(optarg, &p.bits)) {
				ret = ui_usage_error("keygen", "--bits: '%s' is not a number",
				                     optarg);
				goto out;
			}
			break;
		case 'd':
			if (!ui_parse_uint(optarg, &p.days)) {
				ret = ui_usage_error("keygen", "--days: '%s' is not a number",
				                     optarg);
				goto out;
			}
			break;
		case 'N':
			if (cer_keygen_split_names(optarg, names, CER_KEYGEN_MAX_KEYS, &nn) !=
			    CER_OK) {
				ret = ui_usage_error("keygen", "--names: %s", cer_errmsg());
				goto out;
			}
			nnames = nn == 0 ? -1 : (int)nn;
			break;
		case 'P':
			npfiles = ui_collect_values(optarg, argc, argv, &optind, &pfiles, npfiles);
			if (npfiles < 0) {
				ret = cer_fail(CER_EINTERNAL, "out of memory");
				ret = ui_report(ret);
				goto out;
			}
			break;
		case 'K':
			nkouts = ui_collect_values(optarg, argc, argv, &optind, &kouts, nkouts);
			if (nkouts < 0) {
				ret = ui_report(cer_fail(CER_EINTERNAL, "out of memory"));
				goto out;
			}
			break;
		case 'U': p.no_passphrase = true; break;
		case 'Y':
		case 'I':
			if (c == 'I' && strcmp(argv[optind - 2], "--pin-file") != 0 &&
			    strncmp(argv[optind - 1], "--pin-file=", 11) != 0) {
				ret = ui_usage_error(
				        "keygen",
				        "there is no --pin option: a PIN on the "
				        "command line is visible to other processes; give "
				        "--pin-file FILE or type it at the prompt");
				goto out;
			}
			if (c == 'Y')
				nuris = ui_collect_values(optarg, argc, argv, &optind, &uris,
				                          nuris);
			else
				npins = ui_collect_values(optarg, argc, argv, &optind, &pinfiles,
				                          npins);
			if (nuris < 0 || npins < 0) {
				ret = ui_report(cer_fail(CER_EINTERNAL, "out of memory"));
				goto out;
			}
			break;
		case 'M': module = optarg; break;
		case 'f': p.force = true; break;
		case 'R': tpath = optarg; break;
		case 'j': json = true; break;
		case 'T':
			if (!ui_parse_uint(optarg, &p.threads)) {
				ret = ui_usage_error("keygen", "--threads: '%s' is not a number",
				                     optarg);
				goto out;
			}
			break;
		case 'h':
			usage(stdout);
			ret = CER_OK;
			goto out;
		default: ret = ui_bad_option("keygen", argv, opts); goto out;
		}
	}
	ret = ui_no_operands("keygen", argc, argv);
	if (ret != CER_OK)
		goto out;
	if (!have_count || !have_quorum || p.out_dir == NULL) {
		ret = ui_usage_error("keygen",
		                     "%s%s%s%s%s missing (--count, --quorum and --out are "
		                     "required)",
		                     !have_count ? "--count" : "",
		                     !have_count && (!have_quorum || p.out_dir == NULL) ? ", " : "",
		                     !have_quorum ? "--quorum" : "",
		                     !have_quorum && p.out_dir == NULL ? ", " : "",
		                     p.out_dir == NULL ? "--out" : "");
		goto out;
	}
	ret = cer_keygen_check_counts(p.count, p.quorum);
	if (ret != CER_OK) {
		ret = ui_report(ret);
		goto out;
	}
	if (nnames >= 0 && (unsigned)nnames != p.count) {
		ret = ui_usage_error("keygen", "--names gives %d names for %u keys", nnames,
		                     p.count);
		goto out;
	}
	for (i = 0; nnames > 0 && i < p.count; i++)
		p.custodians[i].name = names[i];
	if (p.no_passphrase && npfiles > 0) {
		ret = ui_usage_error("keygen",
		                     "--no-passphrase and --passphrase-file exclude each other");
		goto out;
	}
	if ((unsigned)nuris > p.count) {
		ret = ui_usage_error("keygen", "%d token URIs for %u keys", nuris, p.count);
		goto out;
	}
	if (npins > nuris || (module != NULL && nuris == 0)) {
		ret = ui_usage_error("keygen", "%s",
		                     npins > nuris ? "more --pin-file than --token"
		                                   : "--pkcs11-module without --token");
		goto out;
	}
	if (npfiles > 0 && (unsigned)npfiles != p.count - (unsigned)nuris) {
		ret = ui_usage_error("keygen",
		                     "%d passphrase files for %u keys%s (give one per "
		                     "key%s, in order)",
		                     npfiles, p.count - (unsigned)nuris, nuris ? " with files" : "",
		                     nuris ? " file" : "");
		goto out;
	}
	for (i = 0; i < (unsigned)nuris; i++)
		p.custodians[i].token_uri = uris[i];
	if (nkouts > 0 && (unsigned)nkouts != p.count - (unsigned)nuris) {
		ret = ui_usage_error("keygen",
		                     "%d --key-out paths for %u keys%s (give one per "
		                     "key%s, in order)",
		                     nkouts, p.count - (unsigned)nuris, nuris ? " with files" : "",
		                     nuris ? " file" : "");
		goto out;
	}
	for (i = 0; i < (unsigned)nkouts; i++) {
		unsigned ci = (unsigned)nuris + i;

		ret = cer_keygen_key_path(&p, ci, kouts[i], kpaths[ci]);
		if (ret == CER_OK && kpaths[ci][0] == '\0')
			ret = cer_fail(CER_EUSAGE, "custodian %u: --key-out '' is empty", ci + 1);
		if (ret != CER_OK) {
			ret = ui_report(ret);
			goto out;
		}
		p.custodians[ci].key_path = kpaths[ci];
	}
	for (i = 0; i < (unsigned)npfiles; i++) {
		ret = cer_passphrase_file_read(pfiles[i], &pass[i]);
		if (ret != CER_OK) {
			ret = ui_report(ret);
			goto out;
		}
		p.custodians[(unsigned)nuris + i].passphrase = pass[i];
	}
	if (nuris > 0) {
		ret = cer_tokens_open(module, &tokens);
		if (ret != CER_OK) {
			ret = ui_report(ret);
			goto out;
		}
		p.tokens = tokens;
		/* The tokens present and everything else right before anyone types a PIN. */
		pre = p;
		pre.no_passphrase = true;
		ret = tokens_present(&p, (unsigned)nuris);
		if (ret == CER_OK)
			ret = cer_keygen_check_params(&pre);
		if (ret == CER_OK)
			ret = token_pins(&p, (unsigned)nuris, pinfiles, npins, pins);
		if (ret != CER_OK) {
			ret = ui_report(ret);
			goto out;
		}
	}
	/* Everything but the passphrases first, so nobody types them in vain. */
	if (npfiles == 0 && !p.no_passphrase && (unsigned)nuris < p.count) {
		pre = p;
		pre.no_passphrase = true;
		ret = cer_keygen_check_params(&pre);
		if (ret != CER_OK) {
			ret = ui_report(ret);
			goto out;
		}
		ret = prompt_passphrases(&p, pass);
		if (ret != CER_OK) {
			ret = ui_report(ret);
			goto out;
		}
	}
	if (tpath != NULL && (ret = cer_transcript_open(tpath, &t)) != CER_OK) {
		ret = ui_report(ret);
		goto out;
	}
	p.transcript = t;
	p.cancel = &stop;
	catch_signals(true);
	ret = cer_keygen(&p, &ui_stderr_progress, &r);
	catch_signals(false);
	if (r != NULL)
		ui_keygen_result_print(r, json);
	if (ret != CER_OK)
		ret = ui_report(ret);
out:
	if (cer_transcript_close(t) != CER_OK && ret == CER_OK)
		ret = ui_report(CER_EIO);
	for (i = 0; i < CER_KEYGEN_MAX_KEYS; i++) {
		cer_secret_free(pass[i]);
		cer_secret_free(pins[i]);
	}
	cer_keygen_result_free(r);
	cer_tokens_close(tokens);
	free(uris);
	free(pinfiles);
	free(pfiles);
	free(kouts);
	return ret;
}
