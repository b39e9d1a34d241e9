/** @odoo-module **/

import { registry } from "@web/core/registry";

// The employee opens the claim page of a link held because they left
// (tests/test_payout_link_guards_hold_claim.py): a page says so, and asks nothing.
registry.category("web_tour.tours").add("payout_hold_tour", {
    steps: () => [
        {
            content: "The link still shows who pays how much",
            trigger: ".o_payout_claim .o_payout_amount",
        },
        {
            content: "The page says the payout is on hold, and whom to contact",
            trigger: ".o_payout_on_hold:contains(This payout is on hold):contains(Contact your HR department)",
        },
        {
            content: "No secret is asked, and nobody can say it is not for them",
            trigger: ".o_payout_claim:not(:has(input[name=secret])):not(:has(#payout_not_for_me))",
        },
    ],
});
