/* imap_folders: LIST answers read once for the child and the probe. */
#include "imap_folders.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap_utf7.h"

/* The names a Sent folder goes by when none is marked \Sent, best first. */
static const char *const sent_names[] = {
	"Sent", "Sent Items", "Sent Messages", "Envoyés", "Éléments envoyés",
	"[Gmail]/Sent Mail", NULL,
};

/* The same for Drafts. */
static const char *const drafts_names[] = {
	"Drafts", "Brouillons", "[Gmail]/Drafts", "[Gmail]/Brouillons", "Draft", NULL,
};

bool
imap_folder_has_flag(const struct mailimap_mailbox_list *mb, const char *ext, int sflag)
{
	clistiter *it;

	if (mb->mb_flag == NULL)
		return false;
	if (sflag && mb->mb_flag->mbf_type == MAILIMAP_MBX_LIST_FLAGS_SFLAG &&
	    mb->mb_flag->mbf_sflag == sflag)
		return true;
	for (it = clist_begin(mb->mb_flag->mbf_oflags); ext && it; it = clist_next(it)) {
		struct mailimap_mbx_list_oflag *of = clist_content(it);

		if (of->of_type == MAILIMAP_MBX_LIST_OFLAG_FLAG_EXT && of->of_flag_ext &&
		    strcasecmp(of->of_flag_ext, ext) == 0)
			return true;
	}
	return false;
}

bool
imap_folder_selectable(const struct mailimap_mailbox_list *mb)
{
	return mb->mb_name &&
	       !imap_folder_has_flag(mb, "NonExistent", MAILIMAP_MBX_LIST_SFLAG_NOSELECT);
}

/* The folder flagged ext, else the one whose decoded name comes first in
 * names (also directly under INBOX). */
static const char *
folder_find_special(clist *list, const char *ext, const char *const *names, bool *special)
{
	const char *best = NULL;
	size_t best_rank = SIZE_MAX, k;
	clistiter *it;

	*special = false;
	for (it = clist_begin(list); it; it = clist_next(it)) {
		const struct mailimap_mailbox_list *mb = clist_content(it);
		char *name;

		if (!imap_folder_selectable(mb))
			continue;
		if (imap_folder_has_flag(mb, ext, 0)) {
			*special = true;
			return mb->mb_name;
		}
		if ((name = imap_utf7_decode(mb->mb_name)) == NULL)
			continue;
		for (k = 0; names[k] && k < best_rank; k++) {
			size_t nl = strlen(name), cl = strlen(names[k]);
			bool under_inbox = nl == cl + 6 && strncasecmp(name, "INBOX", 5) == 0 &&
					   name[5] == mb->mb_delimiter;

			if (strcmp(name, names[k]) == 0 ||
			    (under_inbox && strcmp(name + 6, names[k]) == 0)) {
				best = mb->mb_name;
				best_rank = k;
			}
		}
		free(name);
	}
	return best;
}

const char *
imap_folder_find_sent(clist *list, bool *special)
{
	return folder_find_special(list, "Sent", sent_names, special);
}

const char *
imap_folder_find_drafts(clist *list, bool *special)
{
	return folder_find_special(list, "Drafts", drafts_names, special);
}
