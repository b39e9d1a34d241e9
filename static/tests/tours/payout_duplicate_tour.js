/** @odoo-module **/

import { registry } from "@web/core/registry";

// HR sends a batch with a line for an employee already paid a bonus this quarter: Send All
// refuses and names the line, HR confirms the line, then Send All sends the batch.
// The Python test (TestDuplicateGuard.test_duplicate_tour) makes the batch and the earlier
// payout.
registry.category("web_tour.tours").add("payout_duplicate_tour", {
    steps: () => [
        {
            content: "The line of the employee already paid is flagged",
            trigger: ".o_field_widget[name=link_ids] .o_data_row.text-warning:contains(Tour Duplicate A)",
        },
        {
            trigger: ".o_field_widget[name=link_ids] .o_data_row:not(.text-warning):contains(Tour Duplicate B)",
        },
        {
            content: "Send all",
            trigger: "button[name=action_send_all]",
            run: "click",
        },
        {
            content: "Confirm",
            trigger: ".modal button:contains(Ok)",
            run: "click",
        },
        {
            content: "Refused, naming the employee already paid",
            trigger: ".modal:contains(Possible duplicate payouts):contains(Tour Duplicate A)",
        },
        {
            trigger: ".modal button:contains(Close)",
            run: "click",
        },
        {
            content: "Confirm the flagged line",
            trigger: ".o_data_row:contains(Tour Duplicate A) button[name=action_confirm_duplicate]",
            run: "click",
        },
        {
            content: "The flag is gone",
            trigger: ".o_field_widget[name=link_ids] .o_data_row:not(.text-warning):contains(Tour Duplicate A)",
        },
        {
            content: "Send all again",
            trigger: "button[name=action_send_all]",
            run: "click",
        },
        {
            trigger: ".modal button:contains(Ok)",
            run: "click",
        },
        {
            content: "The batch is being sent",
            trigger: ".o_statusbar_status .o_arrow_button_current:contains(Sending)",
        },
    ],
});
