/* record: the plain records the IMAP child streams to the parent.
 *
 * The child parses everything the server sends; the parent trusts none of it
 * and only decodes these frames, which are simple enough to validate fully.
 * A frame is: u32 big-endian payload length (at most RECORD_MAX_FRAME), then
 * the payload: u8 record type, then fields, each u8 tag + u32 big-endian
 * length + bytes. Unknown tags are skipped (forward compatibility); strings
 * must be valid UTF-8 without NUL, CR or LF, at most RECORD_MAX_STRING bytes.
 *
 * Order on the wire for one sync of one account:
 *   HELLO                       (after login: the server's capabilities)
 *   per folder: FOLDER, then batches of MSG / SKIP, each batch closed by a
 *     BATCH_END carrying the folder's checkpoint (uidvalidity, last_uid)
 *   DONE                        (the whole sync ended well; the child exits)
 * or IDLE instead of DONE: the sync ended well, and the child stays connected
 *   and waits for new mail (IMAP IDLE); each later wake repeats the folders
 *   and batches and ends with IDLE again, on the same stream
 * or ERROR at any point (the child then exits).
 *
 * Between the last batch of a round and its DONE or IDLE the child asks for
 * the round's chores (lib/server_tasks.h) and the stream runs both ways:
 *   child  -> parent: TASKS                  (every batch sent; what else?)
 *   parent -> child:  SEEN..., DRAFT..., TASKS (the list, closed by TASKS)
 *   child  -> parent: SEEN..., DRAFT...      (each one done: forget it)
 * The parent's only other bytes to the child are single non-zero wake bytes
 * ("sync now", see supervisor.c); a frame's first byte is always zero (its
 * length is below 2^24), so the child tells the two apart. */
#ifndef MERCI_RECORD_H
#define MERCI_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "msg.h"

#define RECORD_MAX_FRAME  (1u << 20)
#define RECORD_MAX_STRING (64u << 10)

enum record_type {
	REC_HELLO = 1,
	REC_FOLDER = 2,
	REC_MSG = 3,
	REC_SKIP = 4,
	REC_BATCH_END = 5,
	REC_DONE = 6,
	REC_ERROR = 7,
	REC_IDLE = 8,
	REC_TASKS = 9,       /* see above: the child's question, the parent's end of list */
	REC_SEEN = 10,       /* folder, uidvalidity, uid: flag it \Seen / it is flagged */
	REC_DRAFT = 11,      /* id (a nudge), text (its Message-ID), data: append
				the draft / id alone: it is in the Drafts folder */
};
#define REC_TYPE_LAST REC_DRAFT

/* Error classes carried by REC_ERROR, so the parent knows whether to retry. */
enum record_err {
	RECERR_TEMP = 1,     /* network, timeout, server busy: retry with backoff */
	RECERR_AUTH = 2,     /* login refused: retry slowly, tell the owner */
	RECERR_TLS = 3,      /* certificate or STARTTLS problem: do not send secrets */
	RECERR_CONFIG = 4,   /* e.g. a named folder does not exist */
	RECERR_PROTOCOL = 5, /* server said something we cannot parse */
};

struct record {
	enum record_type type;
	char *folder;            /* FOLDER, SKIP, BATCH_END, MSG (msg.folder too) */
	uint32_t uidvalidity;    /* FOLDER, BATCH_END */
	uint32_t uidnext;        /* FOLDER */
	uint32_t exists;         /* FOLDER */
	uint32_t uid;            /* SKIP: the skipped uid; BATCH_END: last uid covered */
	char *text;              /* HELLO: capabilities; SKIP/ERROR: reason; DRAFT: Message-ID */
	int64_t id;              /* DRAFT: the nudge the draft is for */
	char *data;              /* DRAFT, parent to child: the message, LF line ends */
	int err_class;           /* ERROR: enum record_err */
	struct msg msg;          /* MSG */
};

/* Appends one encoded frame to out. Strings are sanitised while encoding
 * (invalid UTF-8 replaced, CR/LF/NUL turned to spaces, truncated to the
 * limit), so a well-behaved child always emits frames the parent accepts. */
void record_encode(const struct record *r, struct buf *out);

/* Decodes one frame from the front of data. Returns 1 and sets *consumed when
 * a whole frame was decoded into r (zeroed first; free with record_free),
 * 0 when more bytes are needed, -1 when the bytes cannot be a valid frame
 * (*err then points to a static reason). */
int record_decode(const void *data, size_t len, struct record *r, size_t *consumed, const char **err);

void record_free(struct record *r);

#endif
