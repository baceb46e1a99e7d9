#include "ui/cmd_recovery_keys.h"

#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ceremony/io.h"
#include "ui/ui.h"

/* Replaces passwords[from..to) (argv strings) by secret copies and wipes argv's. */
static int take_passwords(struct ui_recovery_keys *k, int from, int to)
{
	int i, ret = CER_OK;

	for (i = from; i < to; i++) {
		char *arg = (char *)k->passwords[i];
		char *copy = ret == CER_OK ? cer_secret_strdup(arg) : NULL;

		if (copy == NULL)
			ret = CER_EINTERNAL;
		sodium_memzero(arg, strlen(arg));
		k->passwords[i] = copy;
	}
	if (ret != CER_OK)
		k->npasswords = to; /* so that ui_recovery_keys_free wipes what was copied */
	return ret;
}

/*
 * getopt_long takes any unambiguous prefix, so "--pin 1234" would be read as
 * --pin-file: the option must be spelt out (its value, perhaps a PIN, is
 * wiped otherwise).
 */
static bool spelled_pin_file(char **argv, int next)
{
	const char *opt = argv[next - 1];

	if (strncmp(opt, "--", 2) != 0 || strchr(opt, '=') == NULL)
		opt = next >= 2 ? argv[next - 2] : "";
	return strcmp(opt, "--pin-file") == 0 || strncmp(opt, "--pin-file=", 11) == 0;
}

int ui_recovery_keys_option(struct ui_recovery_keys *k, const char *cmd, int c, int argc,
                            char **argv, const struct option *opts)
{
	const char ***list;
	int *count, n;

	switch (c) {
	case UI_RK_OPT_KEYS:
		list = &k->keys;
		count = &k->nkeys;
		break;
	case UI_RK_OPT_PASSWORDS:
		list = &k->passwords;
		count = &k->npasswords;
		break;
	case UI_RK_OPT_PASSWORD_FILES:
		list = &k->password_files;
		count = &k->npassword_files;
		break;
	case UI_RK_OPT_PIN_FILES:
		if (!spelled_pin_file(argv, optind)) {
			sodium_memzero(optarg, strlen(optarg));
			return ui_usage_error(
			        cmd, "there is no --pin option: a PIN on the command line "
			             "is visible to other processes; give --pin-file FILE or "
			             "type it at the prompt");
		}
		list = &k->pin_files;
		count = &k->npin_files;
		break;
	case UI_RK_OPT_CERTS: k->certs_dir = optarg; return CER_OK;
	case UI_RK_OPT_PKCS11_MODULE: k->pkcs11_module = optarg; return CER_OK;
	default: return ui_bad_option(cmd, argv, opts);
	}
	n = ui_collect_values(optarg, argc, argv, &optind, list, *count);
	if (n < 0)
		return ui_report(cer_fail(CER_EINTERNAL, "out of memory"));
	if (c == UI_RK_OPT_PASSWORDS && take_passwords(k, *count, n) != CER_OK)
		return ui_report(CER_EINTERNAL);
	*count = n;
	return CER_OK;
}

void ui_recovery_keys_free(struct ui_recovery_keys *k)
{
	int i;

	for (i = 0; k->cache != NULL && i < k->nkeys; i++)
		cer_secret_free(k->cache[i]);
	free(k->cache);
	k->cache = NULL;
	for (i = 0; k->passwords != NULL && i < k->npasswords; i++)
		cer_secret_free((void *)k->passwords[i]);
	free(k->keys);
	free(k->passwords);
	free(k->password_files);
	free(k->pin_files);
	cer_tokens_close(k->tokens);
	k->tokens = NULL;
	k->keys = k->passwords = k->password_files = k->pin_files = NULL;
	k->nkeys = k->npasswords = k->npassword_files = k->npin_files = 0;
}

static int count_uris(const struct ui_recovery_keys *k)
{
	int i, n = 0;

	for (i = 0; i < k->nkeys; i++)
		n += cer_token_is_uri(k->keys[i]);
	return n;
}

/* A --passwords value that is the name of a file: --password-files was meant. */
static int password_naming_file(const struct ui_recovery_keys *k)
{
	struct stat st;
	int i;

	for (i = 0; i < k->npasswords; i++)
		if (k->passwords[i][0] != '\0' && stat(k->passwords[i], &st) == 0 &&
		    S_ISREG(st.st_mode))
			return i;
	return -1;
}

