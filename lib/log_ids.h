/* log_ids: the MESSAGE_ID= of mercid's main events in the journal.
 *
 * Stable 128-bit ids (made once with `systemd-id128 new`): an administrator
 * filters on them (journalctl MESSAGE_ID=...), so a value never changes
 * once released; a new event gets a new id. man/mercid.8 lists them. */
#ifndef MERCI_LOG_IDS_H
#define MERCI_LOG_IDS_H

#define LOG_ID_STARTED         "0f83c9c575fe4e5f99488c0cfee0dd1b"  /* mercid started */
#define LOG_ID_READY           "61a145577a5e48f497a51cb8ce6574f0"  /* every account tried once */
#define LOG_ID_RELOADED        "3e2d4a4c49574b7da970c0a89618fde0"  /* new configuration in force */
#define LOG_ID_RELOAD_REFUSED  "fa5ef20c599746068eb191547973a6ce"  /* bad configuration kept out */
#define LOG_ID_SYNC_DONE       "68c3b66bdced4753b99206018be2529a"  /* an account synced */
#define LOG_ID_SYNC_FAILED     "2dc85af885e240798ca0438aadb1d98f"  /* login, TLS, config, protocol */
#define LOG_ID_SYNC_RETRY      "400966b1dd9242c5a1de63876c3dbe88"  /* connection lost: backoff */
#define LOG_ID_NUDGE_QUEUED    "e767a91df8a646419d58ca8122627325"  /* reminders queued as mail */
#define LOG_ID_MAIL_SENT       "f5818920b354489885eec8edef049669"  /* a reminder mail sent */
#define LOG_ID_MAIL_FAILED     "b03818ccdcaf426288b6391f0dbbda06"  /* refused for good */
#define LOG_ID_STORE_MIGRATED  "dfec9096383f4a19af7f19be2783429c"  /* schema upgraded */
#define LOG_ID_STOPPING        "91c9ce1ac0b4498a837119b6e85cef81"  /* mercid stops */

#endif
