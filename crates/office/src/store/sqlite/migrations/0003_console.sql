-- The office console's lookups, each answered from an index rather than a scan of job bodies:
-- the instant a job belongs on the dispatch board (its appointment, else when it was reported; in
-- the `ts` text format, so text order is time order), and its customer's phone (digits only, as
-- `phone_key` makes it) and account number.
ALTER TABLE jobs ADD COLUMN board_at TEXT;
ALTER TABLE jobs ADD COLUMN customer_phone TEXT;
ALTER TABLE jobs ADD COLUMN customer_account TEXT;
UPDATE jobs SET
    board_at = strftime('%Y-%m-%dT%H:%M:%fZ',
        COALESCE(json_extract(body, '$.window.start'), json_extract(body, '$.reported_at'))),
    customer_phone = NULLIF(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(
        json_extract(body, '$.customer.phone'), ' ', ''), '-', ''), '(', ''), ')', ''), '+', ''), '.', ''), ''),
    customer_account = NULLIF(TRIM(json_extract(body, '$.customer.account_no')), '');
CREATE INDEX jobs_board_at ON jobs(board_at);
CREATE INDEX jobs_undated_open ON jobs(created_at) WHERE board_at IS NULL AND status = 'open';
CREATE INDEX jobs_customer_phone ON jobs(customer_phone, created_at);
CREATE INDEX jobs_customer_account ON jobs(customer_account, created_at);
-- A deactivated user cannot sign in and their sessions are revoked; their records stay theirs.
ALTER TABLE users ADD COLUMN deactivated_at TEXT;