int ui_recovery_keys_check(const char *cmd, const struct ui_recovery_keys *k)
{
	int i;

	if (k->nkeys == 0)
		return ui_usage_error(cmd, "--sd-wrapping-keys is required");
	i = password_naming_file(k);
	if (i >= 0)
		return ui_usage_error(cmd,
		                      "--passwords takes the passwords themselves, and value %d "
		                      "is the name of a file: give password files with "
		                      "--password-files",
		                      i + 1);
	if (k->npasswords > 0 && k->npassword_files > 0)
		return ui_usage_error(cmd, "give --passwords or --password-files, not both");
	int nuris = count_uris(k), nfiles = k->nkeys - nuris;

	const char *kind = nuris > 0 ? "key files" : "keys";

	if (k->npasswords > nfiles)
		return ui_usage_error(cmd, "%d passwords for %d %s", k->npasswords, nfiles, kind);
	if (k->npassword_files > nfiles)
		return ui_usage_error(cmd, "%d password files for %d %s", k->npassword_files,
		                      nfiles, kind);
	if (k->npin_files > nuris)
		return ui_usage_error(cmd, "%d PIN files for %d PKCS#11 URIs", k->npin_files,
		                      nuris);
	if (k->pkcs11_module != NULL && nuris == 0)
		return ui_usage_error(cmd, "--pkcs11-module without a PKCS#11 URI among the keys");
	return CER_OK;
}

/* How many passwords or password files were given, when fewer than the keys; else 0. */
static int given_for(const struct ui_recovery_keys *k)
{
	int n = k->npasswords > 0 ? k->npasswords : k->npassword_files;

	return n < k->nkeys ? n : 0;
}

const char *ui_recovery_keys_hint(const struct ui_recovery_keys *k)
{
	static char hint[256];
	int n = given_for(k);

	if (n == 0)
		return "";
	if (k->npasswords > 0)
		snprintf(hint, sizeof hint,
		         "%d password%s given for %d keys: they go to the keys "
		         "in order, one per key, \"\" for a key that has none",
		         n, n == 1 ? "" : "s", k->nkeys);
	else
		snprintf(hint, sizeof hint,
		         "%d password file%s given for %d keys: they go to the "
		         "keys in order, one per key, keys that need none last",
		         n, n == 1 ? "" : "s", k->nkeys);
	return hint;
}

/* Position of key i among the keys of its kind (files, or PKCS#11 URIs). */
static int position_among_kind(const struct ui_recovery_keys *k, int i)
{
	int j, n = 0;

	for (j = 0; j < i; j++)
		n += cer_token_is_uri(k->keys[j]) == cer_token_is_uri(k->keys[i]);
	return n;
}

static int password_for(struct ui_recovery_keys *k, int i, char **pass)
{
	*pass = NULL;
	if (k->cache != NULL && k->cache[i] != NULL) {
		*pass = cer_secret_strdup(k->cache[i]);
		return *pass != NULL ? CER_OK : CER_EINTERNAL;
	}
	i = position_among_kind(k, i);
	if (i < k->npasswords) {
		const char *given = k->passwords[i];

		/* As az: an empty password means none. */
		if (given[0] == '\0')
			return CER_OK;
		*pass = cer_secret_strdup(given);
		return *pass != NULL ? CER_OK : CER_EINTERNAL;
	}
	if (i < k->npassword_files)
		return cer_passphrase_file_read(k->password_files[i], pass);
	return CER_OK;
}

/* Keeps a copy of the password that opened key i (best effort: on out of memory it is asked again).
 */
static void remember(struct ui_recovery_keys *k, int i, const char *pass)
{
	if (pass == NULL)
		return;
	if (k->cache == NULL)
		k->cache = calloc((size_t)k->nkeys, sizeof *k->cache);
	if (k->cache != NULL && k->cache[i] == NULL)
		k->cache[i] = cer_secret_strdup(pass);
}

/* Up to three tries on the terminal for a key that needs a password; *good gets the one that
 * worked. */
