/* imap_folders: reading a LIST answer the way merci does, shared by the
 * IMAP child (which folders to sync, where drafts go) and the connection
 * probe (what `merci init` reports), so both always name the same Sent
 * folder. */
#ifndef MERCI_IMAP_FOLDERS_H
#define MERCI_IMAP_FOLDERS_H

#include <libetpan/libetpan.h>
#include <stdbool.h>

/* True when mb carries the extension flag ext ("Sent", no backslash) or the
 * single flag sflag (a MAILIMAP_MBX_LIST_SFLAG_*, 0 for none). */
bool imap_folder_has_flag(const struct mailimap_mailbox_list *mb, const char *ext, int sflag);
/* True when mb can be SELECTed (named, neither \Noselect nor \NonExistent). */
bool imap_folder_selectable(const struct mailimap_mailbox_list *mb);
/* The \Sent special-use folder (*special set), else the best well-known name
 * (Sent, Sent Items, Sent Messages, Envoyés, Éléments envoyés, [Gmail]/Sent
 * Mail), also under "INBOX."; the raw name as listed, or NULL when none. */
const char *imap_folder_find_sent(clist *list, bool *special);
/* The same for the \Drafts folder (Drafts, Brouillons, [Gmail]/Drafts). */
const char *imap_folder_find_drafts(clist *list, bool *special);

#endif
