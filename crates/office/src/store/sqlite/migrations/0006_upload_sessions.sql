-- Uploads are per uploader (a device, or a staff user without one): one upload session per
-- (content, uploader), with the size that uploader announced and its own partial file, so no
-- announcement can fix the size of someone else's upload. A session counts (`complete`) only once
-- its own bytes hashed to the content address; the uploaders of a file are the users whose
-- sessions did. `attachments` now holds only content that arrived; the type it is served with is
-- recognised from its bytes on every download, never taken from an announcement.
CREATE TABLE attachment_uploads (
    sha256 TEXT NOT NULL,
    uploader TEXT NOT NULL,
    device_id TEXT,
    user_id TEXT NOT NULL,
    size INTEGER NOT NULL,
    mime TEXT NOT NULL,
    complete INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    completed_at TEXT,
    PRIMARY KEY (sha256, uploader)
);
CREATE INDEX attachment_uploads_done ON attachment_uploads(sha256, user_id) WHERE complete = 1;
CREATE INDEX attachment_refs_job ON attachment_refs(sha256, job_id);
-- Files that arrived before this migration: their announcer is taken as their uploader (it had to
-- reference the file in an accepted event of its own to announce it).
INSERT INTO attachment_uploads (sha256, uploader, device_id, user_id, size, mime, complete, created_at, completed_at)
    SELECT sha256, 'user-' || created_by, NULL, created_by, size, mime, 1, created_at, completed_at
    FROM attachments WHERE complete = 1;
-- Unfinished shared uploads start over in a session of their own (the phones still hold the files).
DELETE FROM attachments WHERE complete = 0;
