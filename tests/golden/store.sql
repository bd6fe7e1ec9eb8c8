-- The golden tests' network: Camille Roy, a freelance consultant in
-- Montréal who writes in French, with a few English-speaking contacts.
-- Loaded by tests/integration/golden.sh into a store that mercid has just
-- created and migrated (so the schema is the code's), with MERCI_NOW =
-- 2026-11-15T12:00:00Z. Only rows are added here, never tables.
--
-- The story, so a changed golden file can be judged:
--  * Peter Walsh introduced Emma Clarke (2025-09): thanked through a
--    thank-you nudge marked done; mandate 1 with Northwind, ended.
--  * Sophie Tremblay introduced Marc Gagnon (2026-01): thanked by mail;
--    mandate 2 with Bellevue, ended. In 2026-09 she passed a lead (Thomas
--    Nguyen): the thank-you nudge was sent, not done yet.
--  * The Atelier Nord (a contact known by its address only) signed
--    mandate 6 in 2026-04 after prospecting: no referral.
--  * Jean-Philippe Bouchard gave Nadia Benali the owner's name (2026-05):
--    never thanked; mandate 3, confirmed, started 2026-06-15: 153 days
--    before "now", past the 150-day warning.
--  * Thomas Nguyen refused (mandate 4); Chloé Dubois's is probable (5).
--  * Amélie Côté, a fellow freelancer, passed a lead and recommended the
--    owner; the owner introduced her to Marc once: one favour owed.
--  * Lucie Martin has a 30-day cadence; Bruno Lefebvre is muted.
--  * One mailing-list message (automated) makes no contact.

-- The account row comes from mercid's failed first sync: make it a good one.
UPDATE account SET last_sync = strftime('%s', '2026-11-15 11:55'),
	last_attempt = strftime('%s', '2026-11-15 11:55'), last_error = NULL,
	first_sync_at = strftime('%s', '2025-09-01 08:00')
WHERE name = 'work';

INSERT INTO folder (account_id, name, uidvalidity, last_uid, n_exists, last_sync)
SELECT id, 'INBOX', 1700000001, 22, 22, strftime('%s', '2026-11-15 11:55') FROM account WHERE name = 'work';
INSERT INTO folder (account_id, name, uidvalidity, last_uid, n_exists, last_sync)
SELECT id, 'Sent', 1700000002, 17, 17, strftime('%s', '2026-11-15 11:55') FROM account WHERE name = 'work';

INSERT INTO contact (id, name, language, cadence_days, muted, created_at) VALUES
	(1, 'Sophie Tremblay', 'fr', NULL, 0, strftime('%s', '2025-12-01 09:00')),
	(2, 'Marc Gagnon', 'fr', NULL, 0, strftime('%s', '2026-01-12 10:00')),
	(3, 'Amélie Côté', 'fr', NULL, 0, strftime('%s', '2026-03-10 14:00')),
	(4, 'Jean-Philippe Bouchard', 'fr', NULL, 0, strftime('%s', '2026-02-14 16:00')),
	(5, 'Nadia Benali', 'fr', NULL, 0, strftime('%s', '2026-05-20 08:30')),
	(6, 'Peter Walsh', 'en', NULL, 0, strftime('%s', '2025-09-10 13:00')),
	(7, 'Emma Clarke', 'en', NULL, 0, strftime('%s', '2025-09-10 13:00')),
	(8, 'Lucie Martin', 'fr', 30, 0, strftime('%s', '2026-08-15 18:00')),
	(9, 'Thomas Nguyen', 'fr', NULL, 0, strftime('%s', '2026-09-03 11:00')),
	(10, 'Chloé Dubois', 'fr', NULL, 0, strftime('%s', '2026-06-01 09:15')),
	(11, NULL, NULL, NULL, 0, strftime('%s', '2026-03-20 10:00')),
	(12, 'Bruno Lefebvre', 'fr', NULL, 1, strftime('%s', '2025-06-01 09:00'));

INSERT INTO contact_tag (contact_id, tag, inferred) VALUES
	(1, 'partner', 0), (1, 'referrer', 1),
	(2, 'client', 0),
	(3, 'partner', 0),
	(4, 'referrer', 1),
	(5, 'client', 0), (5, 'prospect', 1),
	(6, 'referrer', 1),
	(7, 'client', 0),
	(8, 'ancienne-collègue', 0),
	(9, 'prospect', 1),
	(10, 'prospect', 1),
	(11, 'client', 0),
	(12, 'client', 0);

INSERT INTO address (id, email, name, contact_id, automated, first_seen) VALUES
	(1, 'camille@example.org', 'Camille Roy', NULL, 0, strftime('%s', '2025-06-01 09:00')),
	(2, 'sophie@tremblay-conseil.ca', 'Sophie Tremblay', 1, 0, strftime('%s', '2025-12-01 09:00')),
	(3, 'marc.gagnon@bellevue.qc.ca', 'Marc Gagnon', 2, 0, strftime('%s', '2026-01-12 10:00')),
	(4, 'amelie@cote-design.fr', 'Amélie Côté', 3, 0, strftime('%s', '2026-03-10 14:00')),
	(5, 'jp@bouchard.dev', 'Jean-Philippe Bouchard', 4, 0, strftime('%s', '2026-02-14 16:00')),
	(6, 'nadia.benali@solenne.fr', 'Nadia Benali', 5, 0, strftime('%s', '2026-05-20 08:30')),
	(7, 'peter@walsh-partners.co.uk', 'Peter Walsh', 6, 0, strftime('%s', '2025-09-10 13:00')),
	(8, 'emma.clarke@northwind.io', 'Emma Clarke', 7, 0, strftime('%s', '2025-09-10 13:00')),
	(9, 'lucie.martin@orange.fr', 'Lucie Martin', 8, 0, strftime('%s', '2026-08-15 18:00')),
	(10, 'thomas@nguyen.studio', 'Thomas Nguyen', 9, 0, strftime('%s', '2026-09-03 11:00')),
	(11, 'chloe.dubois@agence-lumen.fr', 'Chloé Dubois', 10, 0, strftime('%s', '2026-06-01 09:15')),
	(12, 'contact@atelier-nord.fr', NULL, 11, 0, strftime('%s', '2026-03-20 10:00')),
	(13, 'bruno@lefebvre-avocats.ca', 'Bruno Lefebvre', 12, 0, strftime('%s', '2025-06-01 09:00')),
	(14, 'newsletter@lists.example.com', 'La Lettre du Freelance', NULL, 1, strftime('%s', '2026-11-10 07:00')),
	(15, 's.tremblay@gmail.com', 'Sophie Tremblay', 1, 0, strftime('%s', '2026-09-03 10:00'));

-- (id, key, folder, uid, direction, date, subject, thread, flags)
INSERT INTO exchange (id, account_id, msg_key, message_id, folder, uid, direction, date,
	subject, subject_norm, thread_key, automated, expects_answer, has_thanks, language)
SELECT v.column1, a.id, v.column2, '<' || v.column2 || '>', v.column3, v.column4, v.column5,
	strftime('%s', v.column6), v.column7, lower(v.column7), v.column8, v.column9,
	v.column10, v.column11, v.column12
FROM account a, (VALUES
	(1, 's1@tremblay-conseil.ca', 'INBOX', 1, 'in', '2025-12-01 09:00', 'Café la semaine prochaine ?', 'thr-s1', NULL, 1, 0, 'fr'),
	(2, 'o2@example.org', 'Sent', 1, 'out', '2025-12-02 08:10', 'Re: Café la semaine prochaine ?', 'thr-s1', NULL, 0, 0, 'fr'),
	(3, 's3@tremblay-conseil.ca', 'INBOX', 2, 'in', '2026-01-12 10:00', 'Présentation : Marc Gagnon (Bellevue)', 'thr-s2', NULL, 0, 0, 'fr'),
	(4, 'o4@example.org', 'Sent', 2, 'out', '2026-01-13 09:00', 'Re: Présentation : Marc Gagnon (Bellevue)', 'thr-s2', NULL, 0, 1, 'fr'),
	(5, 's5@gmail.com', 'INBOX', 3, 'in', '2026-09-03 10:00', 'Une piste chez Nguyen Studio', 'thr-s3', NULL, 0, 0, 'fr'),
	(7, 'm7@bellevue.qc.ca', 'INBOX', 4, 'in', '2026-01-20 15:00', 'Mandat Bellevue : proposition', 'thr-m1', NULL, 1, 0, 'fr'),
	(8, 'o8@example.org', 'Sent', 3, 'out', '2026-01-22 09:30', 'Re: Mandat Bellevue : proposition', 'thr-m1', NULL, 0, 0, 'fr'),
	(9, 'm9@bellevue.qc.ca', 'INBOX', 5, 'in', '2026-05-29 17:00', 'Fin du mandat, merci !', 'thr-m2', NULL, 0, 1, 'fr'),
	(10, 'o10@example.org', 'Sent', 4, 'out', '2026-10-28 09:00', 'Des nouvelles de Bellevue ?', 'thr-m3', NULL, 1, 0, 'fr'),
	(11, 'a11@cote-design.fr', 'INBOX', 6, 'in', '2026-03-10 14:00', 'Un client pour toi : l''Atelier Nord', 'thr-a1', NULL, 0, 0, 'fr'),
	(12, 'o12@example.org', 'Sent', 5, 'out', '2026-03-11 08:45', 'Re: Un client pour toi : l''Atelier Nord', 'thr-a1', NULL, 0, 1, 'fr'),
	(13, 'o13@example.org', 'Sent', 6, 'out', '2026-04-02 11:00', 'Amélie, je te présente Marc', 'thr-a2', NULL, 0, 0, 'fr'),
	(14, 'a14@cote-design.fr', 'INBOX', 7, 'in', '2026-07-08 12:00', 'Recommandation LinkedIn', 'thr-a3', NULL, 0, 0, 'fr'),
	(15, 'n15@solenne.fr', 'INBOX', 8, 'in', '2026-05-20 08:30', 'Jean-Philippe Bouchard m''a donné votre nom', 'thr-n1', NULL, 1, 0, 'fr'),
	(16, 'j16@bouchard.dev', 'INBOX', 9, 'in', '2026-02-14 16:00', 'Bière vendredi ?', 'thr-j1', NULL, 1, 0, 'fr'),
	(17, 'o17@example.org', 'Sent', 7, 'out', '2026-02-15 09:00', 'Re: Bière vendredi ?', 'thr-j1', NULL, 0, 0, 'fr'),
	(18, 'o18@example.org', 'Sent', 8, 'out', '2026-05-21 10:00', 'Re: Jean-Philippe Bouchard m''a donné votre nom', 'thr-n1', NULL, 0, 0, 'fr'),
	(19, 'n19@solenne.fr', 'INBOX', 10, 'in', '2026-06-10 14:30', 'Bon de commande signé', 'thr-n2', NULL, 0, 0, 'fr'),
	(20, 'o20@example.org', 'Sent', 9, 'out', '2026-11-02 09:00', 'Point d''étape', 'thr-n3', NULL, 0, 0, 'fr'),
	(21, 'p21@walsh-partners.co.uk', 'INBOX', 11, 'in', '2025-09-10 13:00', 'Introduction: Emma Clarke, Northwind', 'thr-p1', NULL, 0, 0, 'en'),
	(22, 'o22@example.org', 'Sent', 10, 'out', '2025-09-11 09:00', 'Re: Introduction: Emma Clarke, Northwind', 'thr-p1', NULL, 0, 0, 'en'),
	(23, 'p23@walsh-partners.co.uk', 'INBOX', 12, 'in', '2026-08-30 16:00', 'Catching up?', 'thr-p2', NULL, 1, 0, 'en'),
	(24, 'e24@northwind.io', 'INBOX', 13, 'in', '2025-09-25 15:00', 'Statement of work', 'thr-e1', NULL, 0, 0, 'en'),
	(25, 'e25@northwind.io', 'INBOX', 14, 'in', '2025-12-19 17:00', 'Project wrap-up', 'thr-e2', NULL, 0, 1, 'en'),
	(26, 'l26@orange.fr', 'INBOX', 15, 'in', '2026-08-15 18:00', 'Nouvelles de Lyon', 'thr-l1', NULL, 1, 0, 'fr'),
	(27, 'o27@example.org', 'Sent', 11, 'out', '2026-08-16 08:00', 'Re: Nouvelles de Lyon', 'thr-l1', NULL, 0, 0, 'fr'),
	(28, 'o28@example.org', 'Sent', 12, 'out', '2026-09-05 09:00', 'Suite à la recommandation de Sophie', 'thr-t1', NULL, 1, 0, 'fr'),
	(29, 't29@nguyen.studio', 'INBOX', 16, 'in', '2026-09-12 11:00', 'Re: Suite à la recommandation de Sophie', 'thr-t1', NULL, 0, 0, 'fr'),
	(30, 'c30@agence-lumen.fr', 'INBOX', 17, 'in', '2026-06-01 09:15', 'Projet de refonte', 'thr-c1', NULL, 1, 0, 'fr'),
	(31, 'o31@example.org', 'Sent', 13, 'out', '2026-06-02 10:00', 'Re: Projet de refonte', 'thr-c1', NULL, 0, 0, 'fr'),
	(32, 'c32@agence-lumen.fr', 'INBOX', 18, 'in', '2026-07-15 09:00', 'Re: Projet de refonte', 'thr-c1', NULL, 0, 0, 'fr'),
	(33, 'o33@example.org', 'Sent', 14, 'out', '2026-07-16 10:00', 'Re: Projet de refonte', 'thr-c1', NULL, 0, 0, 'fr'),
	(34, 'o34@example.org', 'Sent', 15, 'out', '2026-03-20 10:00', 'Présentation de mes services', 'thr-an1', NULL, 1, 0, 'fr'),
	(35, 'an35@atelier-nord.fr', 'INBOX', 19, 'in', '2026-04-15 15:00', 'Re: Présentation de mes services', 'thr-an1', NULL, 0, 0, 'fr'),
	(36, 'b36@lefebvre-avocats.ca', 'INBOX', 20, 'in', '2025-06-01 09:00', 'Dossier Lefebvre', 'thr-b1', NULL, 0, 0, 'fr'),
	(37, 'o37@example.org', 'Sent', 16, 'out', '2025-06-02 09:00', 'Re: Dossier Lefebvre', 'thr-b1', NULL, 0, 0, 'fr'),
	(38, 'b38@lefebvre-avocats.ca', 'INBOX', 21, 'in', '2025-06-20 09:00', 'Re: Dossier Lefebvre', 'thr-b1', NULL, 0, 0, 'fr'),
	(39, 'o39@example.org', 'Sent', 17, 'out', '2025-06-21 09:00', 'Re: Dossier Lefebvre', 'thr-b1', NULL, 0, 0, 'fr'),
	(40, 'list40@lists.example.com', 'INBOX', 22, 'in', '2026-11-10 07:00', 'La Lettre du Freelance, novembre', 'thr-x1', 'List-Id', 0, 0, 'fr')
) v WHERE a.name = 'work';

INSERT INTO participant (exchange_id, address_id, role) VALUES
	(1, 2, 'from'), (1, 1, 'to'),
	(2, 1, 'from'), (2, 2, 'to'),
	(3, 2, 'from'), (3, 1, 'to'), (3, 3, 'cc'),
	(4, 1, 'from'), (4, 2, 'to'), (4, 3, 'to'),
	(5, 15, 'from'), (5, 1, 'to'),
	(7, 3, 'from'), (7, 1, 'to'),
	(8, 1, 'from'), (8, 3, 'to'),
	(9, 3, 'from'), (9, 1, 'to'),
	(10, 1, 'from'), (10, 3, 'to'),
	(11, 4, 'from'), (11, 1, 'to'),
	(12, 1, 'from'), (12, 4, 'to'),
	(13, 1, 'from'), (13, 4, 'to'), (13, 3, 'to'),
	(14, 4, 'from'), (14, 1, 'to'),
	(15, 6, 'from'), (15, 1, 'to'),
	(16, 5, 'from'), (16, 1, 'to'),
	(17, 1, 'from'), (17, 5, 'to'),
	(18, 1, 'from'), (18, 6, 'to'), (18, 5, 'cc'),
	(19, 6, 'from'), (19, 1, 'to'),
	(20, 1, 'from'), (20, 6, 'to'),
	(21, 7, 'from'), (21, 1, 'to'), (21, 8, 'cc'),
	(22, 1, 'from'), (22, 8, 'to'),
	(23, 7, 'from'), (23, 1, 'to'),
	(24, 8, 'from'), (24, 1, 'to'),
	(25, 8, 'from'), (25, 1, 'to'),
	(26, 9, 'from'), (26, 1, 'to'),
	(27, 1, 'from'), (27, 9, 'to'),
	(28, 1, 'from'), (28, 10, 'to'),
	(29, 10, 'from'), (29, 1, 'to'),
	(30, 11, 'from'), (30, 1, 'to'),
	(31, 1, 'from'), (31, 11, 'to'),
	(32, 11, 'from'), (32, 1, 'to'),
	(33, 1, 'from'), (33, 11, 'to'),
	(34, 1, 'from'), (34, 12, 'to'),
	(35, 12, 'from'), (35, 1, 'to'),
	(36, 13, 'from'), (36, 1, 'to'),
	(37, 1, 'from'), (37, 13, 'to'),
	(38, 13, 'from'), (38, 1, 'to'),
	(39, 1, 'from'), (39, 13, 'to'),
	(40, 14, 'from'), (40, 1, 'to');

INSERT INTO referral (id, kind, direction, from_contact, to_contact, exchange_id, date,
	evidence, thanked_at, created_at) VALUES
	(1, 'introduction', 'received', 1, 2, 3, strftime('%s', '2026-01-12 10:00'),
	 'Sophie Tremblay vous présente Marc Gagnon', strftime('%s', '2026-01-13 09:00'),
	 strftime('%s', '2026-01-12 10:05')),
	(2, 'mention', 'received', 4, 5, 15, strftime('%s', '2026-05-20 08:30'),
	 '« Jean-Philippe Bouchard m''a donné votre nom »', 0, strftime('%s', '2026-05-20 08:35')),
	(3, 'lead', 'received', 1, NULL, 5, strftime('%s', '2026-09-03 10:00'),
	 'Une piste chez Nguyen Studio', 0, strftime('%s', '2026-09-03 10:05')),
	(4, 'introduction', 'received', 6, 7, 21, strftime('%s', '2025-09-10 13:00'),
	 'Peter Walsh introduces Emma Clarke', 0, strftime('%s', '2025-09-10 13:05')),
	(5, 'introduction', 'given', NULL, 3, 13, strftime('%s', '2026-04-02 11:00'),
	 'Vous présentez Amélie Côté et Marc Gagnon', 0, strftime('%s', '2026-04-02 11:05')),
	(6, 'introduction', 'given', NULL, 2, 13, strftime('%s', '2026-04-02 11:00'),
	 'Vous présentez Amélie Côté et Marc Gagnon', 0, strftime('%s', '2026-04-02 11:05'));

INSERT INTO mandate (id, client_contact, referral_id, state, title, start_at, end_at,
	exchange_id, thread_key, evidence, created_at, confirmed_at) VALUES
	(1, 7, 4, 'ended', 'Northwind: data audit', strftime('%s', '2025-10-01 00:00'),
	 strftime('%s', '2025-12-19 00:00'), 24, 'thr-e1', 'Statement of work',
	 strftime('%s', '2025-09-25 15:05'), strftime('%s', '2025-09-26 09:00')),
	(2, 2, 1, 'ended', 'Bellevue : refonte du portail', strftime('%s', '2026-02-02 00:00'),
	 strftime('%s', '2026-05-29 00:00'), 7, 'thr-m1', 'Mandat Bellevue : proposition',
	 strftime('%s', '2026-01-20 15:05'), strftime('%s', '2026-01-23 09:00')),
	(3, 5, 2, 'confirmed', 'Solenne : accompagnement', strftime('%s', '2026-06-15 00:00'),
	 0, 19, 'thr-n2', 'Bon de commande signé',
	 strftime('%s', '2026-06-10 14:35'), strftime('%s', '2026-06-11 08:00')),
	(4, 9, 3, 'refused', NULL, 0, 0, 29, 'thr-t1', 'Re: Suite à la recommandation de Sophie',
	 strftime('%s', '2026-09-12 11:05'), 0),
	(5, 10, NULL, 'probable', NULL, 0, 0, 32, 'thr-c1', 'Re: Projet de refonte',
	 strftime('%s', '2026-07-15 09:05'), 0),
	(6, 11, NULL, 'confirmed', 'Atelier Nord : identité visuelle', strftime('%s', '2026-04-20 00:00'),
	 0, NULL, NULL, NULL, strftime('%s', '2026-04-16 09:00'), strftime('%s', '2026-04-16 09:00'));

INSERT INTO favour (id, contact_id, direction, kind, date, source, referral_id, exchange_id,
	note, created_at) VALUES
	(1, 1, 'received', 'introduction', strftime('%s', '2026-01-12 10:00'), 'mail', 1, 3,
	 'Sophie Tremblay vous présente Marc Gagnon', strftime('%s', '2026-01-12 10:05')),
	(2, 4, 'received', 'referral', strftime('%s', '2026-05-20 08:30'), 'mail', 2, 15,
	 '« Jean-Philippe Bouchard m''a donné votre nom »', strftime('%s', '2026-05-20 08:35')),
	(3, 1, 'received', 'lead', strftime('%s', '2026-09-03 10:00'), 'mail', 3, 5,
	 'Une piste chez Nguyen Studio', strftime('%s', '2026-09-03 10:05')),
	(4, 6, 'received', 'introduction', strftime('%s', '2025-09-10 13:00'), 'mail', 4, 21,
	 'Peter Walsh introduces Emma Clarke', strftime('%s', '2025-09-10 13:05')),
	(5, 6, 'given', 'help', strftime('%s', '2026-02-01 12:00'), 'manual', NULL, NULL,
	 'Relu sa proposition pour Northwind', strftime('%s', '2026-02-01 12:00')),
	(6, 3, 'received', 'lead', strftime('%s', '2026-03-10 14:00'), 'mail', NULL, 11,
	 'Un client pour toi : l''Atelier Nord', strftime('%s', '2026-03-10 14:05')),
	(7, 3, 'given', 'introduction', strftime('%s', '2026-04-02 11:00'), 'mail', 5, 13,
	 'Vous présentez Amélie Côté et Marc Gagnon', strftime('%s', '2026-04-02 11:05')),
	(8, 2, 'given', 'introduction', strftime('%s', '2026-04-02 11:00'), 'mail', 6, 13,
	 'Vous présentez Amélie Côté et Marc Gagnon', strftime('%s', '2026-04-02 11:05')),
	(9, 3, 'received', 'recommendation', strftime('%s', '2026-07-08 12:00'), 'manual', NULL, NULL,
	 'Recommandation sur LinkedIn', strftime('%s', '2026-07-08 12:30')),
	(10, 1, 'given', 'referral', strftime('%s', '2026-03-01 09:00'), 'manual', NULL, NULL,
	 'Recommandée à Chloé Dubois', strftime('%s', '2026-03-01 09:00'));

INSERT INTO nudge (id, kind, dedupe_key, contact_id, referral_id, mandate_id, exchange_id,
	favour_id, due, state, evidence, snooze_until, created_at, updated_at, sent_at,
	resolved_at) VALUES
	(1, 'thank-you', 'thank-you:referral:2', 4, 2, NULL, NULL, NULL,
	 strftime('%s', '2026-05-22 08:30'), 'pending',
	 'Jean-Philippe Bouchard vous a recommandé auprès de Nadia Benali le 2026-05-20', 0,
	 strftime('%s', '2026-05-20 08:35'), strftime('%s', '2026-05-20 08:35'), 0, 0),
	(2, 'thank-you', 'thank-you:referral:4', 6, 4, NULL, NULL, NULL,
	 strftime('%s', '2025-09-12 13:00'), 'done',
	 'Peter Walsh introduced you to Emma Clarke on 2025-09-10', 0,
	 strftime('%s', '2025-09-10 13:05'), strftime('%s', '2025-09-15 10:00'),
	 strftime('%s', '2025-09-12 13:00'), 0),
	(3, 'thank-you', 'thank-you:referral:3', 1, 3, NULL, NULL, NULL,
	 strftime('%s', '2026-09-05 10:00'), 'sent',
	 'Sophie Tremblay vous a passé une piste le 2026-09-03', 0,
	 strftime('%s', '2026-09-03 10:05'), strftime('%s', '2026-09-05 10:00'),
	 strftime('%s', '2026-09-05 10:00'), 0),
	(4, 'reciprocity', 'reciprocity:favour:9', 3, NULL, NULL, NULL, 9,
	 strftime('%s', '2026-08-07 12:00'), 'snoozed',
	 'Amélie Côté vous a rendu service le 2026-07-08 ; rien en retour depuis',
	 strftime('%s', '2026-11-20 08:30'),
	 strftime('%s', '2026-07-08 12:35'), strftime('%s', '2026-11-13 08:00'),
	 strftime('%s', '2026-08-07 12:00'), 0),
	(5, 'keep-in-touch', 'keep-in-touch:contact:10:' || strftime('%s', '2026-07-16 10:00'), 10,
	 NULL, NULL, NULL, NULL, strftime('%s', '2026-10-14 10:00'), 'pending',
	 'Aucun échange avec Chloé Dubois depuis le 2026-07-16', 0,
	 strftime('%s', '2026-07-16 10:05'), strftime('%s', '2026-07-16 10:05'), 0, 0),
	(6, 'keep-in-touch', 'keep-in-touch:contact:12:' || strftime('%s', '2025-06-21 09:00'), 12,
	 NULL, NULL, NULL, NULL, strftime('%s', '2025-09-19 09:00'), 'dismissed',
	 'Aucun échange avec Bruno Lefebvre depuis le 2025-06-21', 0,
	 strftime('%s', '2025-06-21 09:05'), strftime('%s', '2025-09-20 08:00'),
	 strftime('%s', '2025-09-19 09:00'), 0),
	(7, 'follow-up', 'follow-up:exchange:10', 2, NULL, NULL, 10, NULL,
	 strftime('%s', '2026-11-02 09:00'), 'pending',
	 'Pas de réponse de Marc Gagnon à « Des nouvelles de Bellevue ? » du 2026-10-28', 0,
	 strftime('%s', '2026-10-28 09:05'), strftime('%s', '2026-10-28 09:05'), 0, 0),
	(8, 'prospecting', 'prospecting:mandate-end:2', 2, NULL, 2, NULL, NULL,
	 strftime('%s', '2026-05-29 00:00'), 'resolved',
	 'Le mandat avec Marc Gagnon se termine : demandez-lui une recommandation', 0,
	 strftime('%s', '2026-05-20 00:00'), strftime('%s', '2026-06-10 14:35'),
	 strftime('%s', '2026-05-29 08:30'), strftime('%s', '2026-06-10 14:35')),
	(9, 'keep-in-touch', 'keep-in-touch:contact:8:' || strftime('%s', '2026-08-16 08:00'), 8,
	 NULL, NULL, NULL, NULL, strftime('%s', '2026-09-15 08:00'), 'pending',
	 'Aucun échange avec Lucie Martin depuis le 2026-08-16', 0,
	 strftime('%s', '2026-08-16 08:05'), strftime('%s', '2026-08-16 08:05'), 0, 0),
	(10, 'thank-you', 'thank-you:mandate:2', 1, NULL, 2, NULL, NULL,
	 strftime('%s', '2026-01-25 09:00'), 'done',
	 'Le mandat avec Marc Gagnon, venu par Sophie Tremblay, est confirmé depuis le 2026-01-23', 0,
	 strftime('%s', '2026-01-23 09:05'), strftime('%s', '2026-01-26 09:00'),
	 strftime('%s', '2026-01-25 09:00'), 0),
	(11, 'prospecting', 'prospecting:mandate:3', 5, NULL, 3, NULL, NULL,
	 strftime('%s', '2026-11-01 08:30'), 'pending',
	 'Mandat avec Nadia Benali en cours depuis le 2026-06-15 : aucun prospect contacté depuis 30 jours', 0,
	 strftime('%s', '2026-11-01 08:30'), strftime('%s', '2026-11-01 08:30'), 0, 0);

-- What ingest counts per folder as it records the exchanges above.
UPDATE folder SET n_messages = (SELECT count(*) FROM exchange e
	WHERE e.account_id = folder.account_id AND e.folder = folder.name);
