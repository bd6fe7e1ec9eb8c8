/* imap_tasks: the IMAP child's chores after each round (lib/server_tasks.h):
 * flag the owner's applied replies \Seen and append the thank-you drafts
 * to the Drafts folder. The child asks the parent for the list (REC_TASKS,
 * lib/record.h), does each on the open connection and reports each one
 * done; what it cannot do now stays on the list for the next round. */
#ifndef MERCI_IMAP_TASKS_H
#define MERCI_IMAP_TASKS_H

#include <stdint.h>

struct imap_failure;
struct imap_session;

/* Asks on fd, waits at most wait_s seconds for the whole answer (the
 * parent answers once it has committed every batch sent before), runs the
 * chores on sess and writes the reports to fd. Returns 0 (also when a
 * chore was refused by the server: logged, and dropped or kept as fits),
 * -1 when the connection failed or the parent did not answer in time
 * (*fail filled; drop the session), -2 when the parent is gone. */
int imap_tasks_run(struct imap_session *sess, int fd, int64_t wait_s,
		   struct imap_failure *fail);

#endif
