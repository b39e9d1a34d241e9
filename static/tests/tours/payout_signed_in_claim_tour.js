/** @odoo-module **/

import { registry } from "@web/core/registry";
import { accountSteps } from "@hr_payout_link/../tests/tours/payout_claim_tour";

// An employee signed in to the portal claims a payout from "Your Payouts", with no secret.
// The Python test (tests/test_payout_link_claim_signin.py) sends the link and starts the tour
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
        ...accountSteps(),
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
