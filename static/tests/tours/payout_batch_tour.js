/** @odoo-module **/

import { registry } from "@web/core/registry";

// A payout batch as HR makes one: new batch, employees added through the wizard, Send All.
// The Python test (tests/test_payout_batch_tour.py) makes the employees and an approval threshold
// under the batch's total, so Send All puts the batch up for approval.
registry.category("web_tour.tours").add("payout_batch_tour", {
    steps: () => [
        {
            content: "Create a batch",
            trigger: ".o_list_button_add",
            run: "click",
        },
        {
            content: "Name it",
            trigger: ".o_field_widget[name=name] input",
            run: "edit Q4 2026 tour commissions",
        },
        {
            content: "Add employees",
            trigger: "button:contains(Add Employees)",
            run: "click",
        },
        {
            content: "Pick the first employee",
            trigger: ".modal .o_field_widget[name=employee_ids] input",
            run: "edit Tour Employee A",
        },
        {
            trigger: ".o-autocomplete--dropdown-item:contains(Tour Employee A)",
            run: "click",
        },
        {
            content: "Pick the second employee",
            trigger: ".modal .o_field_widget[name=employee_ids] input",
            run: "edit Tour Employee B",
        },
        {
            trigger: ".o-autocomplete--dropdown-item:contains(Tour Employee B)",
            run: "click",
        },
        {
            content: "One amount for both",
            trigger: ".modal .o_field_widget[name=amount] input",
            run: "edit 250",
        },
        {
            content: "Create the lines",
            trigger: ".modal button:contains(Create Lines)",
            run: "click",
        },
        {
            content: "The lines are on the batch",
            trigger: ".o_field_widget[name=link_ids] .o_data_row:contains(Tour Employee B)",
        },
        {
            content: "Send all",
            trigger: "button:contains(Send All)",
            run: "click",
        },
        {
            content: "Confirm",
            trigger: ".modal button:contains(Ok)",
            run: "click",
        },
        {
            content: "Over the threshold, the batch waits for approval",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains(To Approve)",
        },
    ],
});
