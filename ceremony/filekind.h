#ifndef CER_FILEKIND_H
#define CER_FILEKIND_H

/*
 * What a file named on a command line or in the wizard most likely is, to
 * tell a user who gave one file where another belongs (a certificate for a
 * key, the security-domain file for the exchange key) what they did.  Only
 * for messages: the loaders decide what they accept.
 */

#include "ceremony/cer.h"

enum cer_file_kind {
	CER_FILE_UNKNOWN = 0,     /* none of these, or unreadable */
	CER_FILE_MISSING,         /* no such file */
	CER_FILE_DIRECTORY,
	CER_FILE_CERTIFICATE,     /* an X.509 certificate, PEM or DER */
	CER_FILE_PRIVATE_KEY,     /* a private key the tool reads (PEM, PKCS#12, DER) */
	CER_FILE_SECURITY_DOMAIN, /* a security-domain file that loads */
};

/*
 * Looks at path.  A private key is read into secret memory, never opened
 * with a password, and freed at once.  The thread's error message is left
 * as it was, so a caller can classify a file after a load failed.
 */
enum cer_file_kind cer_file_kind(const char *path);

/* "a certificate", "a private key", "a security-domain file", "a directory", ... */
const char *cer_file_kind_text(enum cer_file_kind kind);

#endif