static int ask_and_add(struct cer_recovery *r, const char *path, const char *certs_dir, char **good)
{
	enum cer_share_outcome outcome = CER_SHARE_NEEDS_PASSWORD;
	char prompt[512], why[256];
	char *pass;
	int tries, ret = CER_EUSAGE;

	for (tries = 0; tries < 3; tries++) {
		if (tries > 0)
			fprintf(stderr, "%s: %s\n", ui_progname, cer_errmsg());
		snprintf(prompt, sizeof prompt, "Password for key %s: ", path);
		pass = ui_read_passphrase(prompt);
		if (pass == NULL) {
			snprintf(why, sizeof why, "%s", cer_errmsg());
			return cer_fail(CER_EUSAGE, "key %s: no password given (%s)", path, why);
		}
		ret = cer_recovery_add_key(r, path, pass, certs_dir, &outcome);
		if (outcome != CER_SHARE_WRONG_PASSWORD && outcome != CER_SHARE_NEEDS_PASSWORD) {
			*good = pass;
			break;
		}
		cer_secret_free(pass);
	}
	if (outcome == CER_SHARE_NEEDS_PASSWORD)
		ret = cer_fail(CER_EAUTH, "key %s: wrong passphrase", path);
	return ret;
}

static int pin_for(struct ui_recovery_keys *k, int i, char **pin)
{
	int j = position_among_kind(k, i);

	*pin = NULL;
	if (k->cache != NULL && k->cache[i] != NULL) {
		*pin = cer_secret_strdup(k->cache[i]);
		return *pin != NULL ? CER_OK : CER_EINTERNAL;
	}
	if (j < k->npin_files)
		return cer_passphrase_file_read(k->pin_files[j], pin);
	return CER_OK;
}

/* Said before a PIN is asked for again, as the token reports it. */
static void pin_warning(const struct cer_token_info *info)
{
	char name[CER_TOKEN_NAME_LEN];
	const char *warning = cer_token_pin_warning(info);

	cer_token_name(info, name);
	if (warning != NULL)
		fprintf(stderr, "%s: warning: %s: %s\n", ui_progname, name, warning);
}

static int tokens_open(struct ui_recovery_keys *k)
{
	const char *raw = getenv(UI_RK_RAW_ENV);
	int ret;

	if (k->tokens != NULL)
		return CER_OK;
	ret = cer_tokens_open(k->pkcs11_module, &k->tokens);
	if (ret == CER_OK && raw != NULL && strcmp(raw, "1") == 0)
		cer_tokens_set_unwrap(k->tokens, CER_TOKEN_UNWRAP_RAW);
	return ret;
}

/* A token key: PIN from the cache, a --pin-file, or up to three tries on the terminal. */
static int add_token(struct cer_recovery *r, struct ui_recovery_keys *k, int i,
                     enum cer_share_outcome *outcome)
{
	const char *uri = k->keys[i];
	struct cer_token_info info;
	char prompt[256], name[CER_TOKEN_NAME_LEN], why[256];
	char *pin = NULL;
	int ret, tries;

	*outcome = CER_SHARE_NOT_A_KEY;
	ret = tokens_open(k);
	if (ret != CER_OK)
		return ret;
	ret = pin_for(k, i, &pin);
	if (ret != CER_OK)
		return ret;
	ret = cer_recovery_add_token(r, k->tokens, uri, pin, k->certs_dir, &ui_stderr_progress,
	                             &info, outcome);
	if (*outcome == CER_SHARE_WRONG_PASSWORD && pin != NULL)
		pin_warning(&info);
	for (tries = 0; *outcome == CER_SHARE_NEEDS_PASSWORD ||
	                (tries > 0 && *outcome == CER_SHARE_WRONG_PASSWORD && !info.pin_locked);
	     tries++) {
		snprintf(why, sizeof why, "%s", cer_errmsg());
		if (tries == 3) {
			ret = cer_fail(CER_EAUTH, "%s (three tries)", why);
			break;
		}
		if (!isatty(STDIN_FILENO)) {
			ret = cer_fail(CER_EUSAGE, "%s: give --pin-file (no terminal to ask on)",
			               why);
			break;
		}
		if (tries > 0)
			fprintf(stderr, "%s: %s\n", ui_progname, cer_errmsg());
		pin_warning(&info);
		cer_token_name(&info, name);
		snprintf(prompt, sizeof prompt, "User PIN of %s for %s: ", name, uri);
		cer_secret_free(pin);
		pin = ui_read_passphrase(prompt);
		if (pin == NULL) {
			snprintf(why, sizeof why, "%s", cer_errmsg());
			ret = cer_fail(CER_EUSAGE, "%s: no PIN given (%s)", uri, why);
			break;
		}
		ret = cer_recovery_add_token(r, k->tokens, uri, pin, k->certs_dir,
		                             &ui_stderr_progress, &info, outcome);
	}
	if (*outcome != CER_SHARE_WRONG_PASSWORD && *outcome != CER_SHARE_NEEDS_PASSWORD &&
	    *outcome != CER_SHARE_NOT_A_KEY)
		remember(k, i, pin);
	cer_secret_free(pin);
	return ret;
}

