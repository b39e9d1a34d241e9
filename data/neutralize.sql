-- A neutralized copy must not move money: providers fall back to test mode...
UPDATE payout_provider SET state = 'test' WHERE state = 'enabled';
-- ...keep no provider credentials...
UPDATE payout_provider
   SET doku_client_id = NULL, doku_secret_key = NULL, doku_private_key = NULL,
       xendit_secret_key = NULL, xendit_callback_token = NULL;
-- ...and reach no production endpoint nor custom URL: DOKU's sandbox, Xendit's API (whose
-- keys, blank now, tell test from live).
UPDATE payout_provider
   SET doku_environment = 'sandbox', doku_base_url = NULL,
       xendit_base_url = 'https://api.xendit.co';
