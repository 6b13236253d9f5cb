-- A TOTP code is accepted once (RFC 6238 §5.2): the 30 s step of the last code a user signed in
-- or confirmed with; a code of that step or an earlier one is refused from then on.
ALTER TABLE users ADD COLUMN totp_last_step INTEGER;
