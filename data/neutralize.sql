-- A neutralized copy must not move money: providers fall back to test mode.
UPDATE payout_provider SET state = 'test' WHERE state = 'enabled';
-- ...and keep no provider credentials.
UPDATE payout_provider
   SET doku_client_id = NULL, doku_secret_key = NULL,
       xendit_secret_key = NULL, xendit_callback_token = NULL;
