"""Reissue: a new link for one that failed or expired, when no provider can still pay it.

A link is replaced at most once while its replacement may be paid: the originals' rows are
locked before the copy, and a partial unique index refuses a second live replacement that
a concurrent reissue could not see yet.
"""

import psycopg2

from odoo import models
from odoo.exceptions import UserError
from odoo.tools import SQL

from .. import const


class PayoutLink(models.Model):
    _inherit = "payout.link"

    def init(self):
        super().init()
        # At most one replacement of a link that may still be paid (a cancelled one does
        # not count): the backstop of `_copy_for_reissue` against concurrent reissues.
        self.env.cr.execute("""
            CREATE UNIQUE INDEX IF NOT EXISTS payout_link_one_live_replacement
                ON payout_link (replaced_link_id)
             WHERE replaced_link_id IS NOT NULL AND state != 'cancelled'
        """)

    def _is_reissuable(self):
        """Whether a new link may replace this one: it failed or expired, and no provider
        can still pay it (a submission whose outcome is unknown, or that needs attention,
        might still be paid)."""
        self.ensure_one()
        return (self.state in const.REISSUABLE_STATES and not self.needs_attention
                and self.submission_state not in ("to_submit", "submitting"))

    def action_reissue(self):
        """Fresh links (new token and secret, same data) for failed or expired ones."""
        self.check_access("write")
        if wrong := self.filtered(lambda link: link.state not in const.REISSUABLE_STATES):
            raise UserError(self.env._(
                "Only failed or expired links can be reissued: %s.",
                ", ".join(wrong.mapped("display_name")),
            ))
        self._check_reissuable()
        self._check_duplicates()  # a payout made since, by hand, would be paid again
        in_batch = self.filtered("batch_id")
        for batch, lines in in_batch.grouped("batch_id").items():
            batch._reissue_lines(lines)
        new_links = (self - in_batch)._copy_for_reissue()
        # A copy held for an unchecked email address (payout_link_hold.py) waits as a
        # draft for its release, then Send; the others go now.
        to_send = new_links.filtered(lambda link: not link.hold_reason)
        to_send._check_lines_ready()
        to_send._send_links()
        if len(new_links) == 1:
            return {
                "type": "ir.actions.act_window",
                "res_model": "payout.link",
                "res_id": new_links.id,
                "view_mode": "form",
            }
        return True

    def _check_reissuable(self):
        if unsure := self.filtered(lambda link: not link._is_reissuable()):
            raise UserError(self.env._(
                "%s: the provider may still pay it (its outcome is not known yet, or needs "
                "attention); it cannot be reissued until a Payout Manager confirms it was not "
                "paid.", ", ".join(unsure.mapped("display_name")),
            ))
        if reissued := self.filtered("reissued_link_ids"):
            raise UserError(self.env._(
                "%s: already reissued; a second new link would pay the same payout twice.",
                ", ".join(reissued.mapped("display_name")),
            ))

    def _copy_for_reissue(self):
        """Draft copies of failed or expired links, approved as the originals were.

        Two users reissuing one link at once make one copy: the originals' rows are locked
        first, so the second waits for the first, and the database refuses a second live
        replacement of a link (the unique index of `init`) whose copy it could not see yet.
        """
        if not self:
            return self
        self.flush_recordset()
        self.env.execute_query(SQL(
            "SELECT id FROM payout_link WHERE id IN %s FOR NO KEY UPDATE", tuple(self.ids)))
        self.invalidate_recordset()
        self._check_reissuable()
        new_links = self.browse()
        try:
            with self.env.cr.savepoint():
                for link in self:
                    # As sudo: the replaced link and the approval are the workflow's.
                    new_links |= link.sudo().copy({
                        "replaced_link_id": link.id,
                        "approved_by_id": link.approved_by_id.id,
                        "date_approved": link.date_approved,
                    }).with_env(self.env)
                new_links.flush_recordset()
        except psycopg2.errors.UniqueViolation as error:
            raise UserError(self.env._(
                "%s: already reissued by someone else just now; a second new link would pay "
                "the same payout twice.", ", ".join(self.mapped("display_name")),
            )) from error
        for link, new_link in zip(self, new_links, strict=True):
            link.message_post(body=self.env._("Reissued as %s.", new_link._get_html_link()))
        return new_links
