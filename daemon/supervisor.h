/* supervisor: one runner per account, in the main process.
 *
 * A runner forks the account's IMAP child (imap_sync.c) over a socketpair,
 * reads the records it streams, validates them (record.c) and commits each
 * batch with its checkpoint in one transaction (ingest.c, store.c). A child
 * that crashes, hangs or talks nonsense is killed and reaped, the attempt is
 * recorded as failed, and the next one is scheduled with capped exponential
 * backoff and jitter; nothing already committed is lost, and the event loop
 * never waits on IMAP.
 *
 * Outside --once a child whose server offers IDLE stays after its sync
 * (REC_IDLE, lib/record.h): each round it reports is recorded like a
 * finished sync (daemon_runner_finished), and it is then "idling": not busy,
 * watched by a stall timer of its IDLE wait plus a margin, killed on reload
 * or runner_free. When it fails, the usual backoff and reconnect follow.
 *
 * After each round's batches the child asks for the round's chores
 * (REC_TASKS): the runner answers with the list lib/server_tasks.c keeps
 * (\Seen flags, drafts) and drops each row the child reports done. */
#ifndef MERCI_SUPERVISOR_H
#define MERCI_SUPERVISOR_H

#include <stdbool.h>
#include <stdint.h>

struct daemon;
struct config_account;

struct runner *runner_new(struct daemon *d, const struct config_account *acct);
/* Starts a sync now unless one is running; an idling child is woken (one
 * byte on its socket) and syncs on its open connection. Returns 0, or -1
 * when the child could not be started (already logged; the runner retries
 * later). */
int runner_sync_now(struct runner *r);
/* Makes the chores due now outside a round (drafts of the thank-you nudges
 * just mailed) and, when there are new ones, has the account's running
 * child do them now: an idling one is woken, a busy one after its round.
 * Without a running child (or in --once mode) they wait for the next
 * sync, which makes them anyway. */
void runner_tasks_refresh(struct runner *r);
/* Arms the next attempt after delay seconds (no-op in --once mode). */
void runner_schedule(struct runner *r, int64_t delay);
/* True while a sync is in flight (an idling child is not busy). */
bool runner_busy(const struct runner *r);
const char *runner_name(const struct runner *r);
/* Sync attempts ended so far (an IDLE round counts as one). */
unsigned runner_attempts(const struct runner *r);
/* Why the last attempt failed, with its RECERR_* class (0: not the
 * child's); NULL when it succeeded or none ended yet. */
const char *runner_last_error(const struct runner *r, int *err_class);
/* Kills a running child (SIGKILL), reaps it and frees everything. */
void runner_free(struct runner *r);

#endif
