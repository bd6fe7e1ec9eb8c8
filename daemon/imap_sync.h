/* imap_sync: one whole sync of one account, run in the IMAP child process.
 *
 * The child connects (imap_session), picks the folders, fetches new header
 * blocks in UID batches and streams them to the parent as records
 * (lib/record.h) over a socket. It never touches the store: the parent's
 * checkpoints arrive as a snapshot taken before the fork. After each round
 * it asks the parent for the round's chores and does them (imap_tasks.h). */
#ifndef MERCI_IMAP_SYNC_H
#define MERCI_IMAP_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Only pointers cross this interface: lib/config.h and lib/store.h define these. */
struct config;
struct config_account;
struct store_folder_state;

struct imap_job {
	const struct config *cfg;                  /* lib/config.h */
	const struct config_account *acct;
	const struct store_folder_state *states;   /* lib/store.h: the parent's checkpoints, snapshot taken before fork */
	size_t n_states;
	int fd;                                    /* stream socket to the parent: write records here (lib/record.h) */
	uint32_t batch;                            /* UIDs per UID FETCH range; 0 = default 2000 */
	bool idle;                                 /* stay and IDLE after the sync, if the server can */
};

/* Runs one whole sync of one account in the child. Returns the exit status:
 * 0 when REC_DONE was sent, 1 after sending REC_ERROR. Never touches the store.
 *
 * With job->idle and a server that offers IDLE, the sync ends with REC_IDLE
 * instead of REC_DONE and the child stays: it waits in IDLE on INBOX and
 * syncs every folder again when the server announces new mail, when the
 * parent writes a byte on job->fd (a sync on request), or after
 * min(acct->poll, 25 min) (RFC 2177: re-issue IDLE before 29 min). It only
 * returns on failure (REC_ERROR sent) or when the parent went away. */
int imap_sync_run(const struct imap_job *job);

#endif
