#ifndef CER_TRANSCRIPT_H
#define CER_TRANSCRIPT_H

/*
 * An append-only, plain-text audit transcript.  Each record is one line:
 *     2026-11-25T21:30:00Z <text>
 * (UTC, ISO 8601).  Control characters in text are replaced by '?', so a
 * record is always exactly one line.  Never pass a secret: transcripts hold
 * file names, SHA-256 digests, thumbprints, counts and results.
 * The file is opened O_APPEND (created 0644 if missing; symlinks, FIFOs and
 * other non-regular files are refused) and each record is written with one
 * write() and flushed to disk.
 */

#include "ceremony/cer.h"

struct cer_report;
struct cer_transcript;

int cer_transcript_open(const char *path, struct cer_transcript **out) CER_WUR;
int cer_transcript_add(struct cer_transcript *t, const char *fmt, ...) CER_PRINTF(2, 3) CER_WUR;
/* Appends the report's summary line, then one record per text line, prefixed "  ". */
int cer_transcript_add_report(struct cer_transcript *t, const struct cer_report *r) CER_WUR;
/*
 * For an operation that records its own outcome: with t NULL does nothing
 * and returns CER_OK; otherwise appends the record and keeps the caller's
 * error message and reason (cer_errmsg, cer_errreason) as they were, unless
 * the record cannot be written: then CER_EIO with the transcript's message.
 */
int cer_transcript_note(struct cer_transcript *t, const char *fmt, ...) CER_PRINTF(2, 3) CER_WUR;
/*
 * The record of a failed operation, "what: [FAIL] <cer_errmsg()> (exit
 * status)", as cer_transcript_note records it (message and reason kept).
 */
int cer_transcript_failure(struct cer_transcript *t, const char *what, int status) CER_WUR;
/* Closes (accepts NULL); CER_EIO if the final flush failed. */
int cer_transcript_close(struct cer_transcript *t);

#endif
