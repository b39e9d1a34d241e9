from odoo import api, models
from odoo.tools import SQL

from .. import encryption


class PayoutEncryption(models.AbstractModel):
    """Every value of the addon's encrypted fields, re-encrypted at once: after a migration
    from clear text, and to rotate the key (bin/rotate-key). The values keyed with the
    first key follow: the account fingerprints, and the claim secrets' hashes, which are
    stored encrypted."""

    _name = "payout.encryption"
    _description = "Payout Secrets Encryption"

    @api.model
    def _encrypted_columns(self):
        """(table, column) of every stored encrypted field of the registry."""
        return sorted({
            (model._table, field.name)
            for model in self.env.registry.values() if not model._abstract
            for field in model._fields.values()
            if isinstance(field, encryption._Encrypted) and field.store
            and field.model_name == model._name
        })

    @api.model
    def _reencrypt_all(self):
        """Encrypt every stored value under the first configured key: clear text (from
        before the encryption) and values under an older key alike, then recompute the
        account fingerprints under it. A value no configured key opens stops the whole
        run, changing nothing (EncryptionKeyError).

        :return: how many values were written
        """
        self.env.flush_all()
        updates = []
        for table, column in self._encrypted_columns():
            rows = self.env.execute_query(SQL(
                "SELECT id, %s FROM %s WHERE %s IS NOT NULL",
                SQL.identifier(column), SQL.identifier(table), SQL.identifier(column)))
            for record_id, stored in rows:
                clear = encryption.decrypt(stored)
                updates.append((table, column, record_id, encryption.encrypt(clear)))
        for table, column, record_id, value in updates:
            self.env.cr.execute(SQL("UPDATE %s SET %s = %s WHERE id = %s",
                                    SQL.identifier(table), SQL.identifier(column), value,
                                    record_id))
        self.env.invalidate_all()
        # The searched account fingerprints are keyed with the first key: recomputed from
        # their sealed (encrypted) inner values, just re-encrypted above.
        self.env["payout.link"]._rekey_account_fingerprints()
        return len(updates)
