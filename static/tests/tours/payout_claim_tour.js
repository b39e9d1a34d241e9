/** @odoo-module **/

import { registry } from "@web/core/registry";

// The bank account the employee gives, on the claim page or signed in under /my/payouts
// (payout_signed_in_claim_tour.js).
export const accountSteps = () => [
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
];

// The whole claim of a payout link, as the employee does it, in the employee's language
// (`texts`). The Python test (tests/test_payout_link_claim_tour.py) makes the link's secret "ABCDEFGH".
const claimSteps = (texts) => [
        {
            content: "The link shows who pays how much",
            trigger: ".o_payout_claim .o_payout_amount",
        },
        {
            content: "Type a wrong secret",
            trigger: "input[name=secret]",
            run: "edit WRONG234",
        },
        {
            content: "Send it",
            trigger: "#payout_secret_submit",
            run: "click",
        },
        {
            content: "The page says the secret is wrong",
            trigger: `.o_payout_error:contains(${texts.wrongSecret})`,
        },
        {
            content: "Type the right secret, as people do: lower case, with a space",
            trigger: "input[name=secret]",
            run: "edit abcd efgh",
        },
        {
            content: "Send it",
            trigger: "#payout_secret_submit",
            run: "click",
        },
        ...accountSteps(),
        {
            content: "The payment is on its way",
            trigger: `.o_payout_status .o_payout_on_its_way:contains(${texts.onItsWay}), .o_payout_status .o_payout_paid`,
        },
        {
            content: "The account is shown masked",
            trigger: ".o_payout_account:contains(7890)",
        },
    ];

registry.category("web_tour.tours").add("payout_claim_tour", {
    steps: () => claimSteps({wrongSecret: "This secret is not right", onItsWay: "On its way"}),
});
registry.category("web_tour.tours").add("payout_claim_tour_id", {
    steps: () => claimSteps({wrongSecret: "Kode rahasia ini salah", onItsWay: "Sedang diproses"}),
});

// Someone else received the claim email: they say so, and no secret is asked.
registry.category("web_tour.tours").add("payout_not_for_me_tour", {
    steps: () => [
        {
            content: "The page offers to say the payout is not for me",
            trigger: "#payout_not_for_me",
            run: "click",
        },
        {
            content: "The sender is told, and nobody can claim it any more",
            trigger: ".o_payout_not_for_me",
        },
        {
            content: "No secret is asked",
            trigger: ".o_payout_claim:not(:has(input[name=secret]))",
        },
    ],
});
