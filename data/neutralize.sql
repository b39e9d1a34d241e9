-- A neutralized copy must not move money: providers fall back to test mode.
UPDATE payout_provider SET state = 'test' WHERE state = 'enabled';