int ui_recovery_keys_add(struct cer_recovery *r, struct ui_recovery_keys *k, bool stop_on_failure,
                         bool stop_when_ready)
{
	enum cer_share_outcome outcome;
	int i, ret = CER_OK;

	for (i = 0; i < k->nkeys; i++) {
		const char *path = k->keys[i];
		char *pass = NULL;

		if (stop_when_ready && cer_recovery_ready(r))
			break;
		if (cer_token_is_uri(path)) {
			ret = add_token(r, k, i, &outcome);
			if (ret == CER_OK)
				continue;
			if (ret == CER_EINTERNAL || stop_on_failure ||
			    outcome == CER_SHARE_NEEDS_PASSWORD)
				return ret;
			ret = CER_OK;
			continue;
		}
		ret = password_for(k, i, &pass);
		if (ret != CER_OK) {
			cer_secret_free(pass);
			return ret;
		}
		ret = cer_recovery_add_key(r, path, pass, k->certs_dir, &outcome);
		if (outcome == CER_SHARE_NEEDS_PASSWORD) {
			if (!isatty(STDIN_FILENO)) {
				cer_secret_free(pass);
				if (given_for(k) > 0)
					return cer_fail(CER_EUSAGE,
					                "key %s is encrypted and needs a "
					                "password, but %s (no terminal to ask on)",
					                path, ui_recovery_keys_hint(k));
				return cer_fail(
				        CER_EUSAGE,
				        "key %s is encrypted and needs a password: "
				        "give --passwords or --password-files (no terminal to "
				        "ask on)",
				        path);
			}
			cer_secret_free(pass);
			pass = NULL;
			ret = ask_and_add(r, path, k->certs_dir, &pass);
			if (ret == CER_EUSAGE) {
				cer_secret_free(pass);
				return ret;
			}
			remember(k, i, pass);
		} else if (outcome != CER_SHARE_WRONG_PASSWORD && outcome != CER_SHARE_NOT_A_KEY) {
			remember(k, i, pass);
		}
		cer_secret_free(pass);
		if (ret == CER_OK)
			continue;
		if (ret == CER_EINTERNAL)
			return ret;
		if (stop_on_failure)
			return ret;
		ret = CER_OK;
	}
	return ret;
}

/* The nth (from 0) key on the command line that names no file, or NULL. */
static const char *nth_missing(const struct ui_recovery_keys *k, size_t nth)
{
	int i;

	for (i = 0; i < k->nkeys; i++)
		if (!cer_token_is_uri(k->keys[i]) && !cer_path_exists(k->keys[i]) && nth-- == 0)
			return k->keys[i];
	return NULL;
}

int ui_recovery_keys_explain(const struct ui_recovery_keys *k, const struct cer_recovery *r,
                             int status)
{
	char msg[1024];
	size_t i, missing = 0;

	if (status == CER_OK)
		return status;
	for (i = 0; i < cer_recovery_key_count(r); i++) {
		struct cer_recovery_key key;
		bool named_nothing;

		cer_recovery_key(r, i, &key);
		/* The session never repeats a path that names nothing (in the wizard
		 * it may be a passphrase); the command line's is the operator's own. */
		named_nothing = strcmp(key.key_path, CER_RECOVERY_MISSING_PATH) == 0;
		if (key.outcome == CER_SHARE_GOOD || key.superseded) {
			missing += named_nothing;
			continue;
		}
		if (named_nothing && nth_missing(k, missing) != NULL)
			return cer_fail(status, "key %s: cannot open: no such file",
			                nth_missing(k, missing));
		if (key.outcome != CER_SHARE_WRONG_PASSWORD || ui_recovery_keys_hint(k)[0] == '\0')
			return status;
		snprintf(msg, sizeof msg, "%s", cer_errmsg());
		return cer_fail(status, "%s (%s)", msg, ui_recovery_keys_hint(k));
	}
	return status;
}
