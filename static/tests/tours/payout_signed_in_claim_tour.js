/** @odoo-module **/

import { registry } from "@web/core/registry";

// An employee signed in to the portal claims a payout from "Your Payouts", with no secret.
// The Python test (tests/test_signed_in_claim.py) sends the link and starts the tour
// signed in as the employee's portal user, at /my/payouts.
registry.category("web_tour.tours").add("payout_signed_in_claim_tour", {
    steps: () => [
        {
            content: "The payout is listed, to claim",
            trigger: ".o_payout_employee_status:contains(To claim)",
        },
        {
            content: "Open it",
            trigger: "td a[href^='/my/payouts/']",
            run: "click",
        },
        {
            content: "The page shows who pays how much",
            trigger: ".o_payout_portal_claim .o_payout_amount",
        },
        {
            content: "No secret is asked",
            trigger: ".o_payout_portal_claim:not(:has(input[name=secret]))",
        },
        {
            content: "Choose the bank",
            trigger: "select[name=bank_id]",
            run: "selectByLabel BCA",
        },
        {
            content: "Type the account number",
            trigger: "input[name=account_number]",
            run: "edit 1234567890",
        },
        {
            content: "Type the account holder",
            trigger: "input[name=account_holder]",
            run: "edit Dewi Lestari",
        },
        {
            content: "Confirm",
            trigger: "#payout_account_submit",
            run: "click",
        },
        {
            content: "The payment is on its way",
            trigger: ".o_payout_status .o_payout_on_its_way:contains(On its way)",
        },
        {
            content: "The account is shown masked",
            trigger: ".o_payout_account:contains(7890)",
        },
    ],
});
