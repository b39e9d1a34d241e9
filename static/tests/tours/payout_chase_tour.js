/** @odoo-module **/

import { registry } from "@web/core/registry";

// The HR user opens an expired link that their activity asks them to reissue, and
// reissues it from the activity in one click. The Python test
// (tests/test_payout_link_claim_reminders.py) expires the link and checks the new one.
registry.category("web_tour.tours").add("payout_chase_tour", {
    steps: () => [
        {
            content: "The link is expired",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains(Expired)",
        },
        {
            content: "Reissue it from its activity",
            trigger: ".o-mail-Activity:contains(did not claim it) .o-payout-Activity-reissue",
            run: "click",
        },
        {
            content: "The new link is sent, and replaces the expired one",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains(Sent)",
        },
        {
            trigger: ".o_field_widget[name=replaced_link_id] a",
        },
    ],
});
